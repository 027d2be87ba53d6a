/**
 * The availability report, computed from plain data (lib/report/fetch.ts gets it from CloudWatch and the alert
 * table). Pure: no clients, no clock; every number a test can check by hand.
 *
 * - Availability per target and step from the `Success` metric: good samples over samples, per period (one
 *   minute up to 15 days back, as CloudWatch keeps it). Counted twice: over all time, and leaving out the time a
 *   silence or maintenance window covered the target (people disagree on which one is right, so both, labelled).
 * - Runs missing (no datapoint where the schedule expected one) are counted apart from failures.
 * - Latency: p50/p95/p99 of the per-period `Duration` and phase values.
 * - Incidents from the history items, muted time from the silence log and the windows, findings seen.
 */

import type { IncidentHistory } from '../alerting/history.ts';
import { activeMute, type MaintenanceWindow } from '../alerting/silences.ts';

export type Bucket = 'day' | 'week' | 'month';

/** One period's datapoint: its start (epoch ms) and value. */
export interface Point {
  t: number;
  v: number;
}

/** What CloudWatch gave for one step of one target. */
export interface StepSeries {
  /** `Success` Sum and SampleCount per period. */
  successSum: Point[];
  successCount: Point[];
  /** `Duration` and each phase metric, Average per period, by metric name. */
  latency: Record<string, Point[]>;
}

export interface SilenceSpan {
  target: string;
  from: string;
  until: string;
  reason: string;
  by: string | null;
}

export interface ReportInput {
  since: Date;
  until: Date;
  periodSeconds: number;
  /** Samples the schedule expects per minute (samplesPerRun per 1-minute run). */
  samplesPerMinute: number;
  bucket: Bucket;
  /** SLO in percent, e.g. 99.9. */
  slo: number;
  targets: Array<{ name: string; steps: Record<string, StepSeries> }>;
  incidents: IncidentHistory[];
  silences: SilenceSpan[];
  windows: readonly MaintenanceWindow[];
  findings: Array<{ code: string; runs: number }>;
}

export interface Availability {
  good: number;
  samples: number;
  /** Percent, null without samples. */
  percent: number | null;
}

