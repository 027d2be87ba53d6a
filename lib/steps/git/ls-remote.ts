import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import type { Clock } from '../../clock.ts';
import type { ResolvedTarget } from '../../config/config.ts';
import { type NetDeps, timedExchange } from '../../net/exchange.ts';
import { StepFailure } from '../../net/failure.ts';
import type { Trace } from '../../net/trace.ts';
import type { GitStepResult } from '../../types.ts';
import { type Advertisement, AdvertisementParser } from './advertisement.ts';
import type { AwsCredentials } from './password.ts';
import { expectGitAnswer, gitRequest, skippedGitEndpointStep } from './request.ts';

type GitTarget = Pick<ResolvedTarget, 'repository' | 'region' | 'gitEndpoint'> & { timeouts: { gitMs: number } };

const ADVERTISEMENT_TYPE = 'application/x-git-upload-pack-advertisement';

export { USER_AGENT } from './request.ts';

/**
 * How long an answer may take to end after its closing flush (the chunked encoding's last chunk, after git
 * http-backend exits) for its connection to serve the sample's next request.
 */
const END_AFTER_FLUSH_MS = 100;
const DEADLINE_MARGIN_MS = 20;

/** Whether, and until when, an answer may be waited for past its closing flush so its connection is kept. */
interface KeepAlive {
  clock: Clock;
  /** Monotonic time past which the wait would eat into the step's deadline: then the answer is destroyed. */
  untilMs: number;
}

/**
 * Reads the advertisement off the response, stopping at the closing flush or the byte cap; the exchange ends there
 * (`trace.mark('end')`). With `keep` (the sample's kept-alive connections), an answer that ends at its flush (now,
 * or within END_AFTER_FLUSH_MS with nothing more, and never past the deadline) is read to its end, so its connection
 * can serve the sample's next request; otherwise it is destroyed and nothing more is read.
 */
async function readAdvertisement(
  response: IncomingMessage,
  maxBytes: number,
  trace: Trace,
  keep: KeepAlive | null,
): Promise<Advertisement> {
  const parser = new AdvertisementParser({ maxBytes });
  for await (const chunk of response.iterator({ destroyOnReturn: false })) {
    if (!parser.push(chunk as Buffer)) break;
  }
  const parsed = parser.finish();
  if (!parsed.ok) {
    response.destroy();
    throw new StepFailure({ kind: 'protocol', phase: 'body', message: parsed.error.message });
  }
  // The answer is whole: what follows is bookkeeping for the connection, not the path's transfer time.
  trace.mark('end');
  if (keep) await keepIfEnding(response, Math.min(END_AFTER_FLUSH_MS, keep.untilMs - keep.clock.monotonicMs()));
  else response.destroy();
  return parsed.advertisement;
}

/** Reads the answer's end if it comes within `waitMs`, with no more body; destroys the answer otherwise. */
async function keepIfEnding(response: IncomingMessage, waitMs: number): Promise<void> {
  if (response.readableEnded) return;
  if (response.complete) {
    // All of it has arrived: what is left is read from memory; the advertisement stands whatever happens to it.
    await finished(response.resume()).catch(() => {});
    return;
  }
  if (waitMs <= 0) {
    response.destroy();
    return;
  }
  await new Promise<void>((resolve) => {
    const settle = (ended: boolean) => {
      clearTimeout(timer);
      response.off('data', more);
      response.off('end', end);
      if (!ended) response.destroy();
      resolve();
    };
    const more = () => settle(false);
    const end = () => settle(true);
    const timer = setTimeout(more, waitMs);
    response.on('data', more);
    response.once('end', end);
  });
}

/** The git step's record and, beside it, what the fetch and the ref assertions read (never in the record). */
export interface LsRemoteOutcome {
  result: GitStepResult;
  /** The parsed advertisement, when the call succeeded. */
  advertisement: Advertisement | null;
}

/** Step `git` as a record (see {@link lsRemote}). */
export const gitStep = async (...args: Parameters<typeof lsRemote>): Promise<GitStepResult> =>
  (await lsRemote(...args)).result;

/**
 * Step `git`: what `git ls-remote` does over smart HTTP (protocol v0), natively: one signed GET of
 * `/v1/repos/<repo>/info/refs?service=git-upload-pack`, the advertisement parsed as it streams in.
 */
export async function lsRemote(
  target: GitTarget,
  credentials: AwsCredentials,
  deps: NetDeps & { maxAdvertisementBytes: number },
  signal?: AbortSignal,
): Promise<LsRemoteOutcome> {
  // The wait for a kept-alive answer's end stops this much before the deadline could strike during it.
  const keep = deps.connections
    ? { clock: deps.clock, untilMs: deps.clock.monotonicMs() + target.timeouts.gitMs - DEADLINE_MARGIN_MS }
    : null;
  const { value, ...result } = await timedExchange(
    target.gitEndpoint,
    // The parser enforces the advertisement cap; the socket cap (a little above) covers headers too.
    { deadlineMs: target.timeouts.gitMs, maxResponseBytes: deps.maxAdvertisementBytes + 64 * 1024 },
    deps,
    ({ url, agent, signal: abortSignal, trace }) =>
      new Promise<Advertisement>((resolve, reject) => {
        const req = gitRequest(
          target,
          credentials,
          deps.clock,
          url,
          '/info/refs?service=git-upload-pack',
          { agent, signal: abortSignal, headers: { Accept: '*/*' } },
          (response) => {
            try {
              expectGitAnswer(response, url, ADVERTISEMENT_TYPE);
            } catch (failure) {
              reject(failure);
              return;
            }
            readAdvertisement(response, deps.maxAdvertisementBytes, trace, keep).then(resolve, reject);
          },
        );
        req.on('error', reject);
        req.end();
      }),
    signal,
  );
  return {
    result: {
      ...result,
      refs: value?.refs.length ?? 0,
      head: value?.head ?? null,
      headSha: value?.headSha ?? null,
    },
    advertisement: value ?? null,
  };
}

/** The git step's result when `sts` failed and there were no credentials to try with. */
export function skippedGitStep(target: GitTarget): GitStepResult {
  return {
    ...skippedGitEndpointStep(target.gitEndpoint, target.timeouts.gitMs),
    refs: 0,
    head: null,
    headSha: null,
  };
}
