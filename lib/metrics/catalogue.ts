/**
 * The metric catalogue and the pure conversion of probe results into datapoints. (Over 300 lines on purpose:
 * most of it is the catalogue table, which alarms, dashboard and README are checked against.)
 *
 * A datapoint is plain data; sinks (`lib/metrics/sinks.ts`) decide how it leaves the process (EMF in the log,
 * `PutMetricData`, a console table). Alarms and the dashboard are built on the names in `METRIC_CATALOGUE`:
 * renaming one is a breaking change.
 */
import type { Finding, Phases, StepResult, TargetResult } from '../types.ts';
import { ENDPOINT_STEP_NAMES, FINDING_CODES, STEP_NAMES } from '../types.ts';

export const DEFAULT_NAMESPACE = 'CodeCommitCanary';

/** `basic`: Success and Duration per target and step. `phases`: adds the phase times and Timeout. */
export const DETAIL_LEVELS = ['basic', 'phases'] as const;
export type DetailLevel = (typeof DETAIL_LEVELS)[number];

/** CloudWatch storage resolution in seconds: 1 is a high-resolution metric (billed as such), 60 the standard. */
export const STORAGE_RESOLUTIONS = [1, 60] as const;
export type StorageResolution = (typeof STORAGE_RESOLUTIONS)[number];

const BYTE_SIZES = ['Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes'] as const;
const BIT_SIZES = ['Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits'] as const;
const perSecond = <Unit extends string>(units: readonly Unit[]) => units.map((unit) => `${unit}/Second` as const);

/** CloudWatch's standard units (the same strings in EMF and in `PutMetricData`): times, sizes, and rates. */
export const METRIC_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  ...BYTE_SIZES,
  ...BIT_SIZES,
  'Percent',
  'Count',
  ...perSecond(BYTE_SIZES),
  ...perSecond(BIT_SIZES),
  'Count/Second',
  'None',
] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

/** Limits shared by EMF and `PutMetricData`. */
export const MAX_DIMENSIONS = 30;
export const MAX_METRIC_NAME_LENGTH = 255;
export const MAX_DIMENSION_NAME_LENGTH = 255;
export const MAX_DIMENSION_VALUE_LENGTH = 1024;

/**
 * One value of one metric at one time. Any metric can be expressed (e.g. a future `CertDaysLeft` with
 * `{ Endpoint }`); the catalogue's own come from `datapointsFor` and `heartbeat`.
 */
export interface Datapoint {
  name: string;
  unit: MetricUnit;
  value: number;
  /** Exactly the dimension set the metric is stored under: CloudWatch matches the whole set, not a subset. */
  dimensions: Record<string, string>;
  timestamp: Date;
  /** 1 for a high-resolution metric; absent means standard (60). */
  storageResolution?: StorageResolution;
}

export const METRIC = {
  Success: 'Success',
  Duration: 'Duration',
  DnsTime: 'DnsTime',
  ConnectTime: 'ConnectTime',
  TlsTime: 'TlsTime',
  FirstByteTime: 'FirstByteTime',
  TransferTime: 'TransferTime',
  Timeout: 'Timeout',
  Heartbeat: 'Heartbeat',
  Finding: 'Finding',
  CertDaysLeft: 'CertDaysLeft',
  NotifierHeartbeat: 'NotifierHeartbeat',
  NotificationsOwed: 'NotificationsOwed',
  RecordsRejected: 'RecordsRejected',
} as const;
export type CatalogueMetricName = (typeof METRIC)[keyof typeof METRIC];

export const DIMENSION = {
  Target: 'Target',
  Step: 'Step',
  Stack: 'Stack',
  Code: 'Code',
  Endpoint: 'Endpoint',
} as const;

/** Phase field → metric name; every phase is emitted at the `phases` level (0 when it never happened). */
export const PHASE_METRICS = {
  dnsMs: METRIC.DnsTime,
  connectMs: METRIC.ConnectTime,
  tlsMs: METRIC.TlsTime,
  firstByteMs: METRIC.FirstByteTime,
  transferMs: METRIC.TransferTime,
} as const satisfies Record<keyof Phases, CatalogueMetricName>;

