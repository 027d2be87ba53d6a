import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { hostRegion } from '../lib/config/git-host.ts';
import { authenticateGit } from '../lib/sandbox/codecommit-auth.ts';
import type { TlsIdentity } from '../lib/sandbox/https-stand-in.ts';
import { listenOnLoopback } from '../lib/sandbox/listen.ts';

export interface GitServerOptions {
  pki: TlsIdentity;
  /** Directory holding `<name>.git` bare repositories (see repos.ts). */
  projectRoot: string;
  /**
   * The region this "CodeCommit" checks signatures for when the host names none (127.0.0.1, `*.canary.test`). A
   * CodeCommit host name (`git-codecommit[-fips].<region>.…`, `vpce-….git-codecommit.<region>.vpce.…`) is checked for
   * the region it names, as the real service in that region does: one server serves every region's names.
   */
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

const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})(\/info\/refs|\/git-upload-pack)$/;

/**
 * The CodeCommit oracle: CodeCommit's URL layout and password check (lib/sandbox/codecommit-auth.ts, as the
 * in-process stand-in checks it) in front of the real `git http-backend` (CGI, one process per request), so
 * both the probe and real `git` (protocol v0 and v2) work, against real repositories.
 */
export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const children = new Set<ChildProcess>();
  const log: GitServerLogEntry[] = [];
  let requests = 0;

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

  const server = createServer({ key: options.pki.keyPem, cert: options.pki.certPem }, (req, res) => {
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
    const region = hostRegion(req.headers.host ?? '') ?? options.region;
    authenticateGit(req.headers, repo, { ...options, region }).then(
      (auth) => {
        if (!auth.ok) {
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
  });
  const listening = await listenOnLoopback(server, () => {
    for (const child of children) child.kill();
  });
  return {
    ...listening,
    get requests() {
      return requests;
    },
    log,
  };
}
