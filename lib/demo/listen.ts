import type { RequestListener } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { FaultSwitch } from './faults.ts';
import type { DemoPki } from './pki.ts';

/**
 * An HTTPS server of the sandbox on 127.0.0.1 (ephemeral port), with the demo CA's certificate. `stop` releases
 * any request a fault is holding and closes every connection, so the demo ends at once.
 */
export async function listenOnLoopback(
  pki: DemoPki,
  faults: FaultSwitch,
  onRequest: RequestListener,
): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      faults.releaseAll();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
