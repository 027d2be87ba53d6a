/**
 * A local STS endpoint: AssumeRole and GetCallerIdentity in the real wire format (AWS query protocol: a form
 * POST in, XML out), so `@aws-sdk/client-sts` parses its answers exactly as it parses AWS's. Requests must be
 * SigV4-signed with a key the credential store knows; AssumeRole issues fresh random credentials.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialStore } from './credentials.ts';
import type { FaultSwitch } from './faults.ts';
import { listenOnLoopback } from './listen.ts';
import type { DemoPki } from './pki.ts';
import { verifySigV4 } from './sigv4.ts';

export interface StsServerOptions {
  pki: DemoPki;
  region: string;
  credentials: CredentialStore;
  /** Role ARN → whether the caller may assume it; an unknown role is AccessDenied, as for a missing trust policy. */
  roles: readonly string[];
  /** The account of the source credentials (the probe's own account). */
  callerAccount: string;
  faults: FaultSwitch;
}

/** One handled request; never holds a secret. */
export interface StsLogEntry {
  action: string;
  status: number;
  accessKeyId?: string;
}

export interface DemoStsServer {
  port: number;
  log: StsLogEntry[];
  stop(): Promise<void>;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const MAX_BODY_BYTES = 64 * 1024;

const xmlEscape = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

const xml = (status: number, body: string) => ({ status, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n` });

function errorXml(status: number, code: string, message: string) {
  return xml(
    status,
    `<ErrorResponse xmlns="${NAMESPACE}">
  <Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>`,
  );
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/**
 * Starts the endpoint on 127.0.0.1 (a random port). The switch: `hang` reads the request and never answers,
 * `deny` answers AssumeRole with 403 AccessDenied, `slow` answers late.
 *
 * @example
 * const sts = await startStsServer({ pki, region, credentials, roles: [roleArn], callerAccount, faults: faults.sts });
 * // https://sts.demo.test:${sts.port} once DNS says sts.demo.test is 127.0.0.1
 */
export async function startStsServer(options: StsServerOptions): Promise<DemoStsServer> {
  const log: StsLogEntry[] = [];

  function handle(params: URLSearchParams, accessKeyId: string, denied: boolean) {
    const action = params.get('Action') ?? '';
    if (action === 'GetCallerIdentity') {
      return xml(
        200,
        `<GetCallerIdentityResponse xmlns="${NAMESPACE}">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::${options.callerAccount}:user/codecommit-canary-demo</Arn>
    <UserId>${accessKeyId}</UserId>
    <Account>${options.callerAccount}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`,
      );
    }
    if (action !== 'AssumeRole') return errorXml(400, 'InvalidAction', `Could not find operation ${action}`);
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    const caller = `arn:aws:iam::${options.callerAccount}:user/codecommit-canary-demo`;
    // `deny` reads as a trust policy that no longer lets the probe in: what AWS says then.
    if (denied || !options.roles.includes(roleArn)) {
      return errorXml(
        403,
        'AccessDenied',
        `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const duration = Number(params.get('DurationSeconds') ?? 3600);
    const issued = options.credentials.issue(Number.isFinite(duration) ? duration : 3600);
    const [, , , , account = '', resource = ''] = roleArn.split(':');
    const roleName = resource.split('/').pop() ?? '';
    return xml(
      200,
      `<AssumeRoleResponse xmlns="${NAMESPACE}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROADEMOCANARY00000001:${xmlEscape(sessionName)}</AssumedRoleId>
      <Arn>arn:aws:sts::${account}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(sessionName)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>
      <SessionToken>${issued.sessionToken}</SessionToken>
      <Expiration>${issued.expiration.toISOString()}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`,
    );
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    const entry: StsLogEntry = { action: params.get('Action') ?? '', status: 0 };
    log.push(entry);
    if (options.faults.fault === 'hang') {
      options.faults.hold(res);
      return;
    }
    const check = verifySigV4(
      { method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body },
      { region: options.region, service: 'sts', secretFor: (id) => options.credentials.secretFor(id) },
    );
    let answer: { status: number; body: string };
    if (req.method !== 'POST') answer = errorXml(405, 'MethodNotAllowed', 'Use POST');
    else if (!check.ok) answer = errorXml(403, check.code, check.message);
    else {
      entry.accessKeyId = check.accessKeyId;
      answer = handle(params, check.accessKeyId, options.faults.fault === 'deny');
    }
    entry.status = answer.status;
    options.faults.answer(() => {
      if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
    });
  }

  const { port, stop } = await listenOnLoopback(options.pki, options.faults, (req, res) => {
    onRequest(req, res).catch(() => res.destroy());
  });
  return { port, log, stop };
}
