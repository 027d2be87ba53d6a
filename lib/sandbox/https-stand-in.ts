/**
 * What the STS and CodeCommit stand-ins share: HTTPS on 127.0.0.1 with a sandbox certificate, the request body
 * read (bounded), the answer computed by the stand-in, then held, delayed or sent as the fault switch says.
 * Every request is counted (in flight, too: a gauge may be shared by several servers) and logged without secrets.
 */
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import { FaultSwitch } from './fault-switch.ts';
import { type Listening, listenOnLoopback } from './listen.ts';

/** A certificate and its key (PEM): what a sandbox server presents. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
}

/** Requests being answered now, and the most at once. */
export interface Gauge {
  current: number;
  max: number;
}

export const newGauge = (): Gauge => ({ current: 0, max: 0 });

export interface StandInOptions {
  tls: TlsIdentity;
  /** The switch this server consults on every request. Default: its own, `none`. */
  faults?: FaultSwitch;
  /** Wait this long before every answer (a stand-in for the network). Default 0. */
  latencyMs?: number;
  /** Shared between servers, to count what a whole run has in flight. Default: the server's own. */
  gauge?: Gauge;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** The access key the request was signed with, when it checked out (for the log). */
  accessKeyId?: string;
}

/** One request as it was answered; never holds a secret. `status` stays 0 for a request held by `hang`. */
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  accessKeyId?: string;
}

export interface StandInServer extends Listening {
  readonly requests: number;
  gauge: Gauge;
  faults: FaultSwitch;
  /** Every request so far (a long-running test may empty it). */
  log: RequestLogEntry[];
}

const MAX_BODY_BYTES = 64 * 1024;

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/**
 * Starts a stand-in whose answers `respond` computes from the request and its body.
 *
 * @example
 * const server = await startStandIn({ tls: pki }, (req) => ({ status: 200, headers: {}, body: 'ok' }));
 */
export async function startStandIn(
  options: StandInOptions,
  respond: (req: IncomingMessage, body: Buffer) => Answer | Promise<Answer>,
): Promise<StandInServer> {
  const faults = options.faults ?? new FaultSwitch();
  const gauge = options.gauge ?? newGauge();
  const log: RequestLogEntry[] = [];
  let requests = 0;
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    requests++;
    gauge.current++;
    gauge.max = Math.max(gauge.max, gauge.current);
    res.once('close', () => {
      gauge.current--;
    });
    const entry: RequestLogEntry = { method: req.method ?? '', path: (req.url ?? '/').split('?')[0] ?? '/', status: 0 };
    log.push(entry);
    const answer = async (): Promise<void> => {
      const body = await readBody(req);
      if (faults.fault === 'hang') return faults.hold(res);
      const { status, headers, body: content, accessKeyId } = await respond(req, body);
      entry.status = status;
      if (accessKeyId) entry.accessKeyId = accessKeyId;
      faults.answer(() => {
        if (!res.destroyed) res.writeHead(status, headers).end(content);
      }, options.latencyMs);
    };
    answer().catch(() => res.destroy());
  });
  const listening = await listenOnLoopback(server, () => faults.releaseAll());
  return {
    ...listening,
    get requests() {
      return requests;
    },
    gauge,
    faults,
    log,
  };
}
