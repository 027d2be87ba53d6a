/**
 * Endpoints that misbehave, one way each, for the failure tests and the fault matrix: a TCP connect that hangs, a
 * refused port, a TLS handshake that never ends, an untrusted certificate, and an HTTPS server (with the sandbox
 * CA's certificate) answering whatever path or method with a status, garbage, a trickle, an endless body, a reset
 * or nothing at all; and a proxy whose answers stall part-way. Node alone, except `connectHang` (python3: Node
 * cannot leave a connection unaccepted).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import type { TlsIdentity } from './https-stand-in.ts';
import { freePort, type Listening, LOOPBACK, listenOnLoopback } from './listen.ts';
import { selfSignedIdentity } from './pki.ts';

/** Something on 127.0.0.1 that misbehaves; `url` is `https://127.0.0.1:<port>`. */
export type FaultEndpoint = Listening;

const endpoint = (port: number, stop: () => Promise<void>): FaultEndpoint => ({
  host: LOOPBACK,
  port,
  url: `https://${LOOPBACK}:${port}`,
  stop,
});

// listen(0) and never accept; a few non-blocking connects fill the accept queue, so the kernel drops any further
// SYN and a client's connect() neither succeeds nor fails (until its own timeout). Exits when stdin closes.
const CONNECT_HANG_PY = `
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
s.bind((host, port))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(s.family)
    c.setblocking(False)
    try:
        c.connect((host, port))
    except BlockingIOError:
        pass
    fill.append(c)
print(port, flush=True)
sys.stdin.read()
`;

/** A port where TCP connect hangs (the "security group drops packets" fault). Needs python3. */
export async function connectHang(): Promise<FaultEndpoint> {
  const { port, stop } = await connectHangAt(LOOPBACK, 0);
  return endpoint(port, stop);
}

/** connectHang on `host` (127.0.0.x, ::1) and `port` (0: any free one). */
export function connectHangAt(host: string, port: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn('python3', ['-c', CONNECT_HANG_PY, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin.end();
    });
  return new Promise((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`python3 is needed for connectHang (apt-get install python3): ${error}`)),
    );
    child.stdout.once('data', (data: Buffer) => resolve({ port: Number(String(data).trim()), stop }));
    child.once('exit', (code) => reject(new Error(`connectHang helper exited early (${code})`)));
  });
}

/** A port nobody listens on: connect gets ECONNREFUSED. */
export async function refusedPort(): Promise<FaultEndpoint> {
  return endpoint(await freePort(), async () => {});
}

/** TCP accepts, then nothing: the TLS handshake never completes. */
export async function tlsHang(): Promise<FaultEndpoint> {
  return listenOnLoopback(createNetServer((socket) => socket.resume()));
}

export type FaultMode =
  /** Reads the request, never answers. */
  | { headersHang: true }
  | { status: number; body?: string | Buffer; headers?: Record<string, string> }
  /** 200 with the content type the path expects and bytes that are no valid pkt-line nor XML. */
  | { garbage: true }
  /** 200, headers at once, then `chunk` every `intervalMs`, forever. */
  | { trickle: { intervalMs: number; chunk: string | Buffer } }
  /** 200, body as fast as the client reads, forever. */
  | { endless: true }
  /** 200, headers and `n` body bytes, then a TCP reset. */
  | { resetAfterBytes: number };

export interface FaultServer extends FaultEndpoint {
  readonly requests: number;
  /** Applies to the next requests (e.g. fail, then recover). */
  setMode(mode: FaultMode): void;
}

/** The content type a real server sends for this path, so only the body or status is wrong. */
function contentType(req: IncomingMessage): string {
  const url = req.url ?? '';
  if (url.includes('/info/refs')) return 'application/x-git-upload-pack-advertisement';
  if (url.includes('git-upload-pack')) return 'application/x-git-upload-pack-result';
  return 'text/xml'; // STS
}

/**
 * HTTPS with a sandbox certificate that misbehaves as `mode` says, whatever the path or method (STS or git).
 *
 * @example
 * const denied = await faultServer(pki, { status: 403, body: 'denied' }); // target.gitEndpoint = denied.url
 */
