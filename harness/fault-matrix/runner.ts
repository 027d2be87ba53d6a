/**
 * Runs the matrix's cells end to end. One run of a cell in one delivery mode gets its own targets, its own alert
 * table, its own CloudWatch namespace and one warm "container" (its fail-open memory), and goes through the
 * cell's steps: each a probe invocation (`runMonitor`, as handlers/probe.ts runs it) and, in log mode, the
 * notifier's invocations for the subscription event of that probe's stdout (`notify` on
 * `decodeSubscriptionEvent`, as handlers/notify.ts runs them). After each step it reads back what reached the
 * queue subscribed to the topic, what the table still owes, and what the probe reported.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type NotifyDeps, type NotifySummary, notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import { type AlertSink, SnsAlertSink } from '../../lib/alerting/sinks.ts';
import { DynamoDbTable } from '../../lib/alerting/versioned-table.ts';
import type { ResolvedTarget } from '../../lib/config/config.ts';
import { jsonLogger } from '../../lib/log.ts';
import type { Datapoint } from '../../lib/metrics/catalogue.ts';
import { RESULT_RECORD_TYPE } from '../../lib/metrics/log-records.ts';
import { CloudWatchSink, EmfSink, type MetricSink, type PublishOutcome } from '../../lib/metrics/sinks.ts';
import { type MonitorDeps, type RunSummary, runMonitor } from '../../lib/run/monitor.ts';
import type { ResultRecord, StepName } from '../../lib/types.ts';
import { decodeTestEvent, testSubscriptionEvent } from '../alert-path.ts';
import { CapturedOutput } from '../secrets.ts';
import type { SnsEnvelope } from '../sqs.ts';
import { brokenClient, matrixLookup } from './clients.ts';
import type { MatrixEnv } from './environment.ts';
import {
  type Delivery,
  type PageTally,
  type ReportedRun,
  type ResolvedPage,
  reportedKey,
  tallyPages,
} from './expectations.ts';
import { ALERT_SETTINGS, ANSWER_LOST, CELLS, type Cell, FAULTS, type Mode, type Step, TIMING } from './matrix.ts';

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

/** A MetricSink that counts what the run hands over, and what failed, before passing it on. */
class CountingSink implements MetricSink {
  readonly name: string;
  readonly points: Datapoint[] = [];
  failed = 0;
  reason: string | null = null;
  constructor(private readonly inner: MetricSink) {
    this.name = inner.name;
  }
  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    this.points.push(...points);
    const outcome = await this.inner.publish(points);
    this.failed += outcome.failed;
    this.reason ??= outcome.reason;
    return outcome;
  }
}

/** EMF values in the captured lines (a metric's value may be an array of values). */
export function emfValueCount(objects: readonly Record<string, unknown>[]): number {
  let count = 0;
  for (const object of objects) {
    const aws = object._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics) {
        const value = object[Name];
        count += Array.isArray(value) ? value.length : 1;
      }
    }
  }
  return count;
}

/**
 * The longest one call of `notify()` may take: every call it makes at its deadline — the re-send scan, a claim,
 * Publish and settle per owed notification, a conditional write, Publish and settle per record, the findings
 * write — as if all were sequential (targets actually run concurrently).
 */
export const notifyBoundMs = (records: number, owed: number, tableMs: number, snsMs: number): number =>
  tableMs * (1 + 2 * owed + 2 * records + 1) + snsMs * (owed + records);

/** A sink whose Publish never returns: the invocation dies with it in flight, after its state write. */
function killingSink(onKilled: () => void): AlertSink {
  return {
    send: () => {
      onKilled();
      return new Promise(() => {});
    },
  };
}

const logTypes = (out: CapturedOutput, type: string) => out.objects().filter((o) => o.type === type);

/** What the probe must report for a target in a step: ok, or the failed step and its `kind/phase`. */
function expectedProbe(step: Step, healthy: boolean): { step: StepName; outcome: string } {
  const fault = (id: string | undefined) => FAULTS.find((f) => f.id === id);
  const sts = fault(step.sts);
  const git = fault(step.git);
  if (sts) return { step: 'sts', outcome: `${sts.probe.kind}/${sts.probe.phase}` };
  if (git) return { step: 'git', outcome: `${git.probe.kind}/${git.probe.phase}` };
  return healthy ? { step: 'git', outcome: 'ok' } : { step: 'sts', outcome: 'refused/connect' };
}

