/**
 * What the report needs, fetched: the `Success`, `Duration` and phase metrics from CloudWatch (ListMetrics for
 * the targets and steps there are, GetMetricData page by page), the `Finding` metric per code, and the incident
 * history and silence log from the alert table. Every call has a deadline; a failure throws (the CLI reports it
 * as one line, exit 2).
 */
import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  HISTORY_PREFIX,
  type IncidentHistory,
  SILENCE_LOG_PREFIX,
  targetOfKey as targetOf,
} from '../alerting/history.ts';
import type { DynamoDbTable } from '../alerting/versioned-table.ts';
import { DIMENSION, METRIC, PHASE_METRICS } from '../metrics/catalogue.ts';
import { untilAborted } from '../net/deadline.ts';
import type { Point, ReportInput, SilenceSpan, StepSeries } from './compute.ts';

export interface FetchOptions {
  cloudwatch: CloudWatchClient;
  table: DynamoDbTable;
  namespace: string;
  since: Date;
  until: Date;
  /** Only these targets; all that have metrics when absent. */
  targets?: readonly string[] | undefined;
  /** Deadline for the whole fetch (ms). Default 60 s. */
  deadlineMs?: number;
}

export type ReportData = Pick<ReportInput, 'periodSeconds' | 'targets' | 'incidents' | 'silences' | 'findings'>;

/** A --target the metrics do not know: bad input. */
export class UnknownTargetError extends Error {}

const DAY_MS = 86_400_000;

/** CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, then hourly. */
export const periodFor = (since: Date, now: Date): number => {
  const age = now.getTime() - since.getTime();
  return age <= 15 * DAY_MS ? 60 : age <= 63 * DAY_MS ? 300 : 3600;
};

const LATENCY_METRICS = [METRIC.Duration, ...Object.values(PHASE_METRICS)];

async function listDimensions(
  cloudwatch: CloudWatchClient,
  namespace: string,
  metricName: string,
  signal: AbortSignal,
): Promise<Dimension[][]> {
  const found: Dimension[][] = [];
  let token: string | undefined;
  do {
    const page = await untilAborted(
      cloudwatch.send(new ListMetricsCommand({ Namespace: namespace, MetricName: metricName, NextToken: token }), {
        abortSignal: signal,
      }),
      signal,
    );
    for (const metric of page.Metrics ?? []) found.push(metric.Dimensions ?? []);
    token = page.NextToken;
  } while (token);
  return found;
}

const dim = (dimensions: Dimension[], name: string): string | undefined =>
  dimensions.find((d) => d.Name === name)?.Value;

/** Every query's points, by query id; GetMetricData page by page (500 queries per call). */
async function metricData(
  options: FetchOptions,
  queries: MetricDataQuery[],
  signal: AbortSignal,
): Promise<Map<string, Point[]>> {
  const points = new Map<string, Point[]>();
  for (let start = 0; start < queries.length; start += 500) {
    let token: string | undefined;
    do {
      const page = await untilAborted(
        options.cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries.slice(start, start + 500),
            StartTime: options.since,
            EndTime: options.until,
            ScanBy: 'TimestampAscending',
            NextToken: token,
          }),
          { abortSignal: signal },
        ),
        signal,
      );
      for (const result of page.MetricDataResults ?? []) {
        const list = points.get(result.Id ?? '') ?? [];
        (result.Timestamps ?? []).forEach((time, i) => {
          list.push({ t: time.getTime(), v: result.Values?.[i] ?? 0 });
        });
        points.set(result.Id ?? '', list);
      }
      token = page.NextToken;
    } while (token);
  }
  for (const list of points.values()) list.sort((a, b) => a.t - b.t);
  return points;
}

/**
 * @example
 * const data = await fetchReportData({ cloudwatch, table, namespace: 'CodeCommitCanary', since, until });
 */
