/**
 * Light stand-ins for STS and CodeCommit, for runs counted in hundreds or thousands (warm reuse, load), where
 * moto (~75 ms per AssumeRole, Python) and `git http-backend` (a process per request, secrets looked up in moto's
 * state dump) would make the test minutes long. They speak the same wire formats the real ones do, so the
 * client side (the SDK's STS client and XML parser, the traced agents, the pkt-line parser) runs unchanged:
 * - STS: `AssumeRole` over HTTPS, a fresh key, secret and session token per call, in STS's XML;
 * - git: `GET /v1/repos/<repo>/info/refs?service=git-upload-pack` checking CodeCommit's SigV4-derived Basic
 *   password (as test/support/git-server.ts does) and answering with an advertisement captured from real git.
 * Both count the requests in flight (one gauge may be shared), and may wait before answering, to stand in for
 * a network round trip.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { type AwsCredentials, gitPassword } from '../../lib/steps/git/password.ts';
import type { TestPki } from './pki.ts';

/** Requests being answered now, and the most at once. */
export interface Gauge {
  current: number;
  max: number;
}

export const newGauge = (): Gauge => ({ current: 0, max: 0 });

interface StubOptions {
  pki: TestPki;
  /** Wait this long before answering (a stand-in for the network). Default 0. */
  delayMs?: number;
  /** Shared between stubs, to count what a whole run has in flight. Default: the stub's own. */
  gauge?: Gauge;
}

export interface StubServer {
  url: string;
  port: number;
  readonly requests: number;
  gauge: Gauge;
  stop(): Promise<void>;
}

/** HTTPS on 127.0.0.1 with the test PKI's certificate; counts requests in flight; stop() ends kept-alive sockets. */
async function serve(
  options: StubOptions,
  handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => unknown,
): Promise<StubServer> {
  const gauge = options.gauge ?? newGauge();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;
  const server = createServer(
    { key: readFileSync(options.pki.keyFile), cert: readFileSync(options.pki.certFile) },
    (req, res) => {
      requests++;
      gauge.current++;
      gauge.max = Math.max(gauge.max, gauge.current);
      res.once('close', () => {
        gauge.current--;
      });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = () => {
          Promise.resolve(handle(req, Buffer.concat(chunks), res)).catch((error: unknown) => {
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`stub failed: ${String(error)}\n`);
          });
        };
        if (!options.delayMs) return answer();
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, options.delayMs);
        timers.add(timer);
      });
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    gauge,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const keyId = (prefix: string) =>
  prefix + Array.from(randomBytes(16), (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');

export interface StsStub extends StubServer {
  /** The secret of a key this stub issued (the last `remember` keys are kept). */
  secretFor(accessKeyId: string): string | undefined;
  /** The credentials issued since the last call (for secret scans); then forgets them. */
  takeIssued(): AwsCredentials[];
}

/**
 * AssumeRole over HTTPS: checks that the request is a signed AssumeRole, answers in STS's XML with fresh
 * credentials shaped like real ones (ASIA key id, 40-character secret, a long session token).
 */
export async function startStsStub(options: StubOptions & { remember?: number }): Promise<StsStub> {
  const remember = options.remember ?? 256;
  const secrets = new Map<string, string>();
  let issued: AwsCredentials[] = [];
  const server = await serve(options, (req, body, res) => {
    const form = new URLSearchParams(body.toString('utf8'));
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end(stsError('Sender', 'MissingAuthenticationToken', 'Request is missing Authentication Token'));
      return;
    }
    if (form.get('Action') !== 'AssumeRole' || !form.get('RoleArn') || !form.get('RoleSessionName')) {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(stsError('Sender', 'InvalidAction', `unsupported: ${form.get('Action')}`));
      return;
    }
    const credentials = {
      accessKeyId: keyId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(300).toString('base64')}`,
    };
    secrets.set(credentials.accessKeyId, credentials.secretAccessKey);
    if (secrets.size > remember) secrets.delete(secrets.keys().next().value as string);
    issued.push(credentials);
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(assumeRoleXml(credentials, form.get('RoleArn') ?? '', form.get('RoleSessionName') ?? ''));
  });
  return {
    ...server,
    get requests() {
      return server.requests;
    },
    secretFor: (accessKeyId) => secrets.get(accessKeyId),
    takeIssued() {
      const taken = issued;
      issued = [];
      return taken;
    },
  };
}

/** STS's answer to AssumeRole (awsQuery XML), as the service and moto send it. */
export function assumeRoleXml(credentials: Required<AwsCredentials>, roleArn: string, session: string): string {
  const [, , , , account = '000000000000', resource = 'role/unknown'] = roleArn.split(':');
  const roleName = resource.split('/').at(-1);
  const expiration = new Date(Date.now() + 15 * 60_000).toISOString();
  return (
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
    `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLEROLEID0001:${session}</AssumedRoleId>` +
    `<Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${session}</Arn></AssumedRoleUser>` +
    `<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`
  );
}

/** An STS error document (awsQuery), as STS sends with a 4xx/5xx. */
export const stsError = (type: 'Sender' | 'Receiver', code: string, message: string): string =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code>` +
  `<Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;

const ADVERTISEMENTS = join(import.meta.dirname, '../fixtures/advertisements');
const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})\/info\/refs$/;

/** What `git ls-remote` prints for the advertisement the git stub serves (captured with real git). */
export const GIT_STUB_REFS = readFileSync(join(ADVERTISEMENTS, 'branches-tags.ls-remote.txt'), 'utf8')
  .split('\n')
  .filter(Boolean).length;

/**
 * CodeCommit's ref advertisement for any repository in `repositories`, behind CodeCommit's password check
 * (401 without credentials, 403 for a wrong password or unknown key, 404 for another repository).
 */
export async function startGitStub(
  options: StubOptions & {
    region: string;
    repositories: readonly string[];
    secretFor: (accessKeyId: string) => string | undefined;
  },
): Promise<StubServer> {
  const advertisement = readFileSync(join(ADVERTISEMENTS, 'branches-tags.bin'));
  return serve(options, (req, _body, res) => {
    const url = new URL(req.url ?? '/', 'https://placeholder');
    const repo = ROUTE.exec(url.pathname)?.[1];
    const send = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    if (!repo || req.method !== 'GET' || url.searchParams.get('service') !== 'git-upload-pack') {
      return send(404, 'not found\n');
    }
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!basic) return send(401, 'authentication required\n');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const accessKeyId = decoded.slice(0, Math.max(0, colon)).split('%')[0] ?? '';
    const password = decoded.slice(colon + 1);
    const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(password);
    const secret = options.secretFor(accessKeyId);
    if (colon < 0 || !stamp || !secret) return send(403, 'forbidden\n');
    const at = new Date(`${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z`);
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const expected = gitPassword({ secretAccessKey: secret }, options.region, host, `/v1/repos/${repo}`, at);
    const same = expected.length === password.length && timingSafeEqual(Buffer.from(expected), Buffer.from(password));
    if (!same || Math.abs(Date.now() - at.getTime()) > 15 * 60_000) return send(403, 'forbidden\n');
    if (!options.repositories.includes(repo)) return send(404, 'repository not found\n');
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' });
    res.end(advertisement);
  });
}
