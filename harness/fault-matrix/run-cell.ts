/**
 * One run of a cell in one delivery mode. The run gets its own targets, its own alert table, its own CloudWatch
 * namespace and one warm "container" (its fail-open memory), and goes through the cell's steps. Each step is
 * arranged (arrange.ts: the step's broken clients, targets and alert path), invoked (invoke.ts: the probe, and in
 * log mode the notifier for each delivery of the probe's subscription event) and read back (read-back.ts: what
 * reached the queue, what the table still owes, what the probe reported, where the datapoints went).
 */

import type { SnsEnvelope } from '../sqs.ts';
import { arrangeStep } from './arrange.ts';
import type { MatrixEnv } from './environment.ts';
import { type Delivery, type PageTally, type ReportedRun, type ResolvedPage, tallyPages } from './expectations.ts';
import { invokeStep } from './invoke.ts';
import type { Cell, Mode, Step } from './matrix.ts';
import { checkAlertLog, checkOwed, checkResults, countDatapoints, readPages } from './read-back.ts';

/** One invocation's time against its deadline. */
export interface Invocation {
  what: string;
  elapsedMs: number;
  deadlineMs: number;
}

export interface RunOutcome {
  cell: string;
  mode: Mode;
  targets: string[];
  /** The run's CloudWatch namespace (its own, so stored datapoints are counted per run). */
  namespace: string;
  /** Probe invocations (steps) of this run. */
  steps: number;
  /** The first step's failed step as the probe reported it (first target), e.g. `timeout/dns`, or `ok`. */
  probe: string;
  datapoints: { produced: number; stored: number; emf: number; failed: number; lost: number };
  pages: PageTally;
  deliveries: Delivery[];
  /** What the table still owed after each step (all targets). */
  owed: string[][];
  invocations: Invocation[];
  problems: string[];
}

/** A run of a cell while its steps go: what they share and what they gather. */
export interface CellRun {
  env: MatrixEnv;
  cell: Cell;
  mode: Mode;
  /** The run's name: the stack name, and the prefix of its targets' names. */
  base: string;
  targets: Array<{ id: string; name: string; healthy?: boolean }>;
  namespace: string;
  samples: number;
  table: { name: string };
  /** The alert path's clock (policy and outbox): real time, moved ahead to pass a dead invocation's lease. */
  clock: { offsetMs: number; now(): Date };
  /** One warm container (the notifier's in log mode, the probe's in direct mode) until an invocation dies. */
  failOpenSent: Map<string, number>;
  problems: string[];
  invocations: Invocation[];
  deliveries: Delivery[];
  envelopes: SnsEnvelope[];
  reported: Map<string, ReportedRun>;
  owed: string[][];
  outputs: { probe: string[]; notifier: string[] };
  datapoints: RunOutcome['datapoints'];
  firstProbe: string;
}

/** One step of a run: its number (1-based), what it breaks, and where its problems go. */
export interface StepAt {
  run: number;
  step: Step;
  say(problem: string): void;
  /** Records an invocation's time, and a problem when it passed its deadline. */
  timed(what: string, startedAt: number, deadlineMs: number): void;
}

/** One run of a cell in one delivery mode. */
export async function runCell(env: MatrixEnv, cell: Cell, mode: Mode): Promise<RunOutcome> {
  const run = await startRun(env, cell, mode);
  for (const [index, step] of cell.steps.entries()) await runStep(run, stepAt(run, index + 1, step));
  return finishRun(run);
}

async function startRun(env: MatrixEnv, cell: Cell, mode: Mode): Promise<CellRun> {
  const base = `${cell.id}-${mode}`;
  const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };
  return {
    env,
    cell,
    mode,
    base,
    targets: cell.targets.map((t) => ({ ...t, name: targetName(base, t.id) })),
    namespace: `CanaryMatrix/${base}`,
    samples: cell.samples ?? 1,
    // Its own table: tables are left to moto (dropping one costs as much as making it).
    table: await env.table(),
    clock,
    failOpenSent: new Map(),
    problems: [],
    invocations: [],
    deliveries: [],
    envelopes: [],
    reported: new Map(),
    owed: [],
    outputs: { probe: [], notifier: [] },
    datapoints: { produced: 0, stored: 0, emf: 0, failed: 0, lost: 0 },
    firstProbe: 'no result',
  };
}

const targetName = (base: string, id: string) => (id ? `${base}-${id}` : base);

function stepAt(cellRun: CellRun, run: number, step: Step): StepAt {
  const say = (problem: string) => cellRun.problems.push(`run ${run}: ${problem}`);
  return {
    run,
    step,
    say,
    timed(what, startedAt, deadlineMs) {
      const elapsedMs = performance.now() - startedAt;
      cellRun.invocations.push({ what, elapsedMs, deadlineMs });
      if (elapsedMs > deadlineMs) say(`${what} took ${Math.round(elapsedMs)} ms, deadline ${deadlineMs} ms`);
    },
  };
}

async function runStep(run: CellRun, at: StepAt): Promise<void> {
  run.clock.offsetMs = at.step.clockOffsetMs ?? 0;
  const setup = arrangeStep(run, at.step);
  try {
    const summaries = await invokeStep(run, at, setup);
    // A dead invocation's container is gone; the next invocation is a cold start.
    if (at.step.kill) run.failOpenSent = new Map();
    checkAlertLog(at, setup.alertOut, summaries);
    await readPages(run, at);
    await checkOwed(run, at);
    checkResults(run, at, setup);
    countDatapoints(run, at, setup);
  } finally {
    run.outputs.probe.push(setup.probeOut.text());
    run.outputs.notifier.push(setup.notifierOut.text());
    setup.dispose();
  }
}

function finishRun(run: CellRun): RunOutcome {
  const { env, cell, base } = run;
  const expected: ResolvedPage[] = cell.pages.map((page) => ({ ...page, target: targetName(base, page.target) }));
  const pages = tallyPages(expected, run.deliveries, run.reported, { ambiguous: Boolean(cell.ambiguous) });
  run.problems.push(...pages.problems);
  env.outputs.set(`${base}: probe stdout`, run.outputs.probe.join(''));
  env.outputs.set(`${base}: notifier stdout`, run.outputs.notifier.join(''));
  env.outputs.set(`${base}: alerts delivered`, JSON.stringify(run.envelopes));
  return {
    cell: cell.id,
    mode: run.mode,
    targets: run.targets.map((t) => t.name),
    namespace: run.namespace,
    steps: cell.steps.length,
    probe: run.firstProbe,
    datapoints: run.datapoints,
    pages: pages.tally,
    deliveries: run.deliveries,
    owed: run.owed,
    invocations: run.invocations,
    problems: run.problems,
  };
}
