/**
 * The metric catalogue and the pure conversion of probe results into datapoints. (Over 300 lines on purpose:
 * most of it is the catalogue table, which alarms, dashboard and README are checked against.)
 *
 * A datapoint is plain data; sinks (`lib/metrics/sinks.ts`) decide how it leaves the process (EMF in the log,
 * `PutMetricData`, a console table). Alarms and the dashboard are built on the names in `METRIC_CATALOGUE`:
 * renaming one is a breaking change.
 */
import type { Finding, PathResult, Phases, StepName, StepResult, TargetResult } from '../types.ts';
import { ENDPOINT_STEP_NAMES, FINDING_CODES, STEP_NAMES } from '../types.ts';

export const DEFAULT_NAMESPACE = 'CodeCommitCanary';

/**
 * `basic`: Success and Duration per target and step, PathsFailed and PathOk per zone (one per Availability Zone of
 * each endpoint, for every target: which AZ's interface broke, graphed), the fetch's sizes, AssertionFailed.
 * `phases`: adds the phase times and Timeout.
 */
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
  PathOk: 'PathOk',
  PathsFailed: 'PathsFailed',
  FetchPackBytes: 'FetchPackBytes',
  FetchThroughput: 'FetchThroughput',
  FetchStalledBytes: 'FetchStalledBytes',
  AssertionFailed: 'AssertionFailed',
} as const;
export type CatalogueMetricName = (typeof METRIC)[keyof typeof METRIC];

export const DIMENSION = {
  Target: 'Target',
  Step: 'Step',
  Stack: 'Stack',
  Code: 'Code',
  Endpoint: 'Endpoint',
  Zone: 'Zone',
  Address: 'Address',
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
  /** The other dimension set some datapoints use instead (PathOk: `Address` for an address in no known zone). */
  otherDimensions?: readonly string[];
  /**
   * How many there are: `step` one per target and each of `steps` it runs; `paths` one per target and each of
   * `steps` whose addresses are checked (`probe.everyAddress`); `zone` the same, per zone (or address); `target` one
   * per target that runs `steps`; `run` one per probe run; `code` one per finding code; `endpoint` one per host.
   */
  scope: 'step' | 'paths' | 'zone' | 'target' | 'run' | 'code' | 'endpoint' | 'notifier';
  /** The steps the metric is emitted for (`step`, `paths`, `zone`, `target` scopes). */
  steps?: readonly StepName[];
  /** The lowest detail level that emits the metric. */
  detail: DetailLevel;
  description: string;
}