export interface MetricDefinition {
  name: CatalogueMetricName;
  unit: MetricUnit;
  /** Dimension names, in the order they are emitted. */
  dimensions: readonly string[];
  /** `step`: one per target and step; `run`: one per probe run; `code`: one per finding code; `endpoint`: per host. */
  scope: 'step' | 'run' | 'code' | 'endpoint' | 'notifier';
  /** The lowest detail level that emits the metric. */
  detail: DetailLevel;
  description: string;
}

const STEP_DIMENSIONS = [DIMENSION.Target, DIMENSION.Step] as const;
const phaseDefinition = (name: CatalogueMetricName, what: string): MetricDefinition => ({
  name,
  unit: 'Milliseconds',
  dimensions: STEP_DIMENSIONS,
  scope: 'step',
  detail: 'phases',
  description: `${what}; 0 when the phase never happened. Absent for a skipped step.`,
});

/** The documented catalogue: what exists, under which dimensions, from which detail level. */
export const METRIC_CATALOGUE: readonly MetricDefinition[] = [
  {
    name: METRIC.Success,
    unit: 'Count',
    dimensions: STEP_DIMENSIONS,
    scope: 'step',
    detail: 'basic',
    description: '1 when the step succeeded, 0 when it failed or was skipped (git after a failed sts).',
  },
  {
    name: METRIC.Duration,
    unit: 'Milliseconds',
    dimensions: STEP_DIMENSIONS,
    scope: 'step',
    detail: 'basic',
    description: "The step's elapsed time. Absent for a skipped step.",
  },
  phaseDefinition(METRIC.DnsTime, 'Name resolution'),
  phaseDefinition(METRIC.ConnectTime, 'TCP connect'),
  phaseDefinition(METRIC.TlsTime, 'TLS handshake'),
  phaseDefinition(METRIC.FirstByteTime, 'Request sent → first response byte'),
  phaseDefinition(METRIC.TransferTime, 'First response byte → last byte read'),
  {
    name: METRIC.Timeout,
    unit: 'Count',
    dimensions: STEP_DIMENSIONS,
    scope: 'step',
    detail: 'phases',
    description: '1 when the step ended at its deadline, else 0. Absent for a skipped step.',
  },
  {
    name: METRIC.Heartbeat,
    unit: 'Count',
    dimensions: [DIMENSION.Stack],
    scope: 'run',
    detail: 'basic',
    description: '1 per probe run; its alarm treats missing data as breaching, so a probe that stops running pages.',
  },
  {
    name: METRIC.Finding,
    unit: 'Count',
    dimensions: [DIMENSION.Stack, DIMENSION.Code],
    scope: 'code',
    detail: 'basic',
    description:
      'Per finding code, the number of such findings this run (0 when none): alarm on it if a finding should page.',
  },
  {
    name: METRIC.CertDaysLeft,
    unit: 'Count',
    dimensions: [DIMENSION.Endpoint],
    scope: 'endpoint',
    detail: 'basic',
    description: "Days until the endpoint's TLS certificate expires, from the handshakes of the run.",
  },
  {
    name: METRIC.NotifierHeartbeat,
    unit: 'Count',
    dimensions: [DIMENSION.Stack],
    scope: 'notifier',
    detail: 'basic',
    description: '1 per notifier invocation that ran to its end; missing data is breaching: the alert path is broken.',
  },
  {
    name: METRIC.NotificationsOwed,
    unit: 'Count',
    dimensions: [DIMENSION.Stack],
    scope: 'notifier',
    detail: 'basic',
    description:
      'Notifications left owed by a notifier invocation (SNS refused or hung); above 0 for long: pages are stuck.',
  },
  {
    name: METRIC.RecordsRejected,
    unit: 'Count',
    dimensions: [DIMENSION.Stack],
    scope: 'notifier',
    detail: 'basic',
    description:
      'Records the notifier rejected as implausible (schema, log group, stream, clock); above 0: look for forged records.',
  },
];

/**
 * Per finding code, how many findings of it this run (0 included, so alarms see the all-clear), and each endpoint's
 * certificate days left.
 */
