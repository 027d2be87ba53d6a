/**
 * An STS stand-in: AssumeRole and GetCallerIdentity over HTTPS in the real wire format. Requests must be
 * SigV4-signed (checked as the service does, sigv4.ts) with a key the credential store knows; AssumeRole issues
 * fresh random credentials. The fault switch: `hang` reads the request and never answers, `deny` answers
 * AssumeRole with 403 AccessDenied (a trust policy that no longer lets the caller in), `slow` answers late.
 */
import { randomUUID } from 'node:crypto';
import type { CredentialStore } from './credentials.ts';
import { FaultSwitch } from './fault-switch.ts';
import { type Answer, type StandInOptions, type StandInServer, startStandIn } from './https-stand-in.ts';
import { verifySigV4 } from './sigv4.ts';
import { assumeRoleXml, callerIdentityXml, stsErrorXml } from './sts-xml.ts';

export interface StsStandInOptions extends StandInOptions {
  /** The region this endpoint signs for (`us-east-1` for the global sts.amazonaws.com). */
  region: string;
  credentials: CredentialStore;
  /** The roles that may be assumed (others: AccessDenied, as for a missing trust policy). Default: any. */
  roles?: readonly string[];
  /** The account of the callers' source keys. Default 222222222222. */
  callerAccount?: string;
  /** Sees each signed request's form as received (no secret in it): how a test reads back what a client sent. */
  onRequest?: (request: { accessKeyId: string; params: URLSearchParams }) => void;
}

export interface StsStandIn extends StandInServer {
  credentials: CredentialStore;
}

const xml = (status: number, body: string, accessKeyId?: string): Answer => ({
  status,
  headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
  body,
  ...(accessKeyId ? { accessKeyId } : {}),
});
const senderError = (status: number, code: string, message: string) =>
  xml(status, stsErrorXml('Sender', code, message));

/**
 * Starts the endpoint on 127.0.0.1 (a random port).
 *
 * @example
 * const sts = await startStsStandIn({ tls: pki, region: 'ap-northeast-1', credentials: new CredentialStore({ sources }) });
 * // https://sts.demo.test:${sts.port} once DNS says sts.demo.test is 127.0.0.1
 */
export async function startStsStandIn(options: StsStandInOptions): Promise<StsStandIn> {
  const faults = options.faults ?? new FaultSwitch('sts');
  const callerAccount = options.callerAccount ?? '222222222222';
  const caller = `arn:aws:iam::${callerAccount}:user/codecommit-canary-sandbox`;
  const server = await startStandIn({ ...options, faults }, (req, body) => {
    if (req.method !== 'POST') return senderError(405, 'MethodNotAllowed', 'Use POST');
    const check = verifySigV4(
      { method: req.method, url: req.url ?? '/', headers: req.headers, body },
      { region: options.region, service: 'sts', secretFor: (id) => options.credentials.secretFor(id) },
    );
    if (!check.ok) return senderError(403, check.code, check.message);
    const params = new URLSearchParams(body.toString('utf8'));
    options.onRequest?.({ accessKeyId: check.accessKeyId, params });
    const action = params.get('Action') ?? '';
    if (action === 'GetCallerIdentity') {
      const identity = { account: callerAccount, arn: caller, userId: check.accessKeyId };
      return xml(200, callerIdentityXml(identity), check.accessKeyId);
    }
    if (action !== 'AssumeRole') return senderError(400, 'InvalidAction', `Could not find operation ${action}`);
    const roleArn = params.get('RoleArn') ?? '';
    const session = params.get('RoleSessionName') ?? '';
    if (!roleArn || !session) return senderError(400, 'ValidationError', 'RoleArn and RoleSessionName are required');
    if (faults.fault === 'deny' || (options.roles && !options.roles.includes(roleArn))) {
      const message = `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
      return { ...senderError(403, 'AccessDenied', message), accessKeyId: check.accessKeyId };
    }
    const duration = Number(params.get('DurationSeconds') ?? 3600);
    const issued = options.credentials.issue(Number.isFinite(duration) ? duration : 3600);
    return xml(200, assumeRoleXml(issued, roleArn, session), check.accessKeyId);
  });
  return Object.assign(server, { credentials: options.credentials });
}
