import { type ChildProcess, spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { gitPassword } from '../../lib/steps/git/password.ts';
import type { TestPki } from './pki.ts';

export interface GitServerOptions {
  pki: TestPki;
  /** Directory holding `<name>.git` bare repositories (see repos.ts). */
  projectRoot: string;
  /** The region this "CodeCommit" signs for, as the real service does for its own region. */
  region: string;
  /** Secret key for an access key id (tests pass moto's `secretFor`); undefined = unknown key. */
  secretFor: (accessKeyId: string) => Promise<string | undefined> | string | undefined;
  /** Server clock, shiftable to test the 15-minute window. */
  now?: () => Date;
}

/** One handled request; never holds credentials. */
export interface GitServerLogEntry {
  method: string;
  path: string;
  status: number;
  /** The `Git-Protocol` request header (`version=2` when the client asked for v2). */
  gitProtocol?: string;
  accessKeyId?: string;
}

export interface GitServer {
  /** `https://127.0.0.1:<port>`; repositories are at `${url}/v1/repos/<name>`. */
  url: string;
  port: number;
  readonly requests: number;
  log: GitServerLogEntry[];
  stop(): Promise<void>;
}

const MAX_SKEW_MS = 15 * 60_000;
const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})(\/info\/refs|\/git-upload-pack)$/;

/** `YYYYMMDDTHHMMSS` → Date (UTC), or undefined when malformed. */
function parseTimestamp(ts: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (!m) return undefined;
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

const sameText = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Host header without the port (the AWS CLI signs the bare hostname); handles `[::1]:443`. */
const hostnameOf = (host: string): string =>
  host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');

/**
 * A CodeCommit stand-in: CodeCommit's URL layout and SigV4-derived Basic auth in front of the real
 * `git http-backend` (CGI, one process per request), so both hand-written clients and real `git` work.
 */
export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const now = options.now ?? (() => new Date());
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  const log: GitServerLogEntry[] = [];
  let requests = 0;

  /** Returns the access key id when the request carries a valid CodeCommit password, else the status to send. */
  async function authenticate(
    req: IncomingMessage,
    repo: string,
  ): Promise<{ accessKeyId: string } | { status: number }> {
    const header = req.headers.authorization;
    if (!header) return { status: 401 };
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
    if (!m?.[1]) return { status: 403 };
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { status: 403 };
    // username = AccessKeyId[%SessionToken]; the token is not part of the signature.
    const accessKeyId = decoded.slice(0, colon).split('%')[0] ?? '';
    const password = decoded.slice(colon + 1);
    const at = parseTimestamp(password.split('Z')[0] ?? '');
    if (!at || Math.abs(now().getTime() - at.getTime()) > MAX_SKEW_MS) return { status: 403 };
    const secret = accessKeyId ? await options.secretFor(accessKeyId) : undefined;
    if (!secret) return { status: 403 };
    const hostname = hostnameOf(req.headers.host ?? '');
    const expected = gitPassword({ secretAccessKey: secret }, options.region, hostname, `/v1/repos/${repo}`, at);
    return sameText(password, expected) ? { accessKeyId } : { status: 403 };
  }

  /** Runs `git http-backend` as CGI for this request and relays its answer. */
  function cgi(req: IncomingMessage, res: ServerResponse, entry: GitServerLogEntry, repo: string, suffix: string) {
    const user = entry.accessKeyId ?? '';
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      // The explicit `.git` suffix makes http-backend open exactly the directory checked below.
      PATH_INFO: `/${repo}.git${suffix}`,
      QUERY_STRING: new URL(req.url ?? '/', 'https://placeholder').search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      AUTH_TYPE: 'Basic',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    // git gzips large POST bodies; http-backend inflates them when told.
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('cannot run git http-backend (is git installed?)\n');
    });
    child.stderr.resume();
    child.stdin.on('error', () => {}); // the backend may exit before reading everything
    req.pipe(child.stdin);
    res.on('close', () => child.kill());

    // CGI output: headers (with `Status:` unless 200), blank line, body.
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf('\r\n\r\n');
      const lf = head.indexOf('\n\n');
      const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
      if (end < 0) return;
      child.stdout.off('data', onData);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      entry.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(end));
      child.stdout.pipe(res);
    };
    child.stdout.on('data', onData);
    child.stdout.on('end', () => {
      if (!res.headersSent) res.writeHead(502).end('git http-backend sent no headers\n');
    });
  }

  const server = createServer(
    { key: readFileSync(options.pki.keyFile), cert: readFileSync(options.pki.certFile) },
    (req, res) => {
      requests++;
      const url = new URL(req.url ?? '/', 'https://placeholder');
      const entry: GitServerLogEntry = { method: req.method ?? '', path: url.pathname, status: 0 };
      if (req.headers['git-protocol']) entry.gitProtocol = String(req.headers['git-protocol']);
      log.push(entry);
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        entry.status = status;
        req.resume();
        res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
      };
      const route = ROUTE.exec(url.pathname);
      const repo = route?.[1];
      const suffix = route?.[2];
      // Only what `ls-remote` needs: the upload-pack advertisement (GET) and upload-pack itself (POST, protocol v2).
      const allowed =
        (suffix === '/info/refs' && req.method === 'GET' && url.searchParams.get('service') === 'git-upload-pack') ||
        (suffix === '/git-upload-pack' && req.method === 'POST');
      if (!repo || !suffix || !allowed) return send(404, 'not found\n');
      authenticate(req, repo).then(
        (auth) => {
          if ('status' in auth) {
            const challenge = auth.status === 401 ? { 'www-authenticate': 'Basic realm="AWS CodeCommit"' } : undefined;
            return send(auth.status, auth.status === 401 ? 'authentication required\n' : 'forbidden\n', challenge);
          }
          entry.accessKeyId = auth.accessKeyId;
          // Check before spawning: CodeCommit answers 404 for a repository it does not have.
          if (!existsSync(join(options.projectRoot, `${repo}.git`))) return send(404, 'repository not found\n');
          cgi(req, res, entry, repo, suffix);
        },
        (error: unknown) => send(500, `auth lookup failed: ${String(error)}\n`),
      );
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
    log,
    async stop() {
      for (const child of children) child.kill();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
