/**
 * Reading back one step of a cell's run and checking it against the step: what the alerting invocations logged
 * about their pages, what reached the queue subscribed to the topic, what the table still owes, what the probe
 * reported for each target, and where the datapoints went.
 */

import type { NotifySummary } from '../../lib/alerting/notify.ts';
import { RESULT_RECORD_TYPE } from '../../lib/metrics/log-records.ts';
import type { ResultRecord, StepName } from '../../lib/types.ts';
import { emfValueCount } from '../counting-sink.ts';
import type { CapturedOutput } from '../secrets.ts';
import type { StepSetup } from './arrange.ts';
import { reportedKey } from './expectations.ts';
import { ANSWER_LOST, FAULTS, type Step, TIMING } from './matrix.ts';
import type { CellRun, StepAt } from './run-cell.ts';

const logTypes = (out: CapturedOutput, type: string) => out.objects().filter((o) => o.type === type);

/** What the alerting invocations said about their pages, against the step. */
export function checkAlertLog(at: StepAt, alertOut: CapturedOutput, summaries: readonly NotifySummary[]): void {
  const { step, say } = at;
  const owedLines = logTypes(alertOut, 'codecommit-canary/alert-owed');
  const undelivered = logTypes(alertOut, 'codecommit-canary/undelivered-alert');
  const expectOwed = (step.owedAfter ?? []).length > 0;
  if (step.sns && !step.dynamodb && !step.kill && expectOwed && owedLines.length === 0) {
    say('SNS failed and a page is owed, but no codecommit-canary/alert-owed line was logged');
  }
  if (step.sns && step.dynamodb) {
    // A fail-open page SNS refused is recorded nowhere: the notifier must make Lambda retry the event.
    if (undelivered.length === 0) say('no undelivered-alert line for the fail-open page SNS refused');
    if (!summaries.every((s) => s.unrecorded > 0)) say('an invocation would not have been retried');
  } else if (undelivered.length > 0) {
    say(`${undelivered.length} undelivered-alert line(s) with the table up`);
  }
}

/** The pages that reached the queue subscribed to the topic, after this step (finding notifications are not). */
export async function readPages(run: CellRun, at: StepAt): Promise<void> {
  if (at.step.sns === ANSWER_LOST) await run.env.answerLost.settled();
  for (const target of run.targets) {
    for (const envelope of await run.env.mailbox.take(target.name)) {
      const facts = JSON.parse(envelope.Message) as Record<string, unknown>;
      if (facts.type !== 'codecommit-canary/alert') continue;
      run.envelopes.push(envelope);
      const text = (key: string) => (typeof facts[key] === 'string' ? (facts[key] as string) : null);
      run.deliveries.push({
        target: target.name,
        state: text('state') ?? '?',
        dedupKey: text('dedupKey') ?? envelope.MessageId,
        runId: text('runId') ?? '?',
        run: at.run,
        failOpen: Boolean(facts.failOpen),
        kind: text('kind'),
        phase: text('phase'),
      });
    }
  }
}

/** What the table still owes for each target, against the step's `owedAfter`. */
export async function checkOwed(run: CellRun, at: StepAt): Promise<void> {
  const owed: string[] = [];
  const want = [...(at.step.owedAfter ?? [])].sort();
  for (const target of run.targets) {
    const states = await run.env.owedStates(run.table.name, target.name);
    owed.push(...states);
    if (states.sort().join() !== want.join()) {
      at.say(`${target.name} owes [${states.join(', ')}], expected [${want.join(', ')}]`);
    }
  }
  run.owed.push(owed);
}

/** The probe's result records: one per target and sample, each failing where the step breaks it, in time. */
export function checkResults(run: CellRun, at: StepAt, setup: StepSetup): void {
  const { step, say } = at;
  const records = setup.probeOut.objects().filter((o) => o.type === RESULT_RECORD_TYPE) as unknown as ResultRecord[];
  if (records.length !== setup.records) say(`${records.length} result records, expected ${setup.records}`);
  for (const record of records) {
    const { result } = record;
    const target = run.targets.find((t) => t.name === result.name);
    const want = expectedProbe(step, Boolean(target?.healthy || step.targetOk));
    const failure = failureOf(result);
    const outcome = failure ?? 'ok';
    run.reported.set(reportedKey(result.name, record.runId), { ok: result.ok, failure });
    if (run.firstProbe === 'no result') run.firstProbe = outcome;
    if (outcome !== want.outcome) {
      const message = result.steps.sts.failure?.message ?? result.steps.git.failure?.message ?? '';
      say(`${result.name}: ${outcome} (${message}), expected ${want.outcome}`);
    }
    for (const name of ['sts', 'git'] as const) {
      const s = result.steps[name];
      if (s.durationMs > s.deadlineMs + TIMING.slackMs)
        say(`${name} step took ${s.durationMs} ms, deadline ${s.deadlineMs}`);
    }
    if (result.steps.sts.failure && !result.steps.git.skipped) say('git not skipped after sts failed');
    if (step.git && !result.steps.sts.ok) say(`healthy sts failed: ${JSON.stringify(result.steps.sts.failure)}`);
  }
}

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

/** Datapoints: handed over = stored + EMF. The stored count is read once, after all cells (runMatrix). */
export function countDatapoints(run: CellRun, at: StepAt, setup: StepSetup): void {
  const { metrics } = setup;
  run.datapoints.produced += metrics.handed;
  run.datapoints.emf += emfValueCount(setup.probeOut.objects());
  run.datapoints.failed += metrics.failed;
  if (metrics.failed > 0) at.say(`${metrics.failed} datapoint(s) counted failed: ${metrics.reason}`);
}
