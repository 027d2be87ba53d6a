/**
 * A local git-codecommit endpoint: CodeCommit's URL layout (`/v1/repos/<name>`) and its SigV4-derived Basic
 * password, checked with the same `gitPassword` the probe signs with (lib/steps/git/password.ts), in front of an
 * in-memory repository. Only what `git ls-remote` needs: the upload-pack ref advertisement.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { repositoryPath } from '../config/endpoints.ts';
import { gitPassword } from '../steps/git/password.ts';
import type { CredentialStore } from './credentials.ts';
import type { FaultSwitch } from './faults.ts';
import { listenOnLoopback } from './listen.ts';
import type { DemoPki } from './pki.ts';
import { advertisement, type DemoRepository } from './repository.ts';

export interface GitServerOptions {
  pki: DemoPki;
  /** The region this "CodeCommit" signs for, as the real service does for its own region. */
  region: string;
  credentials: CredentialStore;
  repositories: readonly DemoRepository[];
  faults: FaultSwitch;
}

/** One handled request; never holds a secret. */
export interface GitLogEntry {
  path: string;
  status: number;
  accessKeyId?: string;
}

export interface DemoGitServer {
  port: number;
  log: GitLogEntry[];
  stop(): Promise<void>;
}

const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})\/info\/refs$/;
const MAX_SKEW_MS = 15 * 60_000;

/** `YYYYMMDDTHHMMSS` (UTC) → Date, or undefined. */
function parseTimestamp(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

const sameText = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * The access key id when `Authorization` carries a valid CodeCommit password for `repository`, else undefined.
 * Username `AccessKeyId%SessionToken`, password `<timestamp>Z<signature>` over `GIT`, the path and the bare host.
 */
function authenticate(req: IncomingMessage, repository: string, options: GitServerOptions): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  const decoded = Buffer.from(m?.[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const accessKeyId = decoded.slice(0, colon).split('%')[0] ?? '';
  const password = decoded.slice(colon + 1);
  const at = parseTimestamp(password.split('Z')[0] ?? '');
  if (!at || Math.abs(Date.now() - at.getTime()) > MAX_SKEW_MS) return undefined;
  const secret = options.credentials.secretFor(accessKeyId);
  if (!secret) return undefined;
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
  const expected = gitPassword({ secretAccessKey: secret }, options.region, hostname, repositoryPath(repository), at);
  return sameText(password, expected) ? accessKeyId : undefined;
}

/**
 * Starts the endpoint on 127.0.0.1 (a random port). Wrong password → 403, unknown repository → 404 (after auth,
 * as CodeCommit). The switch: `hang` never answers, `deny` answers 403 even to a valid password (a role without
 * codecommit:GitPull), `slow` answers late.
 *
 * @example
 * const git = await startGitServer({ pki, region, credentials, repositories: [DEMO_REPOSITORY], faults: faults.git });
 */
export async function startGitServer(options: GitServerOptions): Promise<DemoGitServer> {
  const log: GitLogEntry[] = [];

  function answer(req: IncomingMessage, entry: GitLogEntry): { status: number; type: string; body: Buffer | string } {
    const url = new URL(req.url ?? '/', 'https://placeholder');
    const name = ROUTE.exec(url.pathname)?.[1];
    if (!name || req.method !== 'GET' || url.searchParams.get('service') !== 'git-upload-pack') {
      return { status: 404, type: 'text/plain', body: 'not found\n' };
    }
    if (!req.headers.authorization) return { status: 401, type: 'text/plain', body: 'authentication required\n' };
    const accessKeyId = authenticate(req, name, options);
    if (!accessKeyId || options.faults.fault === 'deny')
      return { status: 403, type: 'text/plain', body: 'forbidden\n' };
    entry.accessKeyId = accessKeyId;
    const repository = options.repositories.find((r) => r.name === name);
    if (!repository) return { status: 404, type: 'text/plain', body: 'repository not found\n' };
    return { status: 200, type: 'application/x-git-upload-pack-advertisement', body: advertisement(repository) };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse) {
    req.resume();
    const entry: GitLogEntry = { path: new URL(req.url ?? '/', 'https://placeholder').pathname, status: 0 };
    log.push(entry);
    if (options.faults.fault === 'hang') {
      options.faults.hold(res);
      return;
    }
    const { status, type, body } = answer(req, entry);
    entry.status = status;
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-cache' };
    if (status === 401) headers['www-authenticate'] = 'Basic realm="AWS CodeCommit"';
    options.faults.answer(() => {
      if (!res.destroyed) res.writeHead(status, headers).end(body);
    });
  }

  const { port, stop } = await listenOnLoopback(options.pki, options.faults, onRequest);
  return { port, log, stop };
}
