import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request } from 'node:https';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { Connections } from '../../lib/net/connections.ts';
import { type ExchangeContext, timedExchange } from '../../lib/net/exchange.ts';
import { type Listening, listenOnLoopback } from '../../lib/sandbox/listen.ts';
import { createPki, type Pki } from '../../lib/sandbox/pki.ts';

/**
 * A real HTTPS server on loopback whose handler decides per request, knowing how many requests its connection has
 * carried (1 for the first): what a keep-alive endpoint does, closing connections included.
 */
interface CountingServer extends Listening {
  connections: number;
  requests: number;
  open: Set<Socket>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, nthOnConnection: number) => void;

/**
 * `idleCloseMs`: closes a connection that has carried no request for that long, without telling the client (Node's
 * own `keepAliveTimeout` waits a second longer than set, and announces itself in a `Keep-Alive` header).
 */
async function startServer(pki: Pki, handle: Handler, idleCloseMs?: number): Promise<CountingServer> {
  const perSocket = new WeakMap<Socket, number>();
  const idleTimers = new WeakMap<Socket, NodeJS.Timeout>();
  const open = new Set<Socket>();
  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    counting.requests++;
    const socket = req.socket;
    clearTimeout(idleTimers.get(socket));
    const nth = (perSocket.get(socket) ?? 0) + 1;
    perSocket.set(socket, nth);
    if (idleCloseMs !== undefined) {
      res.on('finish', () =>
        idleTimers.set(
          socket,
          setTimeout(() => socket.destroy(), idleCloseMs),
        ),
      );
    }
    req.resume();
    req.on('end', () => handle(req, res, nth));
  });
  server.on('secureConnection', (socket: Socket) => {
    counting.connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  const counting: CountingServer = { ...(await listenOnLoopback(server)), connections: 0, requests: 0, open };
  return counting;
}

const answer = (res: ServerResponse, body = 'ok') =>
  // An explicit `Connection: keep-alive` leaves out Node's `Keep-Alive: timeout=` hint, as many endpoints do: the
  // client then cannot know when the server will close an idle connection.
  res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'keep-alive' }).end(body);

/** One GET through the exchange's agent, its body read to the end. */
const get = ({ url, agent, signal }: ExchangeContext): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request(url, { agent, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });

let pki: Pki;
let deps: {
  clock: typeof systemClock;
  resolve: (host: string) => Promise<string[]>;
  tls: { secureContext: ReturnType<typeof createSecureContext> };
};
let servers: CountingServer[] = [];
let pools: Connections[] = [];

beforeAll(() => {
  pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
  deps = {
    clock: systemClock,
    resolve: async (host) => [host],
    tls: { secureContext: createSecureContext({ ca: pki.caPem }) },
  };
});
afterEach(async () => {
  for (const pool of pools) pool.destroy();
  await Promise.all(servers.map((server) => server.stop()));
  servers = [];
  pools = [];
});

async function serve(handle: Handler, idleCloseMs?: number): Promise<CountingServer> {
  const server = await startServer(pki, handle, idleCloseMs);
  servers.push(server);
  return server;
}

function newPool(): Connections {
  const pool = new Connections(deps.tls);
  pools.push(pool);
  return pool;
}

const exchangeWith = (pool: Connections | undefined, url: string, deadlineMs = 3000) =>
  timedExchange(url, { deadlineMs }, { ...deps, ...(pool ? { connections: pool } : {}) }, get);

