/**
 * Invoking one step of a cell's run as Lambda would: the probe (`runMonitor`, as handlers/probe.ts runs it) under
 * the deadline the handler sizes, and, in log mode, the notifier (`notify` on `decodeSubscriptionEvent`, as
 * handlers/notify.ts runs it) for each delivery of the subscription event of the probe's stdout. An invocation
 * the step kills must die in its Publish.
 */
import { type NotifySummary, notify } from '../../lib/alerting/notify.ts';
import { type MonitorDeps, runMonitor } from '../../lib/run/monitor.ts';
import { decodeTestEvent, testSubscriptionEvent } from '../alert-path.ts';
import type { StepSetup } from './arrange.ts';
import { TIMING } from './matrix.ts';
import type { CellRun, StepAt } from './run-cell.ts';

/** How long a killed invocation may take to reach the Publish it dies in. */
const KILL_WAIT_MS = 10_000;

/** The step's invocations; what the alerting ones returned. */
export async function invokeStep(run: CellRun, at: StepAt, setup: StepSetup): Promise<NotifySummary[]> {
  const summaries: NotifySummary[] = [];
  await invokeProbe(run, at, setup, summaries);
  if (run.mode === 'log') await invokeNotifier(at, setup, summaries);
  return summaries;
}

/** The probe's invocation. Its deadline as the handler sizes it: the budget plus the reporting reserve. */
async function invokeProbe(run: CellRun, at: StepAt, setup: StepSetup, summaries: NotifySummary[]): Promise<void> {
  const { mode, samples } = run;
  const deps: MonitorDeps = {
    probe: run.env.probe,
    metrics: setup.metrics,
    log: setup.probeOut,
    sleep: async () => {},
    ...(mode === 'direct' ? { alerts: setup.alertDeps } : {}),
  };
  const budgetMs = TIMING.budgetMs + (samples - 1) * 1000;
  const reserve =
    mode === 'direct' ? setup.callMs('cloudwatch') + samples * setup.notifyMs + TIMING.slackMs : TIMING.slackMs;
  const started = performance.now();
  const probing = runMonitor(run.env.config(samples), setup.targets, deps, { stack: run.base, budgetMs });
  if (mode === 'direct' && at.step.kill) {
    const failed = await untilKilled(setup.killed, probing, KILL_WAIT_MS);
    if (failed) at.say(`the killed probe ${failed}`);
    return;
  }
  const summary = await probing;
  at.timed(`${mode} probe`, started, budgetMs + reserve);
  if (summary.alerts) summaries.push(summary.alerts);
}

/** Log mode: the notifier's invocations for this run's subscription event, in the container. */
async function invokeNotifier(at: StepAt, setup: StepSetup, summaries: NotifySummary[]): Promise<void> {
  const { step } = at;
  const event = testSubscriptionEvent(setup.probeOut.lines());
  const deliveries = step.kill ? 1 : (step.deliveries ?? 2);
  for (let delivery = 1; delivery <= deliveries; delivery++) {
    const decoded = decodeTestEvent(event);
    const suspicious = decoded.rejected - (decoded.rejections['not-a-record'] ?? 0);
    if (decoded.records.length !== setup.records || suspicious > 0) {
      at.say(`notifier kept ${decoded.records.length} records (expected ${setup.records}), rejected ${suspicious}`);
    }
    const started = performance.now();
    const notifying = notify(decoded.records, decoded.findings, setup.alertDeps);
    if (step.kill) {
      const failed = await untilKilled(setup.killed, notifying, KILL_WAIT_MS);
      if (failed) at.say(`the killed notifier ${failed}`);
      return;
    }
    summaries.push(await notifying);
    at.timed(`notifier delivery ${delivery}`, started, setup.notifyMs + TIMING.slackMs);
  }
}

/** Waits for `killed`, failing after `ms` or when `alternative` settles first (the invocation returned). */
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