export function diagnosisDatapoints(
  stack: string,
  findings: readonly Finding[],
  targets: readonly TargetResult[],
  at: Date,
  options: Pick<DatapointOptions, 'storageResolution'> = {},
): Datapoint[] {
  const points = FINDING_CODES.map((code) =>
    pointMaker({ [DIMENSION.Stack]: stack, [DIMENSION.Code]: code }, at, options)(
      METRIC.Finding,
      'Count',
      findings.filter((f) => f.code === code).length,
    ),
  );
  // Per watched endpoint (the targets' steps); the certificate finding also looks at the global STS check's.
  for (const [host, value] of certificateDaysByHost(targets.flatMap((t) => [t.steps.sts, t.steps.git]))) {
    points.push(pointMaker({ [DIMENSION.Endpoint]: host }, at, options)(METRIC.CertDaysLeft, 'Count', value));
  }
  return points;
}

/**
 * Days left of each endpoint host's TLS certificate, the lowest seen this run, from the steps that completed a
 * handshake: the `CertDaysLeft` metric and the `certificate-expiring` finding both read it.
 *
 * @example
 * certificateDaysByHost([result.steps.sts, result.steps.git]) // Map { 'sts.us-east-1.amazonaws.com' => 212, … }
 */
export function certificateDaysByHost(steps: readonly StepResult[]): Map<string, number> {
  const days = new Map<string, number>();
  for (const step of steps) {
    if (step.certificateDaysLeft === undefined) continue;
    const host = new URL(step.endpoint).host;
    days.set(host, Math.min(step.certificateDaysLeft, days.get(host) ?? Number.POSITIVE_INFINITY));
  }
  return days;
}

const includes = (level: DetailLevel, wanted: DetailLevel): boolean =>
  DETAIL_LEVELS.indexOf(level) >= DETAIL_LEVELS.indexOf(wanted);

/**
 * Custom metrics (billed per month) one target adds at a detail level, and the per-stack ones.
 *
 * @example
 * customMetricCount('basic') // → { perTarget: 4, perStack: 9, perEndpoint: 1 }
 * customMetricCount('phases') // → { perTarget: 16, perStack: 9, perEndpoint: 1 }
 */
export function customMetricCount(detail: DetailLevel): { perTarget: number; perStack: number; perEndpoint: number } {
  const emitted = METRIC_CATALOGUE.filter((m) => includes(detail, m.detail));
  const count = (scope: MetricDefinition['scope']) => emitted.filter((m) => m.scope === scope).length;
  return {
    perTarget: count('step') * ENDPOINT_STEP_NAMES.length,
    perStack: count('run') + count('notifier') + count('code') * FINDING_CODES.length,
    perEndpoint: count('endpoint'),
  };
}

export interface DatapointOptions {
  /** Default `basic`. */
  detail?: DetailLevel;
  /** Set on every datapoint when given (1 = high resolution). */
  storageResolution?: StorageResolution;
}

/**
 * The catalogue's datapoints for one target's result: per step `Success` and `Duration`, and at the `phases`
 * level the five phase times and `Timeout`. A skipped step yields only `Success` 0.
 *
 * @example
 * datapointsFor(result, { detail: 'basic' }, new Date('2025-01-01T00:00:00Z'))
 * // → [{ name: 'Success', unit: 'Count', value: 1, dimensions: { Target: 'team-repo', Step: 'sts' }, timestamp }, …]
 */
export function datapointsFor(result: TargetResult, options: DatapointOptions, at: Date): Datapoint[] {
  const detail = options.detail ?? 'basic';
  const points: Datapoint[] = [];
  for (const stepName of STEP_NAMES) {
    const step: StepResult | undefined = result.steps[stepName];
    if (!step) continue;
    const point = pointMaker({ [DIMENSION.Target]: result.name, [DIMENSION.Step]: stepName }, at, options);
    points.push(point(METRIC.Success, 'Count', step.ok && !step.skipped ? 1 : 0));
    if (step.skipped) continue;
    points.push(point(METRIC.Duration, 'Milliseconds', step.durationMs));
    if (!includes(detail, 'phases')) continue;
    for (const [field, name] of Object.entries(PHASE_METRICS) as [keyof Phases, CatalogueMetricName][]) {
      points.push(point(name, 'Milliseconds', step.phases[field]));
    }
    points.push(point(METRIC.Timeout, 'Count', step.failure?.kind === 'timeout' ? 1 : 0));
  }
  return points;
}

