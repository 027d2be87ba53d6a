/**
 * One endpoint name's addresses, one per Availability Zone, in front of one stand-in: as an interface endpoint
 * has one network interface per AZ, each loopback address (127.0.0.x, all on one port) passes TCP through to the
 * stand-in, TLS untouched, as two switches say. The address's own: `hang` accepts and stays silent (the TLS
 * handshake never completes: an interface whose security group drops the traffic), `deny` resets at once,
 * `slow` connects late. The path's (shared by every address): `stall` sends the bytes through a stalling proxy,
 * so the first bytes of each answer arrive and then nothing (a PMTU blackhole, a stuck middlebox).
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { stallingProxy } from './fault-servers.ts';
import { FaultSwitch } from './fault-switch.ts';

export interface ZoneAddressesOptions {
  /** The stand-in every address leads to. */
  upstream: { host: string; port: number };
  /** The addresses, in the order the name's DNS answer gives them; each with its switch (default: its own, `none`). */
  addresses: Readonly<Record<string, FaultSwitch | undefined>>;
  /** The path's switch (`stall`). */
  path: FaultSwitch;
  /** Server bytes that pass on a connection before a `stall` stops them. */
  stallAfterBytes: number;
}

export interface ZoneAddresses {
  port: number;
  /** The addresses listening: on a system without loopback aliases (macOS) 127.0.0.1 only. */
  addresses: string[];
  stop(): Promise<void>;
}

/** Loopback aliases exist on Linux without setup; elsewhere binding one fails with this code. */
const NO_SUCH_ADDRESS = 'EADDRNOTAVAIL';

/**
 * Starts the addresses on one free port. An address the system does not have (no loopback alias) is left out.
 *
 * @example
 * const zones = await zoneAddresses({ upstream: git, addresses: { '127.0.0.1': undefined, '127.0.0.3': dead }, path, stallAfterBytes: 64 * 1024 });
 * // DNS: git.demo.test → zones.addresses; the endpoint: https://git.demo.test:${zones.port}
 */
export async function zoneAddresses(options: ZoneAddressesOptions): Promise<ZoneAddresses> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const stall = await stallingProxy(options.upstream, options.stallAfterBytes);
  const switches = Object.entries(options.addresses).map(
    ([address, faults]) => [address, faults ?? new FaultSwitch(address)] as const,
  );

  const forward = (client: Socket, faults: FaultSwitch) => {
    track(client);
    client.on('error', () => client.destroy());
    if (faults.fault === 'hang') {
      client.resume(); // read and drop: the handshake never gets an answer
      faults.hold(client);
      return;
    }
    if (faults.fault === 'deny') {
      client.resetAndDestroy();
      return;
    }
    faults.answer(() => {
      if (client.destroyed) return;
      const to = options.path.fault === 'stall' ? stall : options.upstream;
      const origin = connect(to.port, to.host);
      track(origin);
      origin.on('error', () => client.destroy());
      client.on('close', () => origin.destroy());
      origin.on('close', () => client.destroy());
      client.pipe(origin);
      origin.pipe(client);
    });
  };

  const servers: Server[] = [];
  const stopServers = () => {
    for (const socket of sockets) socket.destroy();
    for (const [, faults] of switches) faults.releaseAll();
    return Promise.all(
      servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ).then(() => {});
  };
  const listen = (address: string, faults: FaultSwitch, port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer((client) => forward(client, faults));
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        servers.push(server);
        resolve((server.address() as AddressInfo).port);
      });
    });

  // The first address takes a free port; the others need the same one on theirs: a few tries.
  for (let attempt = 0; ; attempt++) {
    try {
      const [first, ...others] = switches;
      if (!first) throw new Error('zoneAddresses: no address given');
      const port = await listen(first[0], first[1], 0);
      const listening = [first[0]];
      for (const [address, faults] of others) {
        try {
          await listen(address, faults, port);
          listening.push(address);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== NO_SUCH_ADDRESS) throw error;
        }
      }
      return {
        port,
        addresses: listening,
        stop: () => Promise.all([stopServers(), stall.stop()]).then(() => {}),
      };
    } catch (error) {
      await stopServers();
      if (attempt >= 4) {
        await stall.stop();
        throw error;
      }
    }
  }
}
