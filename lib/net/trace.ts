import type { Agent as HttpAgent } from 'node:http';
import { Agent as PlainAgent } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import type { Clock } from '../clock.ts';
import { type Phase, type Phases, zeroPhases } from '../types.ts';
import { sharedDefaultContext } from './trust.ts';

/**
 * Monotonic timestamps of one HTTP(S) exchange, taken as events happen and subtracted once at the end
 * (as blackbox_exporter does). A missing mark means the phase never completed: that is where a hang is.
 */
export class Trace {
  readonly start: number;
  dnsDone?: number;
  connected?: number;
  tlsDone?: number;
  firstByte?: number;
  end?: number;
  /** When a failure ended the exchange: the phase it was in is charged up to here. */
  stoppedAt?: number;
  /** `valid_to` of the server's certificate, read at the handshake. */
  certificateExpiresAt?: Date;
  /** The connection's own error (reset, cap exceeded): truer than what a client library makes of it. */
  socketError?: Error;
  /**
   * How the request got its connection, when it went through a sample's kept-alive connections (see
   * lib/net/connections.ts): `new` (connected and handshaken here, timed) or `reused`.
   */
  connection?: 'new' | 'reused';

  constructor(
    private readonly clock: Clock,
    readonly secure: boolean,
  ) {
    this.start = clock.monotonicMs();
  }

  mark(event: 'dnsDone' | 'connected' | 'tlsDone' | 'firstByte' | 'end'): void {
    this[event] ??= this.clock.monotonicMs();
  }

  /**
   * The request went out on a connection kept open from an earlier request: no connect and no handshake here, so
   * both are 0 (the request that opened it timed them); its certificate is the one that handshake saw.
   */
  reusedConnection(certificateExpiresAt: Date | undefined): void {
    this.connection = 'reused';
    const at = this.dnsDone ?? this.clock.monotonicMs();
    this.connected ??= at;
    if (this.secure) this.tlsDone ??= at;
    if (certificateExpiresAt) this.certificateExpiresAt = certificateExpiresAt;
  }

  /**
   * The kept-alive connection was closed under the request before any answer: the request goes again on a new
   * connection, whose connect and handshake are timed from here (the lookup stays done). The time lost on the
   * closed connection is charged to connect.
   */
  retryOnNewConnection(): void {
    this.connection = 'new';
    this.connected = undefined;
    this.tlsDone = undefined;
    this.firstByte = undefined;
    this.socketError = undefined;
    this.certificateExpiresAt = undefined;
  }

  /** Marks the exchange as ended by a failure, now. */
  stop(): void {
    this.stoppedAt ??= this.clock.monotonicMs();
  }

  elapsedMs(): number {
    return (this.end ?? this.stoppedAt ?? this.clock.monotonicMs()) - this.start;
  }

  /** The phase that was running when the exchange stopped. */
  currentPhase(): Phase {
    if (this.dnsDone === undefined) return 'dns';
    if (this.connected === undefined) return 'connect';
    if (this.secure && this.tlsDone === undefined) return 'tls';
    if (this.firstByte === undefined) return 'response';
    return 'body';
  }

  /**
   * Phase durations. A phase that completed spans its two marks; the phase a failure stopped in is charged up to
   * the stop (so a hang shows where the time went); phases after it are 0.
   */
  phases(): Phases {
    const phases = zeroPhases();
    const round = (ms: number) => Math.max(0, Math.round(ms * 10) / 10);
    const until = (mark: number | undefined) => mark ?? this.stoppedAt;
    const dnsDone = until(this.dnsDone);
    if (dnsDone === undefined) return phases;
    phases.dnsMs = round(dnsDone - this.start);
    if (this.dnsDone === undefined) return phases;
    const connected = until(this.connected);
    if (connected === undefined) return phases;
    phases.connectMs = round(connected - this.dnsDone);
    if (this.connected === undefined) return phases;
    let requestSent = this.connected;
    if (this.secure) {
      const tlsDone = until(this.tlsDone);
      if (tlsDone === undefined) return phases;
      phases.tlsMs = round(tlsDone - this.connected);
      if (this.tlsDone === undefined) return phases;
      requestSent = this.tlsDone;
    }
    const firstByte = until(this.firstByte);
    if (firstByte === undefined) return phases;
    phases.firstByteMs = round(firstByte - requestSent);
    if (this.firstByte === undefined) return phases;
    const end = until(this.end);
    if (end !== undefined) phases.transferMs = round(end - this.firstByte);
    return phases;
  }
}

/** A lookup that hands net.connect the addresses resolved (and timed) beforehand. */
export function fixedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  return (_host, options, callback) => {
    const first = entries[0];
    if (!first) {
      callback(Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof entries) => void)(null, entries);
    else callback(null, first.address, first.family);
  };
}