const STEP_DIMENSIONS = [DIMENSION.Target, DIMENSION.Step] as const;
/** The steps that make a network exchange of their own (`expect` only reads what ls-remote and the fetch got). */
const EXCHANGE_STEPS = ['sts', 'git', 'fetch'] as const satisfies readonly StepName[];
const phaseDefinition = (name: CatalogueMetricName, what: string): MetricDefinition => ({
  name,
  unit: 'Milliseconds',
  dimensions: STEP_DIMENSIONS,
  scope: 'step',
  steps: EXCHANGE_STEPS,
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
    steps: STEP_NAMES,
    detail: 'basic',
    description:
      '1 when the step succeeded, 0 when it failed or was skipped after an earlier step failed (git after sts); ' +
      'a fetch skipped for an empty repository is 1 (nothing to fetch is not a failure).',
  },
  {
    name: METRIC.Duration,
    unit: 'Milliseconds',
    dimensions: STEP_DIMENSIONS,
    scope: 'step',
    steps: EXCHANGE_STEPS,
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
    steps: EXCHANGE_STEPS,
    detail: 'phases',
    description: '1 when the step ended at its deadline, else 0. Absent for a skipped step.',
  },
  {
    name: METRIC.PathsFailed,
    unit: 'Count',
    dimensions: STEP_DIMENSIONS,
    scope: 'paths',
    steps: ENDPOINT_STEP_NAMES,
    detail: 'basic',
    description:
      "Addresses of the step's endpoint whose path check failed (0 when all answered); above 0 while Success is " +
      "still 1 elsewhere: one AZ's endpoint interface. Absent when the checks are off or the name resolved to nothing.",
  },
  {
    name: METRIC.PathOk,
    unit: 'Count',
    dimensions: [DIMENSION.Target, DIMENSION.Step, DIMENSION.Zone],
    otherDimensions: [DIMENSION.Target, DIMENSION.Step, DIMENSION.Address],
    scope: 'zone',
    steps: ENDPOINT_STEP_NAMES,
    detail: 'basic',
    description:
      "1 when every address of the step's endpoint in the zone answered its path check, else 0; under Address " +
      'instead of Zone for an address in no subnet of network.zones.',
  },
  {
    name: METRIC.FetchPackBytes,
    unit: 'Bytes',
    dimensions: [DIMENSION.Target],
    scope: 'target',
    steps: ['fetch'],
    detail: 'basic',
    description: "The size of HEAD's shallow pack. Only when the fetch succeeded.",
  },
  {
    name: METRIC.FetchThroughput,
    unit: 'Bytes/Second',
    dimensions: [DIMENSION.Target],
    scope: 'target',
    steps: ['fetch'],
    detail: 'basic',
    description:
      "The pack's bytes over the time from its first to its last byte. Only when the fetch succeeded and took time.",
  },
  {
    name: METRIC.FetchStalledBytes,
    unit: 'Bytes',
    dimensions: [DIMENSION.Target],
    scope: 'target',
    steps: ['fetch'],
    detail: 'basic',
    description:
      'Bytes that arrived before the pack transfer stalled until the deadline (refs reachable, pack not: MTU, ' +
      'ICMP, MSS, a proxy). Only for a stalled fetch: alarm with missing data as not breaching.',
  },
  {
    name: METRIC.AssertionFailed,
    unit: 'Count',
    dimensions: [DIMENSION.Target],
    scope: 'target',
    steps: ['expect'],
    detail: 'basic',
    description:
      "The target's failed expectations (0 when the repository looks as expected). Absent when they could not be " +
      'checked (ls-remote failed): unlike Success Step=expect, it never mixes an outage into the assertions.',
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

/** What decides a target's metric count: which optional steps it runs, and how many zones its endpoints span. */
export interface TargetShape {
  /** `probe.everyAddress`: the sts and git endpoints' addresses are checked. */
  everyAddress: boolean;
  /** Zones (or, without `network.zones`, addresses) per endpoint: one PathOk each. */
  zones: number;
  fetch: boolean;
  expect: boolean;
}

/** The default config (every address checked, no fetch, no assertions) on endpoints in two Availability Zones. */
export const DEFAULT_TARGET_SHAPE: TargetShape = { everyAddress: true, zones: 2, fetch: false, expect: false };

/**
 * Custom metrics (billed per month) one target adds at a detail level, and the per-stack ones. Sparse metrics
 * (FetchStalledBytes, emitted only while a fetch stalls) are counted: they are billed for the hours they exist.
 *
 * @example
 * customMetricCount('basic') // → { perTarget: 10, perStack: 10, perEndpoint: 1 }
 * customMetricCount('phases') // → { perTarget: 22, perStack: 10, perEndpoint: 1 }
 * customMetricCount('basic', { ...DEFAULT_TARGET_SHAPE, fetch: true, expect: true }).perTarget // 17
 */
export function customMetricCount(
  detail: DetailLevel,
  shape: TargetShape = DEFAULT_TARGET_SHAPE,
): { perTarget: number; perStack: number; perEndpoint: number } {
  const emitted = METRIC_CATALOGUE.filter((m) => includes(detail, m.detail));
  const runs = (step: StepName) => (step === 'fetch' ? shape.fetch : step === 'expect' ? shape.expect : true);
  const checked = (step: StepName) => shape.everyAddress && (ENDPOINT_STEP_NAMES as readonly StepName[]).includes(step);
  const perDefinition = (m: MetricDefinition): number => {
    const steps = m.steps ?? [];
    switch (m.scope) {
      case 'step':
        return steps.filter(runs).length;
      case 'paths':
        return steps.filter(checked).length;
      case 'zone':
        return steps.filter(checked).length * shape.zones;
      case 'target':
        return steps.some(runs) ? 1 : 0;
      default:
        return 0;
    }
  };
  const count = (scope: MetricDefinition['scope']) => emitted.filter((m) => m.scope === scope).length;
  return {
    perTarget: emitted.reduce((sum, m) => sum + perDefinition(m), 0),
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
 * A skipped fetch stands for an empty repository when ls-remote's own call answered (it may still have failed on a
 * path check alone) and found no HEAD: the probe skips the fetch for that or after a failed sts or ls-remote.
 */
function nothingToFetch(result: TargetResult): boolean {
  const { git, fetch } = result.steps;
  const lsRemoteAnswered = !git.skipped && (git.failure === null || git.failure.address !== undefined);
  return fetch?.skipped === true && lsRemoteAnswered && git.headSha === null;
}

/** 1 when the step succeeded (or had nothing to do), else 0. */
function successOf(result: TargetResult, stepName: StepName, step: StepResult): number {
  if (step.skipped) return stepName === 'fetch' && nothingToFetch(result) ? 1 : 0;
  return step.ok ? 1 : 0;
}

/** Per zone (or address, for one in no known zone): ok only when every path there answered. */
function pathOkByPlace(paths: readonly PathResult[]): { dimension: string; value: string; ok: boolean }[] {
  const places = new Map<string, { dimension: string; value: string; ok: boolean }>();
  for (const path of paths) {
    const [dimension, value] = path.zone ? [DIMENSION.Zone, path.zone] : [DIMENSION.Address, path.address];
    const seen = places.get(`${dimension}=${value}`);
    places.set(`${dimension}=${value}`, { dimension, value, ok: (seen?.ok ?? true) && path.ok });
  }
  return [...places.values()];
}

/**
 * The catalogue's datapoints for one target's result: per step `Success` and `Duration` (and at the `phases` level
 * the five phase times and `Timeout`); a skipped step yields only `Success`. Per endpoint step with path checks
 * `PathsFailed` and `PathOk` per zone; the fetch's pack size, throughput or stalled bytes; the count
 * of failed assertions.
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
    const dimensions = { [DIMENSION.Target]: result.name, [DIMENSION.Step]: stepName };
    const point = pointMaker(dimensions, at, options);
    points.push(point(METRIC.Success, 'Count', successOf(result, stepName, step)));
    if (step.paths && step.paths.length > 0) {
      points.push(point(METRIC.PathsFailed, 'Count', step.paths.filter((path) => !path.ok).length));
      for (const { dimension, value, ok } of pathOkByPlace(step.paths)) {
        const pathPoint = pointMaker({ ...dimensions, [dimension]: value }, at, options);
        points.push(pathPoint(METRIC.PathOk, 'Count', ok ? 1 : 0));
      }
    }
    if (step.skipped || stepName === 'expect') continue;
    points.push(point(METRIC.Duration, 'Milliseconds', step.durationMs));
    if (!includes(detail, 'phases')) continue;
    for (const [field, name] of Object.entries(PHASE_METRICS) as [keyof Phases, CatalogueMetricName][]) {
      points.push(point(name, 'Milliseconds', step.phases[field]));
    }
    points.push(point(METRIC.Timeout, 'Count', step.failure?.kind === 'timeout' ? 1 : 0));
  }
  points.push(...targetDatapoints(result, at, options));
  return points;
}

/** The fetch's and the assertions' own metrics, under `{ Target }`. */
function targetDatapoints(result: TargetResult, at: Date, options: DatapointOptions): Datapoint[] {
  const point = pointMaker({ [DIMENSION.Target]: result.name }, at, options);
  const points: Datapoint[] = [];
  const { fetch, expect } = result.steps;
  if (fetch?.ok && !fetch.skipped) {
    points.push(point(METRIC.FetchPackBytes, 'Bytes', fetch.packBytes));
    if (fetch.throughputBytesPerSec !== null) {
      points.push(point(METRIC.FetchThroughput, 'Bytes/Second', fetch.throughputBytesPerSec));
    }
  }
  if (fetch?.bytesBeforeStall !== null && fetch?.bytesBeforeStall !== undefined) {
    points.push(point(METRIC.FetchStalledBytes, 'Bytes', fetch.bytesBeforeStall));
  }
  if (expect && !expect.skipped) {
    points.push(point(METRIC.AssertionFailed, 'Count', expect.expectations.filter((e) => !e.ok).length));
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