/**
 * The per-run `Heartbeat` (1) under `{ Stack }`.
 *
 * @example
 * heartbeat('codecommit-canary-prod', new Date())
 * // → { name: 'Heartbeat', unit: 'Count', value: 1, dimensions: { Stack: 'codecommit-canary-prod' }, timestamp }
 */
export function heartbeat(
  stack: string,
  at: Date,
  options: Pick<DatapointOptions, 'storageResolution'> = {},
): Datapoint {
  return pointMaker({ [DIMENSION.Stack]: stack }, at, options)(METRIC.Heartbeat, 'Count', 1);
}

/**
 * The notifier's own metrics, per invocation: it ran, what it left owed, what it rejected.
 *
 * @example
 * notifierDatapoints('codecommit-canary-prod', new Date(), { owed: 0, rejected: 0 }) // three datapoints, Stack dimension
 */
export function notifierDatapoints(stack: string, at: Date, counts: { owed: number; rejected: number }): Datapoint[] {
  const point = pointMaker({ [DIMENSION.Stack]: stack }, at, {});
  return [
    point(METRIC.NotifierHeartbeat, 'Count', 1),
    point(METRIC.NotificationsOwed, 'Count', counts.owed),
    point(METRIC.RecordsRejected, 'Count', counts.rejected),
  ];
}

const pointMaker =
  (dimensions: Record<string, string>, timestamp: Date, { storageResolution }: DatapointOptions) =>
  (name: string, unit: MetricUnit, value: number): Datapoint => ({
    name,
    unit,
    value,
    dimensions: { ...dimensions },
    timestamp,
    ...(storageResolution === undefined ? {} : { storageResolution }),
  });

const isBlank = (s: string): boolean => s.trim().length === 0;

/**
 * What makes a datapoint unpublishable (to EMF and `PutMetricData` alike); empty when it is fine.
 * Sinks count such datapoints as failed, with these messages as the reason, instead of throwing.
 *
 * @example
 * datapointProblems({ name: 'Success', unit: 'Count', value: Number.NaN, dimensions: {}, timestamp: new Date() })
 * // → ['Success: value NaN is not a finite number']
 */
export function datapointProblems(point: Datapoint): string[] {
  const problems: string[] = [];
  const name = typeof point.name === 'string' ? point.name : String(point.name);
  const say = (text: string) => problems.push(`${isBlank(name) ? '(no name)' : name}: ${text}`);
  if (typeof point.name !== 'string' || isBlank(point.name) || point.name.length > MAX_METRIC_NAME_LENGTH) {
    say(`name must be 1-${MAX_METRIC_NAME_LENGTH} characters, not blank`);
  }
  if (point.name === '_aws') say('name _aws is reserved by EMF');
  if (!(METRIC_UNITS as readonly string[]).includes(point.unit)) {
    say(`unit ${JSON.stringify(point.unit)} is not one of ${METRIC_UNITS.join(', ')}`);
  }
  if (typeof point.value !== 'number' || !Number.isFinite(point.value)) {
    say(`value ${String(point.value)} is not a finite number`);
  }
  if (!(point.timestamp instanceof Date) || Number.isNaN(point.timestamp.getTime())) {
    say('timestamp is not a valid Date');
  }
  if (point.storageResolution !== undefined && !STORAGE_RESOLUTIONS.includes(point.storageResolution)) {
    say(`storageResolution ${String(point.storageResolution)} is not 1 or 60`);
  }
  const entries = Object.entries(point.dimensions ?? {});
  if (entries.length > MAX_DIMENSIONS) say(`${entries.length} dimensions, at most ${MAX_DIMENSIONS} allowed`);
  for (const [key, value] of entries) {
    if (isBlank(key) || key.length > MAX_DIMENSION_NAME_LENGTH || key.startsWith(':')) {
      say(
        `dimension name ${JSON.stringify(key)} must be 1-${MAX_DIMENSION_NAME_LENGTH} characters, not start with ':'`,
      );
    }
    if (typeof value !== 'string' || isBlank(value) || value.length > MAX_DIMENSION_VALUE_LENGTH) {
      say(`dimension ${key} value must be 1-${MAX_DIMENSION_VALUE_LENGTH} characters, not blank`);
    }
    // EMF puts dimension values and metric values side by side at the top level of one object.
    if (key === point.name || key === '_aws') say(`dimension name ${key} collides with the metric name or _aws`);
  }
  return problems;
}
