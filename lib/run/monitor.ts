import { randomUUID } from 'node:crypto';
import { type NotifyDeps, type NotifySummary, notify } from '../alerting/notify.ts';
import type { Config, ResolvedTarget } from '../config/config.ts';
import { stepsMs } from '../config/resolve-target.ts';
import type { Writer } from '../log.ts';
import { type Datapoint, datapointsFor, diagnosisDatapoints, heartbeat } from '../metrics/catalogue.ts';
import { findingsRecordLine, resultRecordLine } from '../metrics/record-lines.ts';
import type { MetricSink, PublishOutcome } from '../metrics/sinks.ts';
import type { Finding, FindingsRecord, ResultRecord } from '../types.ts';
import type { DiagnosisConfig } from './diagnosis.ts';
import { type ProbeDeps, probeAll } from './probe.ts';

export type { DeliveryMode } from './budget.ts';

/** Everything one scheduled run touches; built once per process by the handler (or the demo). */
export interface MonitorDeps {
  probe: ProbeDeps;
  /** Log mode: EMF on stdout. Direct mode: PutMetricData with EMF as the fallback. */
  metrics: MetricSink;
  /** Where records go: stdout, which Lambda ships to the log group the notifier subscribes to. */
  log: Writer;
  /** Direct mode only: the probe raises incidents and announces findings itself, with the notifier's code. */
  alerts?: NotifyDeps;
  newRunId?: () => string;
  /** Waits between samples; injected so tests run sub-minute sampling on a virtual clock. */
  sleep?: (ms: number) => Promise<void>;
}

export type MonitorConfig = Pick<Config, 'concurrency' | 'metrics' | 'schedule'> & DiagnosisConfig;

export interface RunOptions {
  /** The stack's name: the Heartbeat metric's dimension. */
  stack: string;
  /** Milliseconds this run may spend probing (the handler leaves room for reporting). */
  budgetMs: number;
}

export interface SampleSummary {
  runId: string;
  ok: boolean;
  failed: string[];
  metrics: PublishOutcome;
  alerts?: NotifySummary;
}

export interface RunSummary {
  runId: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  targets: number;
  failed: string[];
  findings: Finding[];
  samples: SampleSummary[];
  /** The first sample's metric outcome (all of them: `samples`). */
  metrics: PublishOutcome;
  alerts?: NotifySummary;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One sample: probe every target within the budget, write one result record per target (and, with diagnosis,
 * the findings record), publish the metrics and the heartbeat, and (direct mode) raise incidents. Metrics are
 * published even when probing throws; the heartbeat only once the records are written, so a run that reports
 * nothing is a missing heartbeat, not a healthy-looking run.
 */
async function runSample(
  config: MonitorConfig,
  targets: readonly ResolvedTarget[],
  deps: MonitorDeps,
  options: RunOptions & { runId: string; deadlineAt: number; diagnose: boolean },
): Promise<SampleSummary & { findings: Finding[] }> {
  const startedAt = deps.probe.clock.now();
  const resolution = config.schedule.highResolution ? { storageResolution: 1 as const } : {};
  let records: ResultRecord[] = [];
  let findingsRecord: FindingsRecord | undefined;
  const points: Datapoint[] = [];
  let metrics: PublishOutcome;
  try {
    const report = await probeAll(targets, deps.probe, {
      concurrency: config.concurrency,
      deadlineAt: options.deadlineAt,
      ...(options.diagnose ? { diagnosis: config } : {}),
    });
    const stamp = { v: 1 as const, runId: options.runId, at: report.startedAt };
    records = report.targets.map((result) => ({ type: 'codecommit-canary/result', ...stamp, result }));
    for (const record of records) deps.log.write(resultRecordLine(record));
    if (options.diagnose) {
      findingsRecord = { type: 'codecommit-canary/findings', ...stamp, findings: report.findings };
      deps.log.write(findingsRecordLine(findingsRecord));
      points.push(...diagnosisDatapoints(options.stack, report.findings, report.targets, startedAt, resolution));
    }
    points.push(heartbeat(options.stack, startedAt, resolution));
  } finally {
    points.push(
      ...records.flatMap((r) => datapointsFor(r.result, { detail: config.metrics.detail, ...resolution }, startedAt)),
    );
    metrics = await deps.metrics.publish(points);
  }
  const alerts = deps.alerts ? await notify(records, findingsRecord ? [findingsRecord] : [], deps.alerts) : undefined;
  return {
    runId: options.runId,
    ok: records.every((r) => r.result.ok),
    failed: records.filter((r) => !r.result.ok).map((r) => r.result.name),
    findings: findingsRecord?.findings ?? [],
    metrics,
    ...(alerts ? { alerts } : {}),
  };
}

/**
 * One scheduled invocation: `schedule.samplesPerRun` samples spaced `intervalSeconds` apart (one by default),
 * each a full probe of every target, all within the budget. The global STS and path checks run once per
 * invocation (the first sample), not per sample or target.
 */
export async function runMonitor(
  config: MonitorConfig,
  targets: readonly ResolvedTarget[],
  deps: MonitorDeps,
  options: RunOptions,
): Promise<RunSummary> {
  const runId = (deps.newRunId ?? randomUUID)();
  const clock = deps.probe.clock;
  const sleep = deps.sleep ?? realSleep;
  const startedAt = clock.now();
  const start = clock.monotonicMs();
  const deadlineAt = start + options.budgetMs;
  const intervalMs = config.schedule.intervalSeconds * 1000;
  const longestStepMs = Math.max(0, ...targets.map(stepsMs));
  const samples: Array<SampleSummary & { findings: Finding[] }> = [];
  for (let index = 0; index < config.schedule.samplesPerRun; index++) {
    if (index > 0) {
      // A sample starts on its slot, and only if its probes can finish before the budget ends.
      const slot = start + index * intervalMs;
      if (slot + longestStepMs > deadlineAt) break;
      await sleep(Math.max(0, slot - clock.monotonicMs()));
    }
    const sampleId = config.schedule.samplesPerRun > 1 ? `${runId}/${index}` : runId;
    samples.push(
      await runSample(config, targets, deps, { ...options, runId: sampleId, deadlineAt, diagnose: index === 0 }),
    );
  }
  const [first] = samples;
  if (!first) throw new Error('runMonitor: no sample ran');
  const alertSummaries = samples.flatMap((s) => (s.alerts ? [s.alerts] : []));
  return {
    runId,
    ok: samples.every((s) => s.ok),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(clock.monotonicMs() - start),
    targets: targets.length,
    failed: [...new Set(samples.flatMap((s) => s.failed))],
    findings: first.findings,
    samples: samples.map(({ findings: _, ...sample }) => sample),
    metrics: first.metrics,
    ...(alertSummaries.length > 0
      ? {
          alerts: {
            records: alertSummaries.reduce((n, a) => n + a.records, 0),
            notifications: alertSummaries.flatMap((a) => a.notifications),
            owed: alertSummaries.at(-1)?.owed ?? 0,
            unrecorded: alertSummaries.reduce((n, a) => n + a.unrecorded, 0),
            deferred: alertSummaries.reduce((n, a) => n + a.deferred, 0),
            stateUnavailable: alertSummaries.some((a) => a.stateUnavailable),
          },
        }
      : {}),
  };
}
