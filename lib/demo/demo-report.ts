/**
 * The report the demo ends with: the same computation and text as `codecommit-canary report`, fed from the
 * demo's own runs (the metrics it would have put to CloudWatch) and its in-memory table's history and silence
 * log instead of GetMetricData and DynamoDB. The demo's schedule runs every few seconds, not every minute, so each
 * run is its own period and the expected samples are the runs played.
 */
import {
  HISTORY_PREFIX,
  type IncidentHistory,
  SILENCE_LOG_PREFIX,
  targetOfKey as targetOf,
} from '../alerting/history.ts';
import type { MemoryTable } from '../alerting/versioned-table.ts';
import { computeReport, type Report, type SilenceSpan, type StepSeries } from '../report/compute.ts';
import type { TargetResult } from '../types.ts';
import { STEP_NAMES } from '../types.ts';

export interface PlayedRun {
  /** Epoch ms of the run. */
  at: number;
  results: readonly TargetResult[];
}

/**
 * @example
 * formatReportText(await demoReport(runs, table, { intervalMs: 2500, slo: 99 }));
 */
export async function demoReport(
  runs: readonly PlayedRun[],
  table: MemoryTable,
  options: { intervalMs: number; slo: number },
): Promise<Report> {
  const targets = new Map<string, Record<string, StepSeries>>();
  for (const run of runs) {
    for (const result of run.results) {
      const steps = targets.get(result.name) ?? {};
      for (const step of STEP_NAMES) {
        const stepResult = result.steps[step];
        if (!stepResult) continue;
        const series = steps[step] ?? { successSum: [], successCount: [], latency: {} };
        series.successSum.push({ t: run.at, v: stepResult.ok ? 1 : 0 });
        series.successCount.push({ t: run.at, v: 1 });
        if (!stepResult.skipped) {
          series.latency.Duration = [...(series.latency.Duration ?? []), { t: run.at, v: stepResult.durationMs }];
        }
        steps[step] = series;
      }
      targets.set(result.name, steps);
    }
  }
  const since = runs[0]?.at ?? 0;
  const until = (runs.at(-1)?.at ?? since) + options.intervalMs;
  const history = await table.scanPrefix(HISTORY_PREFIX);
  const log = await table.scanPrefix(SILENCE_LOG_PREFIX);
  return computeReport({
    since: new Date(since),
    until: new Date(until),
    periodSeconds: options.intervalMs / 1000,
    samplesPerMinute: runs.length / Math.max((until - since) / 60_000, 1e-9),
    bucket: 'day',
    slo: options.slo,
    targets: [...targets.entries()].map(([name, steps]) => ({ name, steps })),
    incidents: history.map((h) => ({
      ...(h as unknown as IncidentHistory),
      target: targetOf(h.target, HISTORY_PREFIX),
    })),
    silences: log.map((s) => ({ ...(s as unknown as SilenceSpan), target: targetOf(s.target, SILENCE_LOG_PREFIX) })),
    windows: [],
    findings: [],
  });
}
