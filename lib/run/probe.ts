import type { ResolvedTarget } from '../config/config.ts';
import { Connections } from '../net/connections.ts';
import type { ZoneOf } from '../net/zones.ts';
import { expectStep } from '../steps/expect.ts';
import { fetchStep, skippedFetchStep } from '../steps/git/fetch.ts';
import { lsRemote, skippedGitStep } from '../steps/git/ls-remote.ts';
import { type EndpointPaths, PathChecks, type PathRequest, pathFailure, summarizePaths } from '../steps/paths.ts';
import { type StsDeps, sourceCredentialsOf, stsStep } from '../steps/sts.ts';
import { type Report, type StepResult, type TargetResult, targetVerdict } from '../types.ts';
import { type DiagnosisConfig, findingsFor, runChecks } from './diagnosis.ts';

export interface ProbeDeps extends StsDeps {
  maxAdvertisementBytes: number;
  /** Labels an endpoint address with its Availability Zone (`network.zones`). */
  zoneOf?: ZoneOf;
  /** The run's path checks, shared by every target (probeAll makes one per sample). */
  paths?: PathChecks;
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
  const ms = timeLeft(target.timeouts[step], deps, deadlineAt);
  return ms === target.timeouts[step] ? target : { ...target, timeouts: { ...target.timeouts, [step]: ms } };
}

const timeLeft = (ms: number, deps: ProbeDeps, deadlineAt?: number): number =>
  deadlineAt === undefined ? ms : Math.min(ms, Math.max(0, Math.floor(deadlineAt - deps.clock.monotonicMs())));

/**
 * A step with its endpoint's path checks: `ok` only when its own call and every path succeeded; when only paths
 * failed, its failure is the first failing path's, naming the address (and zone). A skipped step keeps its verdict.
 */
function withPaths<Step extends StepResult>(step: Step, checked: EndpointPaths | null): Step {
  if (checked === null) return step;
  const { degraded, firstFailed } = summarizePaths(checked.paths);
  const withChecks = { ...step, paths: checked.paths, degraded };
  if (!step.ok) return withChecks;
  if (firstFailed) return { ...withChecks, ok: false, failure: pathFailure(firstFailed) };
  // The step's own lookup answered but the paths' did not: no address could be checked.
  if (checked.failure) return { ...withChecks, ok: false, failure: checked.failure };
  return withChecks;
}

/**
 * One target: AssumeRole, then ls-remote with the role's credentials (skipped when `sts` failed), each beside the
 * path checks of every address of its endpoint (shared per run); then, when on, the shallow fetch of HEAD and the
 * ref assertions.
 */
export async function probeTarget(
  target: ResolvedTarget,
  deps: ProbeDeps,
  { signal, deadlineAt }: ProbeOptions = {},
): Promise<TargetResult> {
  const paths = deps.paths ?? new PathChecks(deps, signal);
  const stsTarget = withinBudget(target, 'stsMs', deps, deadlineAt);
  const checkPathsOf = (endpoint: string, request: PathRequest, deadlineMs: number) =>
    target.everyAddress ? paths.check(endpoint, request, { deadlineMs }) : Promise.resolve(null);
  // Both endpoints' checks start now, alongside the steps: they need no credentials.
  const stsPaths = checkPathsOf(target.stsEndpoint, { kind: 'sts' }, stsTarget.timeouts.stsMs);
  const gitPaths = checkPathsOf(
    target.gitEndpoint,
    { kind: 'git', repository: target.repository },
    timeLeft(target.timeouts.gitMs, deps, deadlineAt),
  );

  const source = await sourceCredentialsOf(deps);
  const sts = await stsStep(stsTarget, source, deps, signal);
  const ls = sts.credentials
    ? await lsRemote(withinBudget(target, 'gitMs', deps, deadlineAt), sts.credentials, deps, signal)
    : { result: skippedGitStep(target), advertisement: null };

  let fetch: TargetResult['steps']['fetch'];
  if (target.fetch) {
    const limits = { ...target.fetch, timeoutMs: timeLeft(target.fetch.timeoutMs, deps, deadlineAt) };
    fetch =
      sts.credentials && ls.advertisement
        ? await fetchStep(target, ls.advertisement, sts.credentials, deps, limits, signal)
        : skippedFetchStep(target, limits, sts.credentials ? 'ls-remote failed' : 'sts failed');
  }
  const expect = target.expect
    ? expectStep(target.expect, ls.result, ls.advertisement, fetch, deps.clock.now())
    : undefined;

  const steps: TargetResult['steps'] = {
    sts: withPaths(sts.result, await stsPaths),
    git: withPaths(ls.result, await gitPaths),
    ...(fetch ? { fetch } : {}),
    ...(expect ? { expect } : {}),
  };
  return {
    name: target.name,
    ok: targetVerdict(steps),
    repository: target.repository,
    region: target.region,
    roleArn: target.roleArn,
    steps,
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
  // One set of kept-alive connections per sample (each step still has its own request, and says whether its
  // connection was new or reused), and one set of path checks per endpoint name (always new connections).
  const connections = new Connections(deps.tls);
  const sampleDeps = { ...deps, connections, paths: new PathChecks(deps, options.signal) };
  const [results, checks] = await Promise.all([
    mapLimited(targets, options.concurrency, (target) => probeTarget(target, sampleDeps, options)),
    diagnosis
      ? runChecks(
          targets.map((t) => t.region),
          diagnosis,
          sampleDeps,
        )
      : null,
  ]).finally(() => connections.destroy());
  return {
    ok: results.every((r) => r.ok),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(deps.clock.monotonicMs() - start),
    targets: results,
    findings: diagnosis && checks ? findingsFor(results, checks, diagnosis) : [],
  };
}
