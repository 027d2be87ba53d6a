import type { ClientRequest, Agent as HttpAgent } from 'node:http';
import { Agent as PlainAgent } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import type { Socket } from 'node:net';
import {
  type AgentOptions,
  type ConnectionWatch,
  DEFAULT_MAX_RESPONSE_BYTES,
  fixedLookup,
  onEachSocket,
  type Trace,
  trustOptions,
  watchConnection,
} from './trace.ts';

/** What an agent does with a request: Node's http client and the SDK's handler call nothing else per request. */
type RequestAgent = HttpAgent & { addRequest(request: ClientRequest, options: object): void };

/**
 * The kept-alive connections of one sample, one keep-alive agent per endpoint origin: a step's request goes out
 * on a connection an earlier step of the sample left open when there is one (connect and TLS 0, `reused`), else
 * on a new one to the addresses the step resolved, with a full handshake timed on its trace (`new`; no TLS session
 * is cached, so a new connection never resumes one). Each request still binds its connection to its own trace, for
 * its first byte, its errors and its byte cap. What a new connection can fail on (connect, TLS, one zone's
 * interface) is still seen on every run by the path checks (lib/steps/paths.ts), which never reuse.
 * `destroy()` at the end of the sample: no socket outlives it.
 *
 * @example
 * const connections = new Connections(deps.tls);
 * try { await probeEverything({ ...deps, connections }) } finally { connections.destroy() }
 */
export class Connections {
  readonly #agents = new Map<string, RequestAgent>();
  readonly #watches = new WeakMap<Socket, ConnectionWatch>();
  #closed = false;

  constructor(private readonly tls: AgentOptions = {}) {}

  /**
   * The agent for one exchange's request to `url`'s origin: a free kept-alive connection, or a new one to
   * `addresses`; either way reporting to `trace` until the response is done, with at most `maxResponseBytes`.
   */
  lease(
    url: URL,
    trace: Trace,
    addresses: readonly string[],
    maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
  ): HttpAgent {
    if (this.#closed) throw new Error('the sample’s connections were used after it ended');
    const pool = this.#agentFor(url.origin, trace.secure);
    const lookup = fixedLookup(addresses);
    // The pool itself, but for the request it is given: that request's connection reports to this trace. Every
    // other property (keepAlive, maxSockets, protocol …) is the pool's, read through the prototype.
    return Object.create(pool, {
      addRequest: {
        value: (request: ClientRequest, options: object) => {
          request.once('socket', (socket: Socket) => this.#bind(socket, trace, maxResponseBytes, request.reusedSocket));
          // `lookup` is not part of the agent's pool key: every request to the origin shares the free connections.
          pool.addRequest(request, { ...options, lookup });
        },
      },
      // The connections belong to the sample, not to the request (see destroy()).
      destroy: { value: () => {} },
    }) as HttpAgent;
  }

  /** Ends every connection, idle or busy; a request still on one fails (`reset`), and is not sent again. */
  destroy(): void {
    this.#closed = true;
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  /** True once destroyed: a connection ended now was ended here, not by the server. */
  get closed(): boolean {
    return this.#closed;
  }

  #agentFor(origin: string, secure: boolean): RequestAgent {
    let agent = this.#agents.get(origin);
    if (!agent) {
      // No socket limit: the probe's own concurrency bounds what is open, and a request never queues for a socket.
      const base = { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' as const };
      const watched = (socket: Socket) => {
        const watch: ConnectionWatch = { limit: DEFAULT_MAX_RESPONSE_BYTES, received: 0 };
        this.#watches.set(socket, watch);
        watchConnection(socket, watch);
        // Back in the pool: no exchange to report to until the next request takes it.
        const release = () => {
          watch.trace = undefined;
          watch.received = 0;
        };
        socket.on('free', release);
        socket.once('close', release);
      };
      agent = onEachSocket(
        secure ? new TlsAgent({ ...base, maxCachedSessions: 0, ...trustOptions(this.tls) }) : new PlainAgent(base),
        watched,
      ) as RequestAgent;
      this.#agents.set(origin, agent);
    }
    return agent;
  }

  #bind(socket: Socket, trace: Trace, limit: number, reused: boolean): void {
    const watch = this.#watches.get(socket);
    if (!watch) return;
    watch.trace = trace;
    watch.limit = limit;
    watch.received = 0;
    if (reused) trace.reusedConnection(watch.certificateExpiresAt);
    else trace.connection = 'new';
  }
}
