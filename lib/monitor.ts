import { randomUUID } from 'node:crypto';
import { type ProcessResultsDeps, type ProcessSummary, processResults } from './alerts.ts';
import type { Config, ResolvedTarget } from './config.ts';
import type { Writer } from './log.ts';
import { resultRecordLine } from './log-records.ts';
import type { MetricSink, PublishOutcome } from './metric-sinks.ts';
import { datapointsFor, heartbeat } from './metrics.ts';
import { type ProbeDeps, probeAll } from './probe.ts';
import type { ResultRecord } from './types.ts';

export type DeliveryMode = 'log' | 'direct';

/** Everything one scheduled run touches; built once per process by the handler (or the demo). */
export interface MonitorDeps {
  probe: ProbeDeps;
  /** Log mode: EMF on stdout. Direct mode: PutMetricData with EMF as the fallback. */
  metrics: MetricSink;
  /** Where result records go: stdout, which Lambda ships to the log group the notifier subscribes to. */
  log: Writer;
  /** Direct mode only: the probe raises incidents itself, with the notifier's own code. */
  alerts?: ProcessResultsDeps;
  newRunId?: () => string;
}

export interface RunOptions {
  /** The stack's name: the Heartbeat metric's dimension. */
  stack: string;
  /** Milliseconds this run may spend probing (the handler leaves room for reporting). */
  budgetMs: number;
}

export interface RunSummary {
  runId: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  targets: number;
  failed: string[];
  metrics: PublishOutcome;
  alerts?: ProcessSummary;
}

/**
 * One scheduled run: probe every target within the budget, write one result record per target to the log,
 * publish the metrics and the heartbeat, and (direct mode) raise incidents. Reporting happens even when
 * probing throws: a run that reports nothing looks like a healthy run to everyone downstream.
 */
export async function runMonitor(
  config: Pick<Config, 'concurrency' | 'metrics'>,
  targets: readonly ResolvedTarget[],
  deps: MonitorDeps,
  options: RunOptions,
): Promise<RunSummary> {
  const runId = (deps.newRunId ?? randomUUID)();
  const clock = deps.probe.clock;
  const startedAt = clock.now();
  const deadlineAt = clock.monotonicMs() + options.budgetMs;
  let records: ResultRecord[] = [];
  let metrics: PublishOutcome;
  try {
    const report = await probeAll(targets, deps.probe, { concurrency: config.concurrency, deadlineAt });
    records = report.targets.map((result) => ({
      type: 'codecommit-canary/result',
      v: 1,
      runId,
      at: report.startedAt,
      result,
    }));
    for (const record of records) deps.log.write(resultRecordLine(record));
  } finally {
    const points = [
      ...records.flatMap((r) => datapointsFor(r.result, { detail: config.metrics.detail }, startedAt)),
      heartbeat(options.stack, startedAt),
    ];
    metrics = await deps.metrics.publish(points);
  }
  const alerts = deps.alerts ? await processResults(records, deps.alerts) : undefined;
  return {
    runId,
    ok: records.every((r) => r.result.ok),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(clock.monotonicMs() - (deadlineAt - options.budgetMs)),
    targets: records.length,
    failed: records.filter((r) => !r.result.ok).map((r) => r.result.name),
    metrics,
    ...(alerts ? { alerts } : {}),
  };
}
