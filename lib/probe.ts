import type { ResolvedTarget } from './config.ts';
import { gitStep, skippedGitStep } from './git/ls-remote.ts';
import type { AwsCredentials } from './git/password.ts';
import type { NetDeps } from './net/exchange.ts';
import { stsStep } from './sts-step.ts';
import type { Report, TargetResult } from './types.ts';

export interface ProbeDeps extends NetDeps {
  /** The caller's own credentials, used to assume each target's role. */
  sourceCredentials: () => Promise<AwsCredentials>;
  maxAdvertisementBytes: number;
}

/** Both steps for one target: AssumeRole, then ls-remote with the role's credentials (skipped when `sts` failed). */
export async function probeTarget(
  target: ResolvedTarget,
  deps: ProbeDeps,
  signal?: AbortSignal,
): Promise<TargetResult> {
  const sts = await stsStep(target, await deps.sourceCredentials(), deps, signal);
  const git = sts.credentials ? await gitStep(target, sts.credentials, deps, signal) : skippedGitStep(target);
  return {
    name: target.name,
    ok: sts.result.ok && git.ok,
    repository: target.repository,
    region: target.region,
    roleArn: target.roleArn,
    steps: { sts: sts.result, git },
  };
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Probes every target concurrently (bounded) and assembles the report. */
export async function probeAll(
  targets: readonly ResolvedTarget[],
  deps: ProbeDeps,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<Report> {
  const startedAt = deps.clock.now();
  const start = deps.clock.monotonicMs();
  const results = await mapLimited(targets, options.concurrency, (target) => probeTarget(target, deps, options.signal));
  return {
    ok: results.every((r) => r.ok),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(deps.clock.monotonicMs() - start),
    targets: results,
  };
}
