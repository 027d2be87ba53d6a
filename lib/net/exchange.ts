import type { Agent } from 'node:http';
import type { BlockList } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Failure, StepResult } from '../types.ts';
import { allPrivate } from './addresses.ts';
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
}

export interface ExchangeLimits {
  deadlineMs: number;
  /** Cap on the bytes read off the connection (see tracedAgent). */
  maxResponseBytes?: number;
}

export interface ExchangeContext {
  url: URL;
  agent: Agent;
  signal: AbortSignal;
  trace: Trace;
}

export type Exchanged<T> = StepResult & { value?: T };

/**
 * Runs one timed exchange with an endpoint: resolve (timed), connect through a traced one-shot agent, let
 * `exchange` do the request, and end everything at the deadline, whichever phase it is in. Never throws for
 * network trouble: the outcome is a StepResult with a classified failure.
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
  let agent: Agent | undefined;
  let failure: Failure | null = null;
  let value: T | undefined;
  try {
    addresses = await untilAborted(deps.resolve(url.hostname.replace(/^\[|\]$/g, ''), signal), signal);
    trace.mark('dnsDone');
    agent = tracedAgent(trace, addresses, deps.tls, maxResponseBytes);
    const answer = await untilAborted(exchange({ url, agent, signal, trace }), signal);
    // A body cut at the cap can still parse (a valid answer followed by junk, no Content-Length): not an answer.
    if ((trace.socketError as { code?: string } | undefined)?.code === 'ERR_RESPONSE_TOO_LARGE')
      throw trace.socketError;
    value = answer;
    trace.mark('end');
  } catch (error) {
    trace.stop();
    const timedOut = deadline.aborted;
    // A broken connection explains a client library's parse error better than the parse error does.
    const cause = !timedOut && trace.socketError && trace.firstByte !== undefined ? trace.socketError : error;
    failure = classifyError(cause, trace.currentPhase(), timedOut, deadlineMs);
  } finally {
    finished.abort(new Error('step finished'));
    agent?.destroy();
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
    ...(value !== undefined ? { value } : {}),
  };
}
