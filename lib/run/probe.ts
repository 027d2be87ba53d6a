import type { ResolvedTarget } from '../config/config.ts';
import { gitStep, skippedGitStep } from '../steps/git/ls-remote.ts';
import { StsClients, type StsDeps, sourceCredentialsOf, stsStep } from '../steps/sts.ts';
import type { Report, TargetResult } from '../types.ts';
import { type DiagnosisConfig, findingsFor, runChecks } from './diagnosis.ts';

export interface ProbeDeps extends StsDeps {
  maxAdvertisementBytes: number;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /**
   * Monotonic time (ms, deps.clock) by which every step must have ended: each step's deadline is cut to what is
   * left, so a run never outlives its budget (a Lambda timeout would be a monitor failing silently).
   */
  deadlineAt?: number;
}

/** The target with one step's deadline cut to the time left before `deadlineAt`. */
function withinBudget(target: ResolvedTarget, step: 'stsMs' | 'gitMs', deps: ProbeDeps, deadlineAt?: number) {
  if (deadlineAt === undefined) return target;
  const left = Math.max(0, Math.floor(deadlineAt - deps.clock.monotonicMs()));
  if (target.timeouts[step] <= left) return target;
  return { ...target, timeouts: { ...target.timeouts, [step]: left } };
}

/** Both steps for one target: AssumeRole, then ls-remote with the role's credentials (skipped when `sts` failed). */
export async function probeTarget(
  target: ResolvedTarget,
  deps: ProbeDeps,
  { signal, deadlineAt }: ProbeOptions = {},
): Promise<TargetResult> {
  const source = await sourceCredentialsOf(deps);
  const sts = await stsStep(withinBudget(target, 'stsMs', deps, deadlineAt), source, deps, signal);
  const git = sts.credentials
    ? await gitStep(withinBudget(target, 'gitMs', deps, deadlineAt), sts.credentials, deps, signal)
    : skippedGitStep(target);
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

/**
 * Probes every target concurrently (bounded) and assembles the report; with `diagnosis`, the run's extra checks
 * (global STS, endpoint names) run alongside and their findings join the report.
 */
export async function probeAll(
  targets: readonly ResolvedTarget[],
  deps: ProbeDeps,
  options: ProbeOptions & { concurrency: number; diagnosis?: DiagnosisConfig },
): Promise<Report> {
  const startedAt = deps.clock.now();
  const start = deps.clock.monotonicMs();
  const { diagnosis } = options;
  // One set of STS clients per sample (each step still has its own request and connection).
  const stsClients = new StsClients();
  const sampleDeps = { ...deps, stsClients };
  const [results, checks] = await Promise.all([
    mapLimited(targets, options.concurrency, (target) => probeTarget(target, sampleDeps, options)),
    diagnosis
      ? runChecks(
          targets.map((t) => t.region),
          diagnosis,
          sampleDeps,
        )
      : null,
  ]).finally(() => stsClients.destroy());
  return {
    ok: results.every((r) => r.ok),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(deps.clock.monotonicMs() - start),
    targets: results,
    findings: diagnosis && checks ? findingsFor(results, checks, diagnosis) : [],
  };
}