describe('a sample’s kept-alive connections', () => {
  it('times connect and TLS on the first request and reuses the connection, at 0, for the next', async () => {
    // Prepare
    const server = await serve((_req, res) => answer(res));
    const pool = newPool();
    // Act
    const first = await exchangeWith(pool, server.url);
    const second = await exchangeWith(pool, server.url);
    // Assess
    expect(first).toMatchObject({ ok: true, connection: 'new', value: 'ok', addresses: ['127.0.0.1'] });
    expect(first.phases.connectMs + first.phases.tlsMs).toBeGreaterThan(0);
    expect(second).toMatchObject({ ok: true, connection: 'reused', value: 'ok', addresses: ['127.0.0.1'] });
    expect(second.phases.connectMs).toBe(0);
    expect(second.phases.tlsMs).toBe(0);
    // The certificate is the one the connection's handshake saw.
    expect(second.certificateDaysLeft).toBe(first.certificateDaysLeft);
    expect(first.certificateDaysLeft).toBeGreaterThan(0);
    expect(server.connections).toBe(1);
    expect(server.requests).toBe(2);
  });

  it('gives concurrent requests a connection each (none waits for another), and keeps them all for later ones', async () => {
    // Prepare
    const server = await serve((_req, res) => setTimeout(() => answer(res), 30));
    const pool = newPool();
    // Act
    const together = await Promise.all(Array.from({ length: 4 }, () => exchangeWith(pool, server.url)));
    const later = await Promise.all(Array.from({ length: 4 }, () => exchangeWith(pool, server.url)));
    // Assess
    expect(together.map((r) => [r.ok, r.connection])).toEqual(Array(4).fill([true, 'new']));
    expect(later.map((r) => [r.ok, r.connection])).toEqual(Array(4).fill([true, 'reused']));
    expect(server.connections).toBe(4);
  });

  it('keeps a connection per endpoint origin', async () => {
    // Prepare
    const a = await serve((_req, res) => answer(res, 'a'));
    const b = await serve((_req, res) => answer(res, 'b'));
    const pool = newPool();
    // Act
    const results = [];
    for (const url of [a.url, b.url, a.url, b.url]) results.push(await exchangeWith(pool, url));
    // Assess
    expect(results.map((r) => `${r.value}:${r.connection}`)).toEqual(['a:new', 'b:new', 'a:reused', 'b:reused']);
  });

  it('without them, every exchange connects anew and the record says nothing of connections', async () => {
    // Prepare
    const server = await serve((_req, res) => answer(res));
    // Act
    const first = await exchangeWith(undefined, server.url);
    const second = await exchangeWith(undefined, server.url);
    // Assess
    expect(first.ok && second.ok).toBe(true);
    expect(first).not.toHaveProperty('connection');
    expect(second.phases.tlsMs).toBeGreaterThan(0);
    expect(server.connections).toBe(2);
  });

  it('sends a request again on a new connection when the server closes the kept-alive one under it', async () => {
    // Prepare: the server ends every connection at its second request, before any byte of an answer.
    const server = await serve((req, res, nth) => (nth === 1 ? answer(res) : req.socket.destroy()));
    const pool = newPool();
    await exchangeWith(pool, server.url);
    // Act
    const again = await exchangeWith(pool, server.url);
    // Assess: no failure; the answer came on a new connection, whose handshake is timed.
    expect(again).toMatchObject({ ok: true, failure: null, connection: 'new', value: 'ok' });
    expect(again.phases.tlsMs).toBeGreaterThan(0);
    expect(again.certificateDaysLeft).toBeGreaterThan(0);
    expect(server.connections).toBe(2);
    expect(server.requests).toBe(3);
  });

  it('retries once only: a reset on the new connection too is the endpoint’s failure', async () => {
    // Prepare: the first request on a connection is answered, every later one is reset; the retry's is too.
    let resets = 0;
    const server = await serve((req, res, nth) => {
      if (nth === 1 && resets === 0) return answer(res);
      resets++;
      req.socket.destroy();
    });
    const pool = newPool();
    await exchangeWith(pool, server.url);
    // Act
    const failed = await exchangeWith(pool, server.url);
    // Assess
    expect(failed.ok).toBe(false);
    expect(failed.failure).toMatchObject({ kind: 'reset', phase: 'response' });
    expect(failed.connection).toBe('new');
    expect(server.requests).toBe(3);
  });

  it('reports a reset on a new connection as a reset, without a retry', async () => {
    // Prepare
    const server = await serve((req) => req.socket.destroy());
    const pool = newPool();
    // Act
    const failed = await exchangeWith(pool, server.url);
    // Assess
    expect(failed.failure).toMatchObject({ kind: 'reset', phase: 'response' });
    expect(failed.connection).toBe('new');
    expect(server.requests).toBe(1);
  });

  it('does not retry a reused connection reset after the answer began: a reset in body', async () => {
    // Prepare: the second request's answer starts, then the connection is cut.
    const server = await serve((req, res, nth) => {
      if (nth === 1) return answer(res);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      res.write('partial', () => setTimeout(() => req.socket.destroy(), 20));
    });
    const pool = newPool();
    await exchangeWith(pool, server.url);
    // Act
    const failed = await exchangeWith(pool, server.url);
    // Assess
    expect(failed.failure).toMatchObject({ kind: 'reset', phase: 'body' });
    expect(failed.connection).toBe('reused');
    expect(server.requests).toBe(2);
  });

  it('ends a request on a reused connection at the deadline, charged to the wait for an answer', async () => {
    // Prepare: the second request is never answered.
    const server = await serve((_req, res, nth) => (nth === 1 ? answer(res) : undefined));
    const pool = newPool();
    await exchangeWith(pool, server.url);
    // Act
    const hung = await exchangeWith(pool, server.url, 300);
    // Assess
    expect(hung.failure).toMatchObject({ kind: 'timeout', phase: 'response' });
    expect(hung.connection).toBe('reused');
    expect(hung.phases).toMatchObject({ connectMs: 0, tlsMs: 0 });
    expect(hung.phases.firstByteMs).toBeGreaterThan(250);
  });

  it('caps each request’s answer on a kept-alive connection on its own', async () => {
    // Prepare: a small answer first, then one past the cap.
    const server = await serve((_req, res, nth) => answer(res, nth === 1 ? 'ok' : 'x'.repeat(64 * 1024)));
    const pool = newPool();
    const small = await timedExchange(
      server.url,
      { deadlineMs: 3000, maxResponseBytes: 16 * 1024 },
      { ...deps, connections: pool },
      get,
    );
    // Act
    const large = await timedExchange(
      server.url,
      { deadlineMs: 3000, maxResponseBytes: 16 * 1024 },
      { ...deps, connections: pool },
      get,
    );
    // Assess
    expect(small).toMatchObject({ ok: true, connection: 'new' });
    expect(large.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
    expect(large.connection).toBe('reused');
  });

  it('connects anew when the server closed the idle connection before the next request', async () => {
    // Prepare: idle connections closed after 40 ms, without telling the client.
    const server = await serve((_req, res) => answer(res), 40);
    const pool = newPool();
    await exchangeWith(pool, server.url);
    await sleep(150);
    // Act
    const next = await exchangeWith(pool, server.url);
    // Assess
    expect(next).toMatchObject({ ok: true, connection: 'new' });
    expect(server.connections).toBe(2);
    expect(server.requests).toBe(2);
  });

  it('sends the request again when the server closes the idle connection as the request goes out', async () => {
    // Prepare
    const server = await serve((_req, res) => answer(res));
    const pool = newPool();
    await exchangeWith(pool, server.url);
    // Act: the server closes the connection, and the request takes it before the client has read the close.
    for (const socket of server.open) socket.destroy();
    const next = await exchangeWith(pool, server.url);
    // Assess: the request on the closed connection never reached the server; its retry did.
    expect(next).toMatchObject({ ok: true, failure: null, connection: 'new', value: 'ok' });
    expect(server.connections).toBe(2);
    expect(server.requests).toBe(2);
  });

  it('closes every connection, idle or busy, when destroyed at the end of the sample', async () => {
    // Prepare
    const server = await serve((_req, res, nth) => (nth === 1 ? answer(res) : undefined));
    const pool = newPool();
    await Promise.all([exchangeWith(pool, server.url), exchangeWith(pool, server.url)]);
    const busy = exchangeWith(pool, server.url, 5000);
    await sleep(50);
    expect(server.open.size).toBe(2);
    // Act
    pool.destroy();
    const ended = await busy;
    await sleep(50);
    // Assess
    expect(server.open.size).toBe(0);
    expect(ended.ok).toBe(false);
  });
});
