/**
 * Runs the whole matrix: every cell in each of its delivery modes (run-cell.ts), a few at a time, then checks each
 * run's datapoints against what CloudWatch stored under its namespace and adds up the totals.
 */

import type { MatrixEnv } from './environment.ts';
import { CELLS, type Cell, type Mode } from './matrix.ts';
import { type RunOutcome, runCell } from './run-cell.ts';

/** A run that threw: everything it should have paged is counted lost. */
function threw(cell: Cell, mode: Mode, error: unknown): RunOutcome {
  return {
    cell: cell.id,
    mode,
    targets: [],
    namespace: '',
    steps: cell.steps.length,
    probe: 'threw',
    datapoints: { produced: 0, stored: 0, emf: 0, failed: 0, lost: 0 },
    pages: {
      expected: cell.pages.length,
      delivered: 0,
      lost: cell.pages.length,
      duplicates: 0,
      falsePages: 0,
      sameKeyResends: 0,
      failOpen: 0,
    },
    deliveries: [],
    owed: [],
    invocations: [],
    problems: [`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`],
  };
}

/**
 * Datapoints CloudWatch (moto) stored under a namespace, counted in moto's store. (GetMetricData would be the API
 * to ask, but moto 5.2 drops the namespace filter of a query that has dimensions, so the `CertDaysLeft` of an
 * endpoint that several cells share would be counted in each of them.)
 */
async function storedByNamespace(env: MatrixEnv): Promise<Map<string, number>> {
  const data = (await env.sandbox.moto.data()) as { cloudwatch?: { MetricDatum?: Array<{ namespace: string }> } };
  const counts = new Map<string, number>();
  for (const { namespace } of data.cloudwatch?.MetricDatum ?? [])
    counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
  return counts;
}

/** Checks a run's datapoints against what CloudWatch stored under its namespace. */
function settleDatapoints(cell: Cell, run: RunOutcome, stored: number): void {
  const { produced, emf } = run.datapoints;
  run.datapoints.stored = stored;
  run.datapoints.lost = Math.max(0, produced - stored - emf);
  if (run.datapoints.lost > 0) run.problems.push(`datapoints: ${produced} produced, ${stored} stored, ${emf} EMF`);
  if (stored + emf > produced) run.problems.push(`datapoints duplicated: ${stored} stored + ${emf} EMF of ${produced}`);
  const wantStored = run.mode === 'direct' && !cell.steps.some((s) => s.cloudwatch);
  if (wantStored ? stored !== produced : emf !== produced) {
    run.problems.push(
      `datapoints went ${stored} to CloudWatch, ${emf} to EMF; expected all to ${wantStored ? 'CloudWatch' : 'EMF'}`,
    );
  }
}

export interface CellOutcome {
  cell: Cell;
  runs: RunOutcome[];
  asExpected: boolean;
  problems: string[];
}

export interface MatrixTotals {
  cases: number;
  asExpected: number;
  /** Runs of a cell in one delivery mode. */
  runs: number;
  /** Probe invocations, and the invocations timed against a deadline (probe and notifier). */
  steps: number;
  invocations: number;
  datapoints: number;
  datapointsLost: number;
  /** Distinct pages read back from the queue. */
  pages: number;
  alertsLost: number;
  duplicatePages: number;
  falsePages: number;
  sameKeyResends: number;
  /** The largest elapsed/deadline of any invocation. */
  worstDeadlineShare: number;
}

export interface MatrixResult {
  cells: CellOutcome[];
  durationMs: number;
  /** Peak RSS of the process during the matrix, and its RSS before. */
  rss: { beforeMiB: number; peakMiB: number };
  totals: MatrixTotals;
}

/**
 * Runs the cells' runs (a cell in one mode), `concurrency` at a time, longest first. Each run has its own
 * targets, table, namespace and queue messages (filed by target), so runs never see each other's state.
 */
export async function runMatrix(
  env: MatrixEnv,
  options: { concurrency?: number; cells?: readonly Cell[]; onRun?: (cell: Cell, mode: Mode) => void } = {},
): Promise<MatrixResult> {
  const cells = options.cells ?? CELLS;
  const work = cells
    .flatMap((cell, index) => cell.modes.map((mode) => ({ cell, index, mode })))
    .sort((a, b) => b.cell.steps.length - a.cell.steps.length);
  const started = performance.now();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const runsByCell = cells.map(() => [] as RunOutcome[]);
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const item = work[next++];
      if (!item) break;
      const outcome = await runCell(env, item.cell, item.mode).catch((error: unknown) =>
        threw(item.cell, item.mode, error),
      );
      runsByCell[item.index]?.push(outcome);
      options.onRun?.(item.cell, item.mode);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 6, work.length) }, worker));
  } finally {
    clearInterval(sampler);
  }
  // Moto applies PutMetricData before answering it: once every run has returned, its datapoints are in the store.
  const stored = await storedByNamespace(env);
  const outcomes: CellOutcome[] = cells.map((cell, i) => {
    const runs = (runsByCell[i] ?? []).sort((a, b) => cell.modes.indexOf(a.mode) - cell.modes.indexOf(b.mode));
    for (const run of runs) if (run.namespace) settleDatapoints(cell, run, stored.get(run.namespace) ?? 0);
    const problems = runs.flatMap((r) => r.problems.map((p) => `${r.mode}: ${p}`));
    return { cell, runs, asExpected: problems.length === 0, problems };
  });
  const runs = outcomes.flatMap((c) => c.runs);
  const sum = (f: (r: RunOutcome) => number) => runs.reduce((n, r) => n + f(r), 0);
  const MiB = 1024 * 1024;
  return {
    cells: outcomes,
    durationMs: performance.now() - started,
    rss: { beforeMiB: Math.round(before / MiB), peakMiB: Math.round(Math.max(peak, process.memoryUsage().rss) / MiB) },
    totals: {
      cases: outcomes.length,
      asExpected: outcomes.filter((c) => c.asExpected).length,
      runs: runs.length,
      steps: sum((r) => r.steps),
      invocations: sum((r) => r.invocations.length),
      datapoints: sum((r) => r.datapoints.produced),
      datapointsLost: sum((r) => r.datapoints.lost),
      pages: sum((r) => r.pages.delivered),
      alertsLost: sum((r) => r.pages.lost),
      duplicatePages: sum((r) => r.pages.duplicates),
      falsePages: sum((r) => r.pages.falsePages),
      sameKeyResends: sum((r) => r.pages.sameKeyResends),
      worstDeadlineShare: Math.max(0, ...runs.flatMap((r) => r.invocations.map((i) => i.elapsedMs / i.deadlineMs))),
    },
  };
}