const failureOf = (result: ResultRecord['result']): string | null => {
  const failure = result.steps.sts.failure ?? result.steps.git.failure;
  return failure ? `${failure.kind}/${failure.phase}` : null;
};

/** Waits for `signal`, failing after `ms` or when `alternative` settles first (the invocation returned). */
async function untilKilled(killed: Promise<void>, alternative: Promise<unknown>, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    killed.then(() => null),
    alternative.then(
      () => 'returned: no Publish was started to die in',
      (error: unknown) => `threw: ${String(error)}`,
    ),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no Publish started within ${ms} ms`), ms);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

/** One run of a cell in one delivery mode. */
export async function runCell(env: MatrixEnv, cell: Cell, mode: Mode): Promise<RunOutcome> {
  const base = `${cell.id}-${mode}`;
  const nameOf = (id: string) => (id ? `${base}-${id}` : base);
  const targets = cell.targets.map((t) => ({ ...t, name: nameOf(t.id) }));
  const namespace = `CanaryMatrix/${base}`;
  const samples = cell.samples ?? 1;
  const problems: string[] = [];
  const invocations: Invocation[] = [];
  const deliveries: Delivery[] = [];
  const envelopes: SnsEnvelope[] = [];
  const reported = new Map<string, ReportedRun>();
  const owedLog: string[][] = [];
  const outputs = { probe: [] as string[], notifier: [] as string[] };
  const datapoints = { produced: 0, stored: 0, emf: 0, failed: 0, lost: 0 };
  let firstProbe = 'no result';
  // The alert path's clock (policy and outbox): real time, moved ahead to pass a dead invocation's lease.
  const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };
  // One warm container (the notifier's in log mode, the probe's in direct mode) until an invocation dies.
  let failOpenSent = new Map<string, number>();
  // Its own table: tables are left to moto (dropping one costs as much as making it).
  const table = await env.table();

  for (const [index, step] of cell.steps.entries()) {
    const run = index + 1;
    const say = (problem: string) => problems.push(`run ${run}: ${problem}`);
    const timed = (what: string, startedAt: number, deadlineMs: number) => {
      const elapsedMs = performance.now() - startedAt;
      invocations.push({ what, elapsedMs, deadlineMs });
      if (elapsedMs > deadlineMs) say(`${what} took ${Math.round(elapsedMs)} ms, deadline ${deadlineMs} ms`);
    };
    clock.offsetMs = step.clockOffsetMs ?? 0;
    const { lookup, cancel } = matrixLookup(env);
    const broken: Array<SNSClient | DynamoDBClient | CloudWatchClient> = [];
    const client = <T extends SNSClient | DynamoDBClient | CloudWatchClient>(made: T): T => {
      broken.push(made);
      return made;
    };
    const sns = step.sns ? client(brokenClient(env, 'sns', step.sns, lookup)) : env.healthy.sns;
    const dynamodb = step.dynamodb
      ? client(brokenClient(env, 'dynamodb', step.dynamodb, lookup))
      : env.healthy.dynamodb;
    const cloudwatch = step.cloudwatch
      ? client(brokenClient(env, 'cloudwatch', step.cloudwatch, lookup))
      : env.healthy.cloudwatch;
    const callMs = (dependency: 'sns' | 'dynamodb' | 'cloudwatch') =>
      step[dependency] ? TIMING.brokenCallMs : TIMING.healthyCallMs;
    const probeOut = new CapturedOutput();
    const notifierOut = new CapturedOutput();
    const alertOut = mode === 'log' ? notifierOut : probeOut;
    try {
      // The targets: the broken step's endpoint is the fault; otherwise a target that fails fast (sts refused)
      // so that every run has something to page about, or one that probes healthy (env.healthyTarget).
      const resolved: ResolvedTarget[] = targets.map((t) => {
        if (t.healthy || step.targetOk) {
          const timeouts = { stsMs: TIMING.budgetMs / 2, gitMs: TIMING.budgetMs / 2 };
          return env.sandbox.target({ name: t.name, ...env.healthyTarget, timeouts });
        }
        return env.sandbox.target({
          name: t.name,
          stsEndpoint: step.sts
            ? (env.endpoints[step.sts] as string)
            : step.git
              ? env.sandbox.stsEndpoint
              : (env.endpoints.refused as string),
          gitEndpoint: step.git ? (env.endpoints[step.git] as string) : env.sandbox.gitEndpoint,
          timeouts: { stsMs: step.git ? TIMING.healthyStepMs : TIMING.brokenStepMs, gitMs: TIMING.brokenStepMs },
        });
      });

      // The alert path of this invocation, in the container's memory.
      let onKilled = () => {};
      const killed = new Promise<void>((resolve) => {
        onKilled = resolve;
      });
      const logger = jsonLogger(alertOut);
      const alertDeps: NotifyDeps = {
        outbox: new Outbox(new DynamoDbTable(dynamodb, table.name), {
          clock,
          leaseMs: TIMING.leaseMs,
          deadlineMs: callMs('dynamodb'),
        }),
        sink: step.kill
          ? killingSink(onKilled)
          : new SnsAlertSink({ client: sns, topicArn: env.topicArn, logger, deadlineMs: callMs('sns') }),
        logger,
        settings: ALERT_SETTINGS,
        clock,
        failOpenSent,
      };
      const records = targets.length * samples;
      const owedBound = targets.length;
      const notifyMs = notifyBoundMs(records, owedBound, callMs('dynamodb'), callMs('sns'));

      // The probe's invocation. Its deadline as the handler sizes it: the budget plus the reporting reserve.
      const emf = new EmfSink({ namespace, writer: probeOut });
      const metrics = new CountingSink(
        mode === 'log'
          ? emf
          : new CloudWatchSink({ client: cloudwatch, namespace, fallback: emf, timeoutMs: callMs('cloudwatch') }),
      );
      const deps: MonitorDeps = {
        probe: env.probe,
        metrics,
        log: probeOut,
        sleep: async () => {},
        ...(mode === 'direct' ? { alerts: alertDeps } : {}),
      };
      const budgetMs = TIMING.budgetMs + (samples - 1) * 1000;
      const reserve = mode === 'direct' ? callMs('cloudwatch') + samples * notifyMs + TIMING.slackMs : TIMING.slackMs;
      const alertSummaries: NotifySummary[] = [];
      let started = performance.now();
      const probing = runMonitor(env.config(samples), resolved, deps, { stack: base, budgetMs });
      if (mode === 'direct' && step.kill) {
        const failed = await untilKilled(killed, probing, 10_000);
        if (failed) say(`the killed probe ${failed}`);
      } else {
        const summary: RunSummary = await probing;
        timed(`${mode} probe`, started, budgetMs + reserve);
        if (summary.alerts) alertSummaries.push(summary.alerts);
      }

      // Log mode: the notifier's invocations for this run's subscription event, in the container.
      if (mode === 'log') {
        const event = testSubscriptionEvent(probeOut.lines());
        const deliveriesOfEvent = step.kill ? 1 : (step.deliveries ?? 2);
        for (let delivery = 1; delivery <= deliveriesOfEvent; delivery++) {
          const decoded = decodeTestEvent(event);
          const suspicious = decoded.rejected - (decoded.rejections['not-a-record'] ?? 0);
          if (decoded.records.length !== records || suspicious > 0) {
            say(`notifier kept ${decoded.records.length} records (expected ${records}), rejected ${suspicious}`);
          }
          started = performance.now();
          const notifying = notify(decoded.records, decoded.findings, alertDeps);
          if (step.kill) {
            const failed = await untilKilled(killed, notifying, 10_000);
            if (failed) say(`the killed notifier ${failed}`);
            break;
          }
          alertSummaries.push(await notifying);
          timed(`notifier delivery ${delivery}`, started, notifyMs + TIMING.slackMs);
        }
      }
      // A dead invocation's container is gone; the next invocation is a cold start.
      if (step.kill) failOpenSent = new Map();

      // What the alerting invocations said about their pages, against the step.
      const owedLines = logTypes(alertOut, 'codecommit-canary/alert-owed');
      const undelivered = logTypes(alertOut, 'codecommit-canary/undelivered-alert');
      const expectOwed = (step.owedAfter ?? []).length > 0;
      if (step.sns && !step.dynamodb && !step.kill && expectOwed && owedLines.length === 0) {
        say('SNS failed and a page is owed, but no codecommit-canary/alert-owed line was logged');
      }
      if (step.sns && step.dynamodb) {
        // A fail-open page SNS refused is recorded nowhere: the notifier must make Lambda retry the event.
        if (undelivered.length === 0) say('no undelivered-alert line for the fail-open page SNS refused');
        if (!alertSummaries.every((s) => s.unrecorded > 0)) say('an invocation would not have been retried');
      } else if (undelivered.length > 0) {
        say(`${undelivered.length} undelivered-alert line(s) with the table up`);
      }

      // What reached the queue subscribed to the topic, after this run.
      if (step.sns === ANSWER_LOST) await env.answerLost.settled();
      for (const target of targets) {
        for (const envelope of await env.mailbox.take(target.name)) {
          const facts = JSON.parse(envelope.Message) as Record<string, unknown>;
          if (facts.type !== 'codecommit-canary/alert') continue; // finding notifications are not pages
          envelopes.push(envelope);
          const text = (key: string) => (typeof facts[key] === 'string' ? (facts[key] as string) : null);
          deliveries.push({
            target: target.name,
            state: text('state') ?? '?',
            dedupKey: text('dedupKey') ?? envelope.MessageId,
            runId: text('runId') ?? '?',
            run,
            failOpen: Boolean(facts.failOpen),
            kind: text('kind'),
            phase: text('phase'),
          });
        }
      }

      // What the table still owes.
      const owed: string[] = [];
      for (const target of targets) {
        const states = await env.owedStates(table.name, target.name);
        owed.push(...states);
        const want = [...(step.owedAfter ?? [])].sort();
        if (states.sort().join() !== want.join()) {
          say(`${target.name} owes [${states.join(', ')}], expected [${want.join(', ')}]`);
        }
      }
      owedLog.push(owed);

      // The probe's result records.
      const resultRecords = probeOut
        .objects()
        .filter((o) => o.type === RESULT_RECORD_TYPE) as unknown as ResultRecord[];
      if (resultRecords.length !== records) say(`${resultRecords.length} result records, expected ${records}`);
      for (const record of resultRecords) {
        const { result } = record;
        const target = targets.find((t) => t.name === result.name);
        const want = expectedProbe(step, Boolean(target?.healthy || step.targetOk));
        const failure = failureOf(result);
        const outcome = failure ?? 'ok';
        reported.set(reportedKey(result.name, record.runId), { ok: result.ok, failure });
        if (firstProbe === 'no result') firstProbe = outcome;
        if (outcome !== want.outcome) {
          const message = result.steps.sts.failure?.message ?? result.steps.git.failure?.message ?? '';
          say(`${result.name}: ${outcome} (${message}), expected ${want.outcome}`);
        }
        for (const name of ['sts', 'git'] as const) {
          const s = result.steps[name];
          if (s.durationMs > s.deadlineMs + TIMING.slackMs) {
            say(`${name} step took ${s.durationMs} ms, deadline ${s.deadlineMs}`);
          }
        }
        if (result.steps.sts.failure && !result.steps.git.skipped) say('git not skipped after sts failed');
        if (step.git && !result.steps.sts.ok) say(`healthy sts failed: ${JSON.stringify(result.steps.sts.failure)}`);
      }

      // Datapoints: handed over = stored + EMF. The stored count is read once, after all cells (runMatrix).
      datapoints.produced += metrics.points.length;
      datapoints.emf += emfValueCount(probeOut.objects());
      datapoints.failed += metrics.failed;
      if (metrics.failed > 0) say(`${metrics.failed} datapoint(s) counted failed: ${metrics.reason}`);
    } finally {
      outputs.probe.push(probeOut.text());
      outputs.notifier.push(notifierOut.text());
      cancel();
      for (const made of broken) made.destroy();
    }
  }

  const expected: ResolvedPage[] = cell.pages.map((page) => ({ ...page, target: nameOf(page.target) }));
  const pages = tallyPages(expected, deliveries, reported, { ambiguous: Boolean(cell.ambiguous) });
  problems.push(...pages.problems);
  env.outputs.set(`${base}: probe stdout`, outputs.probe.join(''));
  env.outputs.set(`${base}: notifier stdout`, outputs.notifier.join(''));
  env.outputs.set(`${base}: alerts delivered`, JSON.stringify(envelopes));
  return {
    cell: cell.id,
    mode,
    targets: targets.map((t) => t.name),
    namespace,
    steps: cell.steps.length,
    probe: firstProbe,
    datapoints,
    pages: pages.tally,
    deliveries,
    owed: owedLog,
    invocations,
    problems,
  };
}

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