/** A response larger than the agent's cap ends the exchange: `protocol` in `body`. */
export class ResponseTooLarge extends Error {
  readonly code = 'ERR_RESPONSE_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`response exceeded the cap of ${limit} bytes`);
  }
}

/**
 * What one connection reports to, and how much it may bring. A one-shot connection has one for its life; a
 * kept-alive one is handed from exchange to exchange (lib/net/connections.ts), and has no trace between them.
 */
export interface ConnectionWatch {
  /** The exchange the connection serves now. */
  trace?: Trace;
  /** Bytes the current response may bring (headers and body, after TLS); past it the connection is cut. */
  limit: number;
  /** Bytes the current response has brought. */
  received: number;
  /** `valid_to` of the server's certificate, read at the handshake. */
  certificateExpiresAt?: Date;
}

/**
 * Marks connect, TLS and first byte on the watch's current trace, keeps the socket's error and certificate expiry,
 * and cuts the connection once one response has brought more than the watch's limit.
 */
export function watchConnection(socket: Socket, watch: ConnectionWatch): void {
  socket.once('connect', () => watch.trace?.mark('connected'));
  socket.on('error', (error) => {
    if (watch.trace) watch.trace.socketError ??= error;
  });
  socket.once('secureConnect', () => {
    // The X509Certificate's field alone (~1 µs) rather than getPeerCertificate(), which converts it all (~40 µs).
    const validTo = (socket as TLSSocket).getPeerX509Certificate?.()?.validTo;
    if (validTo) watch.certificateExpiresAt = new Date(validTo);
    if (watch.trace) {
      watch.trace.mark('tlsDone');
      if (watch.certificateExpiresAt) watch.trace.certificateExpiresAt = watch.certificateExpiresAt;
    }
  });
  socket.on('data', (chunk: Buffer) => {
    watch.trace?.mark('firstByte');
    watch.received += chunk.length;
    if (watch.received > watch.limit) socket.destroy(new ResponseTooLarge(watch.limit));
  });
}

export interface AgentOptions {
  /** Extra trusted CAs (PEM); when absent the default store, NODE_EXTRA_CA_CERTS included, is used. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A prepared trust store (see trustedContext): wins over `ca`, and costs nothing per connection. */
  secureContext?: SecureContext;
}

/**
 * Bytes one response may bring (headers and body, after TLS) when the caller sets no cap. Clients that buffer a
 * whole body (the SDK) would otherwise fill a 256 MB function from a broken endpoint within a second; the
 * answers this project reads are a few KB (the git advertisement, capped by config, aside).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Every socket the agent creates passes through `onSocket` first (connection-level hooks for any HTTP client). */
export function onEachSocket<A extends HttpAgent>(agent: A, onSocket: (socket: Socket) => void): A {
  const withCreate = agent as unknown as { createConnection: (options: object, callback?: unknown) => Socket };
  const create = withCreate.createConnection.bind(agent);
  withCreate.createConnection = (options, callback) => {
    const socket = create(options, callback);
    onSocket(socket);
    return socket;
  };
  return agent;
}

/**
 * Cuts the connection once one response has brought more than `limit` bytes. The count restarts when a response
 * is done and a keep-alive socket goes back to its pool (`free`), so a long-lived connection carries any number
 * of small answers.
 */
export function capResponseBytes(socket: Socket, limit: number): void {
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) socket.destroy(new ResponseTooLarge(limit));
  });
  socket.on('free', () => {
    received = 0;
  });
}

/** The TLS trust for a connection: a prepared context (one per process, see trust.ts), or `ca` as given. */
export function trustOptions(options: AgentOptions): Pick<ConnectionOptions, 'ca' | 'secureContext'> {
  // A context per connection otherwise: Node builds one for every TLS connection given no context.
  return options.ca && !options.secureContext
    ? { ca: options.ca }
    : { secureContext: options.secureContext ?? sharedDefaultContext() };
}

/**
 * A one-connection agent that connects to pre-resolved addresses and marks connect, TLS and first byte
 * on the trace. New for every exchange that does not go through a sample's kept-alive connections: it pays (and
 * measures) DNS, connect and TLS, as a cold client does.
 */
export function tracedAgent(
  trace: Trace,
  addresses: readonly string[],
  options: AgentOptions = {},
  maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
): HttpAgent {
  const base = { keepAlive: false, maxSockets: 1, lookup: fixedLookup(addresses) };
  const watched = (socket: Socket) => watchConnection(socket, { trace, limit: maxResponseBytes, received: 0 });
  if (!trace.secure) return onEachSocket(new PlainAgent(base), watched);
  return onEachSocket(new TlsAgent({ ...base, ...trustOptions(options) } satisfies ConnectionOptions), watched);
}
