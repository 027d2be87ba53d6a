import type { Agent } from 'node:http';
import type { Clock } from '../clock.ts';
import type { Failure, StepResult } from '../types.ts';
import { allPrivate } from './addresses.ts';
import { classifyError } from './failure.ts';
import type { Resolve } from './resolve.ts';
import { type AgentOptions, Trace, tracedAgent } from './trace.ts';

/** What a step needs from the outside world; the real ones are built once per process. */
export interface NetDeps {
  resolve: Resolve;
  clock: Clock;
  tls?: AgentOptions;
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

class DeadlineExceeded extends Error {
  constructor() {
    super('deadline exceeded');
  }
}

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
  const controller = new AbortController();
  let timedOut = false;
  let rejectOnDeadline: (reason: unknown) => void = () => {};
  const deadline = new Promise<never>((_, reject) => {
    rejectOnDeadline = reject;
  });
  const stop = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
    rejectOnDeadline(reason);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop(new DeadlineExceeded());
  }, deadlineMs);
  const onParentAbort = () => stop(parentSignal?.reason);
  parentSignal?.addEventListener('abort', onParentAbort, { once: true });
  // A promise that loses the race must not surface as an unhandled rejection.
  deadline.catch(() => {});

  let addresses: string[] = [];
  let agent: Agent | undefined;
  let failure: Failure | null = null;
  let value: T | undefined;
  try {
    addresses = await Promise.race([deps.resolve(url.hostname.replace(/^\[|\]$/g, ''), controller.signal), deadline]);
    trace.mark('dnsDone');
    agent = tracedAgent(trace, addresses, deps.tls, maxResponseBytes);
    const context = { url, agent, signal: controller.signal, trace };
    const answer = await Promise.race([exchange(context), deadline]);
    // A body cut at the cap can still parse (a valid answer followed by junk, no Content-Length): not an answer.
    if ((trace.socketError as { code?: string } | undefined)?.code === 'ERR_RESPONSE_TOO_LARGE')
      throw trace.socketError;
    value = answer;
    trace.mark('end');
  } catch (error) {
    trace.stop();
    // A broken connection explains a client library's parse error better than the parse error does.
    const cause = !timedOut && trace.socketError && trace.firstByte !== undefined ? trace.socketError : error;
    failure = classifyError(cause, trace.currentPhase(), timedOut, deadlineMs);
  } finally {
    clearTimeout(timer);
    parentSignal?.removeEventListener('abort', onParentAbort);
    if (!controller.signal.aborted) controller.abort(new Error('step finished'));
    agent?.destroy();
  }
  return {
    ok: failure === null,
    endpoint: url.origin,
    addresses,
    private: allPrivate(addresses),
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