export async function faultServer(tls: TlsIdentity, initial: FaultMode): Promise<FaultServer> {
  let mode = initial;
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  // Raw TCP sockets by client port: a TLS socket cannot be reset itself, its underlying TCP socket can.
  const raw = new Map<number, Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    req.resume(); // drain request bodies (STS POSTs) so the client is never stuck sending
    const m = mode;
    const type = contentType(req);
    if ('headersHang' in m) return;
    if ('status' in m) {
      res.writeHead(m.status, { 'content-type': 'text/plain', ...m.headers }).end(m.body ?? '');
    } else if ('garbage' in m) {
      const body = randomBytes(512);
      body[0] = 0xff; // never a hex digit, so never a pkt-line length
      res.writeHead(200, { 'content-type': type }).end(body);
    } else if ('trickle' in m) {
      res.writeHead(200, { 'content-type': type });
      res.flushHeaders();
      const timer = setInterval(() => res.write(m.trickle.chunk), m.trickle.intervalMs);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    } else if ('endless' in m) {
      res.writeHead(200, { 'content-type': type });
      const block = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        let more = true;
        while (more && !res.destroyed) more = res.write(block);
      };
      res.on('drain', pump);
      pump();
    } else {
      res.writeHead(200, { 'content-type': type });
      res.flushHeaders();
      const reset = () => {
        // Let the written bytes reach the client before the RST discards the send queue.
        const timer = setTimeout(() => {
          timers.delete(timer);
          raw.get(req.socket.remotePort ?? -1)?.resetAndDestroy();
        }, 50);
        timers.add(timer);
      };
      // A pkt-line header promising more than is sent: the body is unfinished, never complete-but-empty.
      if (m.resetAfterBytes > 0) res.write(Buffer.from('0fff'.padEnd(m.resetAfterBytes, 'a')), reset);
      else reset();
    }
  };

  const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handle);
  server.on('connection', (socket: Socket) => {
    const port = socket.remotePort ?? -1;
    raw.set(port, socket);
    socket.on('close', () => raw.delete(port));
  });
  const listening = await listenOnLoopback(server, () => {
    for (const timer of timers) clearTimeout(timer);
  });
  return {
    ...listening,
    get requests() {
      return requests;
    },
    setMode(next) {
      mode = next;
    },
  };
}

/** HTTPS whose certificate covers localhost and 127.0.0.1 but signed itself: verification must fail. */
export function untrustedTls(mode: FaultMode = { status: 200, body: 'ok' }): Promise<FaultServer> {
  return faultServer(selfSignedIdentity({ names: ['localhost'], ips: [LOOPBACK] }), mode);
}

/** A proxy that stops passing the server's bytes part-way; `connections` counts the connections it took. */
export interface StallingProxy extends FaultEndpoint {
  readonly connections: number;
}

/**
 * A TCP proxy on 127.0.0.1 to `upstream` that passes every byte the client sends but, on each connection, only
 * the first `passBytes` bytes the server sends: then nothing more, and the connection stays open (a PMTU
 * blackhole or a stuck middlebox: small answers pass, a large transfer stalls). TLS passes through untouched, so
 * the client still verifies the upstream's certificate.
 *
 * @example
 * const proxy = await stallingProxy({ host: '127.0.0.1', port: git.port }, 64 * 1024);
 * // ls-remote through `https://git.canary.test:${proxy.port}` passes; a fetch of a larger pack stalls
 */
export async function stallingProxy(
  upstream: { host: string; port: number },
  passBytes: number,
): Promise<StallingProxy> {
  const upstreams = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((client) => {
    connections++;
    const origin = connect(upstream.port, upstream.host);
    upstreams.add(origin);
    let passed = 0;
    client.on('error', () => origin.destroy());
    client.on('close', () => origin.destroy());
    origin.on('error', () => client.destroy());
    origin.on('close', () => upstreams.delete(origin));
    // Before the stall the server's end reaches the client; after it the client sees nothing more.
    origin.on('end', () => passed < passBytes && client.end());
    client.pipe(origin);
    origin.on('data', (chunk: Buffer) => {
      const room = passBytes - passed;
      passed += Math.min(room, chunk.length);
      client.write(room >= chunk.length ? chunk : chunk.subarray(0, room));
      // Stop reading: the server's sends back up, as they would behind a path that drops them.
      if (passed >= passBytes) origin.pause();
    });
  });
  const listening = await listenOnLoopback(server, () => {
    for (const origin of upstreams) origin.destroy();
  });
  return {
    ...listening,
    get connections() {
      return connections;
    },
  };
}

/** The ways an endpoint breaks other than an HTTP status, each made one way for every test that starts it. */
export const NETWORK_FAULTS = [
  'connect-hang',
  'refused',
  'tls-hang',
  'untrusted',
  'headers-hang',
  'trickle',
  'garbage',
  'endless',
  'reset',
] as const;
export type NetworkFault = (typeof NETWORK_FAULTS)[number];

const MODES = {
  'headers-hang': { headersHang: true },
  trickle: { trickle: { intervalMs: 100, chunk: 'a' } },
  garbage: { garbage: true },
  endless: { endless: true },
  // Enough for the headers and a pkt-line length to arrive before the reset.
  reset: { resetAfterBytes: 64 },
} as const satisfies Record<string, FaultMode>;

/**
 * Starts an endpoint that breaks as `fault` says (the HTTPS ones with `tls`'s certificate).
 *
 * @example
 * const hang = await startFault('tls-hang', pki); // target.stsEndpoint = hang.url
 */
export function startFault(fault: NetworkFault, tls: TlsIdentity): Promise<FaultEndpoint> {
  switch (fault) {
    case 'connect-hang':
      return connectHang();
    case 'refused':
      return refusedPort();
    case 'tls-hang':
      return tlsHang();
    case 'untrusted':
      return untrustedTls();
    default:
      return faultServer(tls, MODES[fault]);
  }
}
