/**
 * The loopback plumbing every sandbox server shares: listen on 127.0.0.1 (an ephemeral port), keep the open
 * sockets so `stop` ends kept-alive and held connections at once (server.close alone waits for them), and a port
 * nobody listens on.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

export const LOOPBACK = '127.0.0.1';

export interface Listening {
  host: typeof LOOPBACK;
  port: number;
  /** `https://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `server` on 127.0.0.1; `stop` runs `beforeStop` (release what the server holds), destroys every open
 * socket and closes.
 *
 * @example
 * const { url, stop } = await listenOnLoopback(https.createServer({ cert, key }, handler));
 */
export async function listenOnLoopback(server: Server, beforeStop: () => void = () => {}): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: LOOPBACK,
    port,
    url: `https://${LOOPBACK}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        beforeStop();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that was free a moment ago: for a server started elsewhere, or for nobody (refused). */
export async function freePort(): Promise<number> {
  const { port, stop } = await listenOnLoopback(createServer());
  await stop();
  return port;
}