export async function fetchReportData(options: FetchOptions): Promise<ReportData> {
  const signal = AbortSignal.timeout(options.deadlineMs ?? 60_000);
  const { cloudwatch, namespace } = options;
  const periodSeconds = periodFor(options.since, options.until);
  const stepsOf = new Map<string, Set<string>>();
  for (const dims of await listDimensions(cloudwatch, namespace, METRIC.Success, signal)) {
    const target = dim(dims, DIMENSION.Target);
    const step = dim(dims, DIMENSION.Step);
    if (target && step && dims.length === 2) stepsOf.set(target, (stepsOf.get(target) ?? new Set()).add(step));
  }
  const unknown = (options.targets ?? []).filter((t) => !stepsOf.has(t));
  if (unknown.length > 0) {
    const known = [...stepsOf.keys()].sort().join(', ') || '(none)';
    throw new UnknownTargetError(
      `--target: no metrics for ${unknown.join(', ')} in ${namespace}; targets with metrics: ${known}`,
    );
  }
  const targets = [...stepsOf.keys()].filter((t) => !options.targets || options.targets.includes(t)).sort();
  // Only the latency metrics there are (phases exist at detail `phases` only): each query costs a scan.
  const present = new Map<string, Set<string>>();
  for (const metric of LATENCY_METRICS) {
    const keys = (await listDimensions(cloudwatch, namespace, metric, signal)).map(
      (dims) => `${dim(dims, DIMENSION.Target)}/${dim(dims, DIMENSION.Step)}`,
    );
    present.set(metric, new Set(keys));
  }
  const queries: MetricDataQuery[] = [];
  const ids = new Map<string, { target: string; step: string; series: 'successSum' | 'successCount' | string }>();
  const query = (
    metricName: string,
    dimensions: Dimension[],
    stat: string,
    meaning: (typeof ids extends Map<string, infer V> ? V : never) | null,
  ) => {
    const id = `q${queries.length}`;
    queries.push({
      Id: id,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions },
        Period: periodSeconds,
        Stat: stat,
      },
      ReturnData: true,
    });
    if (meaning) ids.set(id, meaning);
    return id;
  };
  for (const target of targets) {
    for (const step of stepsOf.get(target) ?? []) {
      const dimensions = [
        { Name: DIMENSION.Target, Value: target },
        { Name: DIMENSION.Step, Value: step },
      ];
      query(METRIC.Success, dimensions, 'Sum', { target, step, series: 'successSum' });
      query(METRIC.Success, dimensions, 'SampleCount', { target, step, series: 'successCount' });
      for (const metric of LATENCY_METRICS) {
        if (present.get(metric)?.has(`${target}/${step}`))
          query(metric, dimensions, 'Average', { target, step, series: metric });
      }
    }
  }
  const findingIds = new Map<string, string>();
  // One query per metric: a listing may name a metric more than once (moto names it per datapoint).
  const findingMetrics = new Map(
    (await listDimensions(cloudwatch, namespace, METRIC.Finding, signal)).map((dims) => [JSON.stringify(dims), dims]),
  );
  for (const dims of findingMetrics.values()) {
    const code = dim(dims, DIMENSION.Code);
    if (code) findingIds.set(query(METRIC.Finding, dims, 'Maximum', null), code);
  }
  const points = await metricData(options, queries, signal);
  const byTarget = new Map<string, Record<string, StepSeries>>();
  for (const [id, meaning] of ids) {
    const steps = byTarget.get(meaning.target) ?? {};
    const series = steps[meaning.step] ?? { successSum: [], successCount: [], latency: {} };
    steps[meaning.step] = series;
    const values = points.get(id) ?? [];
    if (meaning.series === 'successSum') series.successSum = values;
    else if (meaning.series === 'successCount') series.successCount = values;
    else if (values.length > 0) series.latency[meaning.series] = values;
    byTarget.set(meaning.target, steps);
  }
  const findingRuns = new Map<string, number>();
  for (const [id, code] of findingIds) {
    const runs = (points.get(id) ?? []).filter((p) => p.v > 0).length;
    findingRuns.set(code, (findingRuns.get(code) ?? 0) + runs);
  }
  const [history, silenceLog] = await Promise.all([
    options.table.scanPrefix(HISTORY_PREFIX, signal),
    options.table.scanPrefix(SILENCE_LOG_PREFIX, signal),
  ]);
  // The partition key is the item's key (`#history/<target>/<opened>`): the target is inside it.
  const inRange = (from: string, to: string | null) =>
    Date.parse(from) < options.until.getTime() && (to === null || Date.parse(to) >= options.since.getTime());
  return {
    periodSeconds,
    targets: targets.map((name) => ({ name, steps: byTarget.get(name) ?? {} })),
    incidents: (history as unknown as IncidentHistory[])
      .map((h) => ({ ...h, target: targetOf(h.target, HISTORY_PREFIX) }))
      .filter((h) => h.type === 'incident' && targets.includes(h.target) && inRange(h.openedAt, h.closedAt)),
    silences: (silenceLog as unknown as Array<SilenceSpan & { type: string }>)
      .filter((s) => s.type === 'silence' && inRange(s.from, s.until))
      .map(({ target, from, until, reason, by }) => ({
        target: targetOf(target, SILENCE_LOG_PREFIX),
        from,
        until,
        reason,
        by,
      })),
    findings: [...findingRuns.entries()].filter(([, runs]) => runs > 0).map(([code, runs]) => ({ code, runs })),
  };
}
