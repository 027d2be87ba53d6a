import type { Agent } from 'node:http';
import { request as plainRequest } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { BlockList } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Failure, StepResult } from '../types.ts';
import { allPrivate } from './addresses.ts';
import type { Connections } from './connections.ts';
import { untilAborted } from './deadline.ts';
import { classifyError } from './failure.ts';
import type { Resolve } from './resolve.ts';
import { type AgentOptions, Trace, tracedAgent } from './trace.ts';

/** What a step needs from the outside world; the real ones are built once per process. */
export interface NetDeps {
  resolve: Resolve;
  clock: Clock;
  tls?: AgentOptions;
  /** The VPC's CIDRs (`network.vpcCidrs`): addresses inside them count as private, as the findings count them. */
  vpc?: BlockList | null;
  /**
   * The sample's kept-alive connections (probeAll makes them per sample): a step's request reuses one left open by
   * an earlier step, and says so (`connection`). Without them every exchange has its own new connection.
   */
  connections?: Connections;
}

export interface ExchangeLimits {
  deadlineMs: number;
  /** Cap on the bytes read off the connection (see tracedAgent). */
  maxResponseBytes?: number;
}

/** Node's request function for the URL's scheme: https anywhere, plain http only to loopback (the config's rule). */
export const requestFor = (url: URL): typeof tlsRequest => (url.protocol === 'https:' ? tlsRequest : plainRequest);

export interface ExchangeContext {
  url: URL;
  agent: Agent;
  signal: AbortSignal;
  trace: Trace;
}

export type Exchanged<T> = StepResult & { value?: T };

/**
 * Runs one timed exchange with an endpoint: resolve (timed), connect through a traced agent (a new one-shot
 * connection, or one of the sample's kept-alive connections), let `exchange` do the request, and end everything at
 * the deadline, whichever phase it is in. A request the server closed its kept-alive connection under before any
 * answer is sent again, once, on a new connection within the same deadline: that is the connection's end, not the
 * endpoint's failure. Never throws for network trouble: the outcome is a StepResult with a classified failure.
 */
export async function timedExchange<T>(
  endpoint: string,
  { deadlineMs, maxResponseBytes }: ExchangeLimits,
  deps: NetDeps,
  exchange: (context: ExchangeContext) => Promise<T>,
  parentSignal?: AbortSignal,
): Promise<Exchanged<T>> {
  const url = new URL(endpoint);
  const trace = new Trace(deps.clock, url.protocol === 'https:');
  const deadline = AbortSignal.timeout(deadlineMs);
  const finished = new AbortController();
  // One signal for everything the exchange starts: the deadline, the caller's abort, the step's end.
  const signal = AbortSignal.any([deadline, finished.signal, ...(parentSignal ? [parentSignal] : [])]);

  let addresses: string[] = [];
  let oneShot: Agent | undefined;
  let failure: Failure | null = null;
  let value: T | undefined;
  const attempt = async (agent: Agent): Promise<T> => {
    const answer = await untilAborted(exchange({ url, agent, signal, trace }), signal);
    // A body cut at the cap can still parse (a valid answer followed by junk, no Content-Length): not an answer.
    if ((trace.socketError as { code?: string } | undefined)?.code === 'ERR_RESPONSE_TOO_LARGE')
      throw trace.socketError;
    return answer;
  };
  const newConnection = (): Agent => {
    oneShot = tracedAgent(trace, addresses, deps.tls, maxResponseBytes);
    return oneShot;
  };
  try {
    addresses = await untilAborted(deps.resolve(url.hostname.replace(/^\[|\]$/g, ''), signal), signal);
    trace.mark('dnsDone');
    const { connections } = deps;
    try {
      value = await attempt(connections ? connections.lease(url, trace, addresses, maxResponseBytes) : newConnection());
    } catch (error) {
      if (!closedUnderRequest(trace, error, signal) || connections?.closed) throw error;
      trace.retryOnNewConnection();
      value = await attempt(newConnection());
    }
    trace.mark('end');
  } catch (error) {
    trace.stop();
    const timedOut = deadline.aborted;
    // A broken connection explains a client library's parse error better than the parse error does.
    const cause = !timedOut && trace.socketError && trace.firstByte !== undefined ? trace.socketError : error;
    failure = classifyError(cause, trace.currentPhase(), timedOut, deadlineMs);
  } finally {
    finished.abort(new Error('step finished'));
    oneShot?.destroy();
  }
  return {
    ok: failure === null,
    endpoint: url.origin,
    addresses,
    private: allPrivate(addresses, deps.vpc ?? null),
    durationMs: Math.round(trace.elapsedMs() * 10) / 10,
    deadlineMs,
    phases: trace.phases(),
    failure,
    ...(trace.certificateExpiresAt
      ? {
          certificateDaysLeft: Math.floor(
            (trace.certificateExpiresAt.getTime() - deps.clock.now().getTime()) / 86_400_000,
          ),
        }
      : {}),
    ...(trace.connection ? { connection: trace.connection } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

/**
 * A request on a kept-alive connection that the server closed at the same moment (reset, broken pipe, hang-up)
 * before any byte of an answer: what any keep-alive client meets now and then, and retries on a new connection.
 * On a new connection the same error is the endpoint's (`reset`).
 */
function closedUnderRequest(trace: Trace, error: unknown, signal: AbortSignal): boolean {
  if (trace.connection !== 'reused' || trace.firstByte !== undefined || signal.aborted) return false;
  return classifyError(error, 'response', false, 0).kind === 'reset';
}