export interface LatencySummary {
  metric: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface StepReport {
  step: string;
  availability: Availability;
  availabilityUnmuted: Availability;
  latency: LatencySummary[];
}

export interface TargetReport {
  target: string;
  /** Every step good in a period (the run passed). */
  availability: Availability;
  /** The same, leaving out periods a silence or maintenance window covered. */
  availabilityUnmuted: Availability;
  /** Samples the schedule expected that have no datapoint (the probe did not run or its metrics were lost). */
  missingSamples: number;
  expectedSamples: number;
  failedSamples: number;
  mutedMinutes: number;
  steps: StepReport[];
  buckets: Array<{ start: string; availability: Availability }>;
  /** Per period, for charts: run availability (0..1) and Duration of the git step. */
  series: Array<{ t: number; ok: number; durationMs: number | null }>;
  incidents: IncidentHistory[];
  slo: { target: number; met: boolean | null; budgetMinutes: number; budgetLeftMinutes: number | null };
}

export interface Report {
  since: string;
  until: string;
  periodSeconds: number;
  bucket: Bucket;
  targets: TargetReport[];
  silences: SilenceSpan[];
  findings: Array<{ code: string; runs: number }>;
}

const availability = (good: number, samples: number): Availability => ({
  good,
  samples,
  percent: samples > 0 ? (good / samples) * 100 : null,
});

/**
 * The nearest-rank percentile of values; null when there are none.
 *
 * @example
 * percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Whether a period (start ms) of the target is muted by a silence or a window: the notifier's own rule. */
const mutedAt = (target: string, t: number, silences: readonly SilenceSpan[], windows: readonly MaintenanceWindow[]) =>
  activeMute(target, new Date(t), silences, windows) !== null;

/**
 * Time muted in the range: the union of the target's silences, exactly, plus each minute a window covers that no
 * silence does (windows repeat by cron, so they are walked minute by minute).
 */
function mutedMs(target: string, input: ReportInput): number {
  const [start, end] = [input.since.getTime(), input.until.getTime()];
  const spans = input.silences
    .filter((s) => s.target === target || s.target === '*')
    .map((s) => [Math.max(start, Date.parse(s.from)), Math.min(end, Date.parse(s.until))] as const)
    .filter(([from, until]) => until > from)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reached = start;
  for (const [from, until] of spans) {
    total += Math.max(0, until - Math.max(from, reached));
    reached = Math.max(reached, until);
  }
  if (input.windows.length === 0) return total;
  for (let t = start; t < end; t += 60_000) {
    const silenced = spans.some(([from, until]) => from <= t && t < until);
    if (!silenced && mutedAt(target, t, [], input.windows)) total += Math.min(60_000, end - t);
  }
  return total;
}

/** The start (UTC) of the bucket holding `t`: day, ISO week (Monday), or month. */
export function bucketStart(t: number, bucket: Bucket): string {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (bucket === 'day') return new Date(day).toISOString();
  if (bucket === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();
  return new Date(day - ((d.getUTCDay() + 6) % 7) * 86_400_000).toISOString();
}

/** Steps that judge the repository's content rather than the path to it. */
const CONTENT_STEPS: ReadonlySet<string> = new Set(['expect']);

const byTime = (points: readonly Point[]): Map<number, number> => new Map(points.map((p) => [p.t, p.v]));

function targetReport(input: ReportInput, target: ReportInput['targets'][number]): TargetReport {
  const stepNames = Object.keys(target.steps).sort();
  // The path's availability: the ref assertions (step `expect`) are about the repository's content, reported as
  // their own step, not as an outage of the path (a mirror that stopped syncing has not lost its network).
  const sums = stepNames.map((s) => byTime(target.steps[s]?.successSum ?? []));
  const counts = stepNames.map((s) => byTime(target.steps[s]?.successCount ?? []));
  const pathSums = sums.filter((_, i) => !CONTENT_STEPS.has(stepNames[i] ?? ''));
  const pathCounts = counts.filter((_, i) => !CONTENT_STEPS.has(stepNames[i] ?? ''));
  const periods = [...new Set(counts.flatMap((c) => [...c.keys()]))].sort((a, b) => a - b);
  // Every step's periods are among the target's: judge each period once.
  const muted = new Set(periods.filter((t) => mutedAt(target.name, t, input.silences, input.windows)));
  const gitDuration = byTime(target.steps.git?.latency.Duration ?? []);
  let good = 0;
  let samples = 0;
  let goodUnmuted = 0;
  let samplesUnmuted = 0;
  const bucketTotals = new Map<string, { good: number; samples: number }>();
  const series: TargetReport['series'] = [];
  for (const t of periods) {
    // A run passed when every step passed: the worst step's share of good samples in the period.
    const count = Math.max(...pathCounts.map((c) => c.get(t) ?? 0));
    const share = Math.min(
      ...pathSums.map((s, i) =>
        (pathCounts[i]?.get(t) ?? 0) > 0 ? (s.get(t) ?? 0) / (pathCounts[i]?.get(t) ?? 1) : 0,
      ),
    );
    const periodGood = share * count;
    good += periodGood;
    samples += count;
    if (!muted.has(t)) {
      goodUnmuted += periodGood;
      samplesUnmuted += count;
    }
    const key = bucketStart(t, input.bucket);
    const total = bucketTotals.get(key) ?? { good: 0, samples: 0 };
    bucketTotals.set(key, { good: total.good + periodGood, samples: total.samples + count });
    series.push({ t, ok: share, durationMs: gitDuration.get(t) ?? null });
  }
  const rangeMs = input.until.getTime() - input.since.getTime();
  const expectedSamples = Math.round((rangeMs / 60_000) * input.samplesPerMinute);
  const mutedMinutes = mutedMs(target.name, input) / 60_000;
  const steps: StepReport[] = stepNames.map((name, i) => {
    const series = target.steps[name] as StepSeries;
    let stepGood = 0;
    let stepSamples = 0;
    let unmutedGood = 0;
    let unmutedSamples = 0;
    for (const [t, count] of counts[i] ?? []) {
      const g = sums[i]?.get(t) ?? 0;
      stepGood += g;
      stepSamples += count;
      if (!muted.has(t)) {
        unmutedGood += g;
        unmutedSamples += count;
      }
    }
    const latency = Object.entries(series.latency)
      .sort(([a], [b]) => (a === 'Duration' ? -1 : b === 'Duration' ? 1 : a.localeCompare(b)))
      .map(([metric, points]) => {
        const values = points.map((p) => p.v);
        return { metric, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) };
      });
    return {
      step: name,
      availability: availability(stepGood, stepSamples),
      availabilityUnmuted: availability(unmutedGood, unmutedSamples),
      latency,
    };
  });
  // The error budget in minutes of the range; what failures and missing runs have used of it.
  const budgetMinutes = ((100 - input.slo) / 100) * (rangeMs / 60_000);
  const failedMinutes = (samples - good) / Math.max(input.samplesPerMinute, 1);
  const percent = samples > 0 ? (good / samples) * 100 : null;
  return {
    target: target.name,
    availability: availability(good, samples),
    availabilityUnmuted: availability(goodUnmuted, samplesUnmuted),
    missingSamples: Math.max(0, expectedSamples - samples),
    expectedSamples,
    failedSamples: samples - good,
    mutedMinutes,
    steps,
    buckets: [...bucketTotals.entries()].map(([start, total]) => ({
      start,
      availability: availability(total.good, total.samples),
    })),
    series,
    incidents: input.incidents
      .filter((incident) => incident.target === target.name)
      .sort((a, b) => a.openedAt.localeCompare(b.openedAt)),
    slo: {
      target: input.slo,
      met: percent === null ? null : percent >= input.slo,
      budgetMinutes,
      budgetLeftMinutes: samples > 0 ? budgetMinutes - failedMinutes : null,
    },
  };
}

/**
 * The report for every target given.
 *
 * @example
 * computeReport(input).targets[0].availability.percent // 99.79… for 3 failed runs in 1,440 minutes
 */
export function computeReport(input: ReportInput): Report {
  return {
    since: input.since.toISOString(),
    until: input.until.toISOString(),
    periodSeconds: input.periodSeconds,
    bucket: input.bucket,
    targets: input.targets.map((target) => targetReport(input, target)),
    silences: input.silences,
    findings: input.findings,
  };
}
