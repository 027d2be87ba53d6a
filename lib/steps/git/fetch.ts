import type { IncomingMessage } from 'node:http';
import type { ResolvedTarget } from '../../config/config.ts';
import { DEFAULT_FETCH_LIMITS } from '../../config/resolve-target.ts';
import { type NetDeps, timedExchange } from '../../net/exchange.ts';
import { StepFailure } from '../../net/failure.ts';
import type { FetchStepResult, StepResult } from '../../types.ts';

export type { FetchStepResult } from '../../types.ts';

import { type PackSummary, readPack } from './pack.ts';
import type { AwsCredentials } from './password.ts';
import { expectGitAnswer, gitRequest, skippedGitEndpointStep } from './request.ts';
import { FETCH_CAPABILITIES, packStream, uploadPackRequest } from './upload-pack.ts';

type FetchTarget = Pick<ResolvedTarget, 'repository' | 'region' | 'gitEndpoint'>;

export interface FetchLimits {
  /** Pack bytes accepted (default {@link DEFAULT_FETCH_LIMITS}): a larger pack fails the step. */
  maxBytes: number;
  /** The whole fetch, connect to the pack's last byte. */
  timeoutMs: number;
}

export { DEFAULT_FETCH_LIMITS };

/** What ls-remote learned that the fetch needs. */
export interface FetchWant {
  /** HEAD's oid; `null` (an empty repository, an unborn HEAD) skips the fetch. */
  headSha: string | null;
  /** The advertised capabilities; without them the server is taken to offer all the fetch asks for. */
  capabilities?: readonly string[];
}

/** What the fetch reports beside a step's fields (lib/metrics/record-schema.ts). */
export type FetchFields = Omit<FetchStepResult, keyof StepResult>;

interface Progress {
  bytes: number;
  firstAt: number | null;
  lastAt: number;
}

const RESULT_TYPE = 'application/x-git-upload-pack-result';
/**
 * Room on the socket above the pack: headers, side-band framing (5 bytes a packet), the shallow section, and what
 * one socket read may bring past the packet where the pack reader stops (Node 24 reads up to 256 KiB at a time),
 * so the pack's own cap, with its clearer message, is the one that trips.
 */
const FRAMING_ALLOWANCE_BYTES = 1024 * 1024;

/**
 * The share of the deadline the answer must have been silent for, when the deadline struck in body, to be a stall;
 * a shorter silence is a transfer too slow for its deadline.
 */
const STALL_QUIET_SHARE = 0.25;

const NOTHING_FETCHED: FetchFields = {
  commit: null,
  tree: null,
  committedAt: null,
  objects: 0,
  packBytes: 0,
  throughputBytesPerSec: null,
  bytesBeforeStall: null,
  stalledForMs: null,
};

/**
 * Step `fetch`: what `git fetch --depth 1 <remote> HEAD` does over smart HTTP (protocol v0), natively: one
 * `POST /v1/repos/<repo>/git-upload-pack` with a fresh CodeCommit password, the pack read as it streams in and
 * checked (header, object count, every object's zlib data, the SHA-1 trailer, the wanted commit hashed). Run
 * after a successful ls-remote; the pack is never kept.
 */
export async function fetchStep(
  target: FetchTarget,
  want: FetchWant,
  credentials: AwsCredentials,
  deps: NetDeps,
  limits: FetchLimits = DEFAULT_FETCH_LIMITS,
  signal?: AbortSignal,
): Promise<FetchStepResult> {
  const { headSha } = want;
  if (headSha === null) return skippedFetchStep(target, limits, 'empty repository: HEAD does not resolve');
  const upload = uploadPackRequest(headSha, want.capabilities ?? FETCH_CAPABILITIES);
  // Bytes of the answer's body (framing included) and of the pack, as they arrive: what a stall leaves behind.
  const startedAt = deps.clock.monotonicMs();
  const body: Progress = { bytes: 0, firstAt: null, lastAt: startedAt };
  const pack: Progress = { bytes: 0, firstAt: null, lastAt: startedAt };
  async function* counted<T extends Uint8Array>(source: AsyncIterable<T>, count: Progress): AsyncGenerator<T> {
    for await (const chunk of source) {
      count.bytes += chunk.length;
      count.lastAt = deps.clock.monotonicMs();
      count.firstAt ??= count.lastAt;
      yield chunk;
    }
  }

  const { value, ...result } = await timedExchange(
    target.gitEndpoint,
    { deadlineMs: limits.timeoutMs, maxResponseBytes: limits.maxBytes + FRAMING_ALLOWANCE_BYTES },
    // A connection of its own, as `git fetch` in a new process opens: its connect and TLS are timed on every fetch,
    // and a pack cut or stalled midway takes no connection of the sample's small requests with it.
    { ...deps, connections: undefined },
    async ({ url, agent, signal: abortSignal }): Promise<PackSummary> => {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const headers = {
          'Content-Type': 'application/x-git-upload-pack-request',
          Accept: RESULT_TYPE,
          'Content-Length': upload.body.length,
        };
        const options = { method: 'POST' as const, agent, signal: abortSignal, headers };
        const req = gitRequest(target, credentials, deps.clock, url, '/git-upload-pack', options, resolve);
        req.on('error', reject);
        req.end(upload.body);
      });
      expectGitAnswer(response, url, RESULT_TYPE);
      const read = await readPack(counted(packStream(counted(response, body), upload), pack), {
        want: headSha,
        maxBytes: limits.maxBytes,
      });
      if (!read.ok) throw new StepFailure({ kind: 'protocol', phase: 'body', message: read.error.message });
      return read.pack;
    },
    signal,
  );

  // A stall, not a slow transfer: some of the answer came, then nothing for a good part of the deadline. Without a
  // body byte it may as well be the server still packing: an ordinary timeout in body.
  const quietMs = Math.round(deps.clock.monotonicMs() - body.lastAt);
  const stalled =
    result.failure?.kind === 'timeout' &&
    result.failure.phase === 'body' &&
    body.bytes > 0 &&
    quietMs >= limits.timeoutMs * STALL_QUIET_SHARE;
  // From the pack's first byte: the server's packing time (before it) is not the path's throughput.
  const transferSeconds = pack.firstAt === null ? 0 : (pack.lastAt - pack.firstAt) / 1000;
  return {
    ...result,
    commit: value?.commit.oid ?? null,
    tree: value?.commit.tree ?? null,
    committedAt: value?.commit.committedAt ?? null,
    objects: value?.objects ?? 0,
    packBytes: value?.bytes ?? pack.bytes,
    throughputBytesPerSec: value && transferSeconds > 0 ? Math.round(value.bytes / transferSeconds) : null,
    bytesBeforeStall: stalled ? body.bytes : null,
    stalledForMs: stalled ? quietMs : null,
  };
}

/** The fetch step's result when it did not run: ls-remote failed, or the repository is empty. */
export function skippedFetchStep(target: FetchTarget, limits: FetchLimits, reason: string): FetchStepResult {
  return {
    ...skippedGitEndpointStep(target.gitEndpoint, limits.timeoutMs),
    ...NOTHING_FETCHED,
    skipReason: reason,
  };
}
