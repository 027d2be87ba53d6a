/**
 * One endpoint name's addresses on loopback, some answering and some broken, as an interface endpoint with one
 * broken Availability Zone looks to a client (with the sandbox DNS server answering the name with all of them).
 */
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { connectHangAt } from './fault-servers.ts';
import type { TlsIdentity } from './https-stand-in.ts';
import { freePort } from './listen.ts';

/** What one address of a name does: answer (401, HTTPS), accept TCP and stay silent, leave connect hanging, refuse. */
export type AddressBehaviour = 'answer' | 'silent' | 'blackhole' | 'refused';

/** One name's addresses on loopback, all on `port`. */
export interface AddressSet {
  port: number;
  stop(): Promise<void>;
}

/**
 * One endpoint name's addresses on loopback (127.0.0.x, ::1), all on one port, each behaving as `behaviours` says:
 * `answer` is HTTPS with `tls`'s certificate answering 401, as CodeCommit and STS answer a request without
 * credentials; `silent` accepts TCP and never answers (TLS hangs); `blackhole` leaves TCP connect hanging (needs
 * python3, see connectHang); `refused` has nothing listening. With a DNS answer naming them all, a client sees an
 * interface endpoint with one broken AZ. `port` joins a server already listening on 127.0.0.1 (the CodeCommit
 * server, a stand-in): its address is then left out of `behaviours` and the others share its port.
 *
 * @example
 * const set = await addressSet(pki, { '127.0.0.1': 'answer', '127.0.0.2': 'refused', '127.0.0.3': 'silent' });
 * const beside = await addressSet(pki, { '127.0.0.2': 'blackhole' }, git.port); // 127.0.0.1 is the git server
 */
export async function addressSet(
  tls: TlsIdentity,
  behaviours: Record<string, AddressBehaviour>,
  port = 0,
): Promise<AddressSet> {
  const sockets = new Set<Socket>();
  const make = (behaviour: AddressBehaviour) => {
    const server =
      behaviour === 'answer'
        ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
            req.resume();
            res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
          })
        : createNetServer((socket) => socket.resume());
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };
  const entries = Object.entries(behaviours);
  const listening = entries.filter(([, behaviour]) => behaviour === 'answer' || behaviour === 'silent');
  const blackholes = entries.filter(([, behaviour]) => behaviour === 'blackhole').map(([address]) => address);
  const servers = listening.map(([, behaviour]) => make(behaviour));
  const hangs: Array<() => Promise<void>> = [];
  const stop = () => {
    for (const socket of sockets) socket.destroy();
    return Promise.all([
      ...hangs.splice(0).map((stopHang) => stopHang()),
      ...servers.map(
        (server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    ]).then(() => {});
  };
  const listen = (index: number, port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = servers[index] as NetServer;
      server.once('error', reject);
      server.listen(port, listening[index]?.[0], () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  // The first takes a free port (unless given); the others need the same one on their address: a few tries.
  for (let attempt = 0; ; attempt++) {
    try {
      const shared = port || (servers.length > 0 ? await listen(0, 0) : await freePort());
      for (let i = port ? 0 : 1; i < servers.length; i++) await listen(i, shared);
      for (const address of blackholes) hangs.push((await connectHangAt(address, shared)).stop);
      return { port: shared, stop };
    } catch (error) {
      await stop();
      if (port || attempt >= 4) throw error;
    }
  }
}
