/**
 * Where datapoints go: EMF lines in the log (the default delivery, no network needed), `PutMetricData`
 * (`direct` mode, with EMF as the fallback so a hanging CloudWatch loses nothing), or a console table (demo).
 * Every sink has one method and reports what happened as data; none throws for a delivery problem.
 * (Over 300 lines on purpose: the three sinks share the outcome type, the batching limits and the fallback
 * path, and read best side by side.)
 *
 * The EMF is written here rather than through Powertools' `Metrics` class because that class
 * - prints to a `Console` on `process.stdout` it builds itself (a private field): the writer cannot be passed in;
 * - adds a `service` dimension to every dimension set (`singleMetric()` re-adds it even after
 *   `clearDefaultDimensions()`), while alarms match the catalogue's exact dimension sets;
 * - goes silent when `POWERTOOLS_DEV` or `POWERTOOLS_METRICS_DISABLED` is set, which would make the
 *   `PutMetricData` fallback drop datapoints without a trace;
 * - holds one timestamp per flush, so per-group timestamps would mean a flush per group anyway.
 * The format itself is small (CloudWatch "Specification: Embedded metric format"); the limits below are its own.
 */
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Writer } from '../log.ts';
import { type BoundedClientOptions, boundedClientConfig, describeError } from '../net/aws-clients.ts';
import { untilAborted } from '../net/deadline.ts';
import { type Datapoint, DEFAULT_NAMESPACE, datapointProblems, type MetricUnit } from './catalogue.ts';

/** What one `publish` did. Always `published + fallback + failed` = the number of datapoints given. */
export interface PublishOutcome {
  sink: string;
  /** Delivered by this sink's own path. */
  published: number;
  /** Delivered by the fallback sink instead. */
  fallback: number;
  /** Delivered nowhere: invalid datapoints, or the fallback failed too. */
  failed: number;
  /** Why anything went to the fallback or failed; null when everything was published. */
  reason: string | null;
  durationMs: number;
}

export interface MetricSink {
  readonly name: string;
  /** Resolves (never rejects) once every datapoint is delivered or accounted for as failed. */
  publish(points: readonly Datapoint[]): Promise<PublishOutcome>;
}

/** One EMF log event. Dimension values and metric values sit at the top level beside `_aws`. */
export interface EmfDocument {
  _aws: {
    /** Epoch milliseconds. */
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: MetricUnit; StorageResolution?: 1 }[];
    }[];
  };
  [member: string]: unknown;
}

/** EMF: at most 100 metrics in one directive and 100 values in one metric's array. */
export const EMF_MAX_METRICS = 100;
export const EMF_MAX_VALUES = 100;

interface EmfDraft {
  timestamp: number;
  dimensions: Record<string, string>;
  metrics: Map<string, { unit: MetricUnit; highResolution: boolean; values: number[] }>;
  points: number;
}

const groupKey = (point: Datapoint): string =>
  `${point.timestamp.getTime()}|${JSON.stringify(Object.entries(point.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;

function emfDrafts(points: readonly Datapoint[]): EmfDraft[] {
  const groups = new Map<string, EmfDraft[]>();
  const ordered: EmfDraft[] = [];
  for (const point of points) {
    const key = groupKey(point);
    const drafts = groups.get(key) ?? [];
    groups.set(key, drafts);
    const highResolution = point.storageResolution === 1;
    // A name may appear once per directive: a repeat with the same unit becomes an array of values,
    // a repeat with another unit or resolution (or past a limit) starts another document.
    let draft = drafts.find((d) => {
      const metric = d.metrics.get(point.name);
      if (metric) {
        return (
          metric.unit === point.unit &&
          metric.highResolution === highResolution &&
          metric.values.length < EMF_MAX_VALUES
        );
      }
      return d.metrics.size < EMF_MAX_METRICS;
    });
    if (!draft) {
      draft = { timestamp: point.timestamp.getTime(), dimensions: point.dimensions, metrics: new Map(), points: 0 };
      drafts.push(draft);
      ordered.push(draft);
    }
    const metric = draft.metrics.get(point.name);
    if (metric) metric.values.push(point.value);
    else draft.metrics.set(point.name, { unit: point.unit, highResolution, values: [point.value] });
    draft.points += 1;
  }
  return ordered;
}

function emfDocument(draft: EmfDraft, namespace: string): EmfDocument {
  const metrics = [...draft.metrics];
  return {
    _aws: {
      Timestamp: draft.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(draft.dimensions)],
          Metrics: metrics.map(([name, m]) => ({
            Name: name,
            Unit: m.unit,
            ...(m.highResolution ? { StorageResolution: 1 as const } : {}),
          })),
        },
      ],
    },
    ...draft.dimensions,
    ...Object.fromEntries(metrics.map(([name, m]) => [name, m.values.length === 1 ? m.values[0] : m.values])),
  };
}

/**
 * Datapoints as EMF documents: one per timestamp and dimension set (split at the EMF limits).
 * Expects valid datapoints (`datapointProblems` empty); the sinks filter the others out first.
 *
 * @example
 * toEmfDocuments([{ name: 'Heartbeat', unit: 'Count', value: 1, dimensions: { Stack: 'prod' }, timestamp: new Date(0) }], 'CodeCommitCanary')
 * // → [{ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'CodeCommitCanary', Dimensions: [['Stack']],
 * //      Metrics: [{ Name: 'Heartbeat', Unit: 'Count' }] }] }, Stack: 'prod', Heartbeat: 1 }]
 */
export function toEmfDocuments(points: readonly Datapoint[], namespace: string): EmfDocument[] {
  return emfDrafts(points).map((draft) => emfDocument(draft, namespace));
}

/** `PutMetricData`: at most 1000 MetricDatum and 1 MB of request per call (a margin is kept below the latter). */
export const PUT_MAX_DATUMS = 1000;
export const PUT_MAX_BYTES = 900_000;
export const DEFAULT_PUT_TIMEOUT_MS = 3000;

export const toMetricDatum = (point: Datapoint): MetricDatum => ({
  MetricName: point.name,
  Dimensions: Object.entries(point.dimensions).map(([Name, Value]) => ({ Name, Value })),
  Timestamp: point.timestamp,
  Value: point.value,
  Unit: point.unit,
  ...(point.storageResolution === undefined ? {} : { StorageResolution: point.storageResolution }),
});

// Upper bound of one datum's share of the JSON request body (the timestamp goes as epoch seconds).
const datumBytes = (datum: MetricDatum): number => Buffer.byteLength(JSON.stringify(datum)) + 16;

/**
 * Datapoints split into `PutMetricData` batches within the API's limits (count and request size).
 *
 * @example
 * toMetricDataBatches(points, 1000).map((b) => b.length) // 2500 datapoints → [1000, 1000, 500]
 */
export function toMetricDataBatches(points: readonly Datapoint[], maxDatums = PUT_MAX_DATUMS): Datapoint[][] {
  const batches: Datapoint[][] = [];
  let batch: Datapoint[] = [];
  let bytes = 0;
  for (const point of points) {
    const size = datumBytes(toMetricDatum(point));
    if (batch.length > 0 && (batch.length >= maxDatums || bytes + size > PUT_MAX_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(point);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function partition(points: readonly Datapoint[]): { valid: Datapoint[]; invalid: number; reason: string | null } {
  const valid: Datapoint[] = [];
  const problems: string[] = [];
  let invalid = 0;
  for (const point of points) {
    const found = datapointProblems(point);
    if (found.length === 0) valid.push(point);
    else {
      invalid += 1;
      problems.push(...found);
    }
  }
  if (invalid === 0) return { valid, invalid, reason: null };
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return { valid, invalid, reason: `${invalid} invalid datapoint(s) dropped: ${shown}${more}` };
}

const joinReasons = (reasons: Iterable<string | null>): string | null => {
  const unique = [...new Set([...reasons].filter((r): r is string => r !== null))];
  return unique.length > 0 ? unique.join('; ') : null;
};

/** The text of some datapoints, written at once: it counts as delivered or failed as a whole. */
interface Chunk {
  text: string;
  points: number;
}

/**
 * A sink that writes text to a stream (EMF lines, the console table): it checks the datapoints, writes the chunks
 * `render` makes of the valid ones, and counts a chunk whose write throws as failed.
 */
abstract class TextSink implements MetricSink {
  abstract readonly name: string;
  protected readonly namespace: string;
  readonly #writer: Writer;
  /** What the text is, for a failed write's reason (`writing EMF failed`). */
  readonly #medium: string;

  constructor(options: { namespace?: string; writer?: Writer }, medium: string) {
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.#writer = options.writer ?? process.stdout;
    this.#medium = medium;
  }

  /** The chunks to write for the valid datapoints; `reason` says why some were dropped. */
  protected abstract render(valid: readonly Datapoint[], reason: string | null): Chunk[];

  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    const started = performance.now();
    const { valid, invalid, reason } = partition(points);
    let published = 0;
    let failed = invalid;
    const reasons = new Set<string | null>([reason]);
    for (const chunk of this.render(valid, reason)) {
      try {
        this.#writer.write(chunk.text);
        published += chunk.points;
      } catch (error) {
        failed += chunk.points;
        reasons.add(`writing ${this.#medium} failed: ${describeError(error)}`);
      }
    }
    return {
      sink: this.name,
      published,
      fallback: 0,
      failed,
      reason: joinReasons(reasons),
      durationMs: performance.now() - started,
    };
  }
}

export interface EmfSinkOptions {
  /** Default `CodeCommitCanary`. */
  namespace?: string;
  /** Default `process.stdout`: in Lambda, stdout lines reach the function's log group without any network route. */
  writer?: Writer;
}

/**
 * Writes datapoints as CloudWatch Embedded Metric Format, one JSON document per line.
 *
 * @example
 * const emf = new EmfSink({ namespace: config.metrics.namespace });
 * await emf.publish([...results.flatMap((r) => datapointsFor(r, { detail }, at)), heartbeat(stack, at)]);
 */
export class EmfSink extends TextSink {
  readonly name = 'emf';

  constructor(options: EmfSinkOptions = {}) {
    super(options, 'EMF');
  }

  protected render(valid: readonly Datapoint[]): Chunk[] {
    return emfDrafts(valid).map((draft) => ({
      text: `${JSON.stringify(emfDocument(draft, this.namespace))}\n`,
      points: draft.points,
    }));
  }
}

/**
 * The CloudWatch client for `CloudWatchSink`; build it once at module load. One attempt (a retry would outlive the
 * sink's deadline), connect and request timeouts, and a cap on the bytes of an answer: the SDK buffers whole
 * bodies, and a default client fed an endless body by a broken endpoint holds hundreds of MB within the sink's
 * deadline (measured: ~1.9 GB in 3 s on loopback), which a 256 MB function does not survive.
 *
 * @example
 * const sink = new CloudWatchSink({ client: createMetricsClient({ region }), namespace, fallback: emf });
 */
export const createMetricsClient = (options: BoundedClientOptions): CloudWatchClient =>
  new CloudWatchClient(boundedClientConfig({ maxAttempts: 1, ...options }));

export interface CloudWatchSinkOptions {
  /**
   * Built by the caller, once, with `createMetricsClient` (one attempt, timeouts, a response byte cap);
   * the sink only calls `send`.
   */
  client: CloudWatchClient;
  /** Default `CodeCommitCanary`. */
  namespace?: string;
  /** Receives every datapoint of a batch that failed or timed out. Default: `new EmfSink({ namespace })`. */
  fallback?: MetricSink;
  /** Deadline of each `PutMetricData` call; at its end the request is aborted. Default 3000 ms. */
  timeoutMs?: number;
  /** Datapoints per call, at most 1000. */
  maxBatchSize?: number;
}

/**
 * Publishes with `PutMetricData`; batches run concurrently, each under its own deadline, so a hanging
 * CloudWatch costs at most `timeoutMs` before its datapoints are handed to the fallback (EMF). A batch that
 * timed out may still have been stored: delivery is at least once, like EMF's own.
 *
 * @example
 * const sink = new CloudWatchSink({ client: createMetricsClient({ region }), namespace, timeoutMs: 2000,
 *   fallback: new EmfSink({ namespace }) });
 * const outcome = await sink.publish(points); // { published: 9, fallback: 0, failed: 0, reason: null, … }
 */
export class CloudWatchSink implements MetricSink {
  readonly name = 'cloudwatch';
  readonly #client: CloudWatchClient;
  readonly #namespace: string;
  readonly #fallback: MetricSink;
  readonly #timeoutMs: number;
  readonly #maxBatchSize: number;

  constructor(options: CloudWatchSinkOptions) {
    const { timeoutMs = DEFAULT_PUT_TIMEOUT_MS, maxBatchSize = PUT_MAX_DATUMS } = options;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > PUT_MAX_DATUMS) {
      throw new RangeError(`maxBatchSize must be an integer from 1 to ${PUT_MAX_DATUMS}, got ${maxBatchSize}`);
    }
    this.#client = options.client;
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.#fallback = options.fallback ?? new EmfSink({ namespace: this.#namespace });
    this.#timeoutMs = timeoutMs;
    this.#maxBatchSize = maxBatchSize;
  }

  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    const started = performance.now();
    const { valid, invalid, reason } = partition(points);
    const batches = toMetricDataBatches(valid, this.#maxBatchSize);
    const errors = await Promise.all(batches.map((batch) => this.#put(batch)));
    const reasons: (string | null)[] = [reason];
    const undelivered: Datapoint[] = [];
    let published = 0;
    batches.forEach((batch, i) => {
      if (errors[i] === null) published += batch.length;
      else undelivered.push(...batch);
    });
    reasons.push(...errors);
    let fallback = 0;
    let failed = invalid;
    if (undelivered.length > 0) {
      const outcome = await this.#toFallback(undelivered);
      fallback = outcome.published + outcome.fallback;
      failed += outcome.failed;
      reasons.push(`${undelivered.length} datapoint(s) sent to ${outcome.sink}`, outcome.reason);
    }
    return {
      sink: this.name,
      published,
      fallback,
      failed,
      reason: joinReasons(reasons),
      durationMs: performance.now() - started,
    };
  }

  /** One call under its deadline; null when stored, else why not. */
  async #put(batch: Datapoint[]): Promise<string | null> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const command = new PutMetricDataCommand({ Namespace: this.#namespace, MetricData: batch.map(toMetricDatum) });
      await untilAborted(this.#client.send(command, { abortSignal: signal }), signal);
      return null;
    } catch (error) {
      return signal.aborted
        ? `PutMetricData timed out after ${this.#timeoutMs} ms`
        : `PutMetricData failed: ${describeError(error)}`;
    }
  }

  async #toFallback(points: Datapoint[]): Promise<PublishOutcome> {
    try {
      return await this.#fallback.publish(points);
    } catch (error) {
      // A sink is not supposed to throw; if one does, the datapoints are counted, not silently gone.
      return {
        sink: this.#fallback.name,
        published: 0,
        fallback: 0,
        failed: points.length,
        reason: `fallback threw: ${describeError(error)}`,
        durationMs: 0,
      };
    }
  }
}

export interface ConsoleSinkOptions {
  namespace?: string;
  /** Default `process.stdout`. */
  writer?: Writer;
}

const SHORT_UNITS: Partial<Record<MetricUnit, string>> = {
  Milliseconds: 'ms',
  Seconds: 's',
  Microseconds: 'µs',
  Count: '',
  None: '',
};

const formatValue = (point: Datapoint): string => {
  const value = Number.isInteger(point.value) ? String(point.value) : point.value.toFixed(1);
  const unit = SHORT_UNITS[point.unit] ?? point.unit;
  return unit === '' ? value : `${value} ${unit}`;
};

/**
 * Prints datapoints as an aligned table for people (the local demo); nothing is sent anywhere.
 *
 * @example
 * await new ConsoleSink().publish(points);
 * // CodeCommitCanary, 4 datapoints at 2025-01-01T00:00:00.000Z
 * //   Success   Target=team-repo Step=sts  1
 * //   Duration  Target=team-repo Step=sts  182.4 ms
 */
export class ConsoleSink extends TextSink {
  readonly name = 'console';

  constructor(options: ConsoleSinkOptions = {}) {
    super(options, 'to the console');
  }

  protected render(valid: readonly Datapoint[], reason: string | null): Chunk[] {
    const rows = valid.map((p) => ({
      point: p,
      name: p.storageResolution === 1 ? `${p.name} (1 s)` : p.name,
      dimensions: Object.entries(p.dimensions)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    }));
    const nameWidth = Math.max(0, ...rows.map((r) => r.name.length));
    const dimensionWidth = Math.max(0, ...rows.map((r) => r.dimensions.length));
    const times = [...new Set(valid.map((p) => p.timestamp.toISOString()))];
    const when = times.length === 1 ? ` at ${times[0]}` : times.length > 1 ? ` from ${times.sort()[0]}` : '';
    const lines = [
      `${this.namespace}, ${valid.length} datapoint${valid.length === 1 ? '' : 's'}${when}`,
      ...rows.map(
        (r) => `  ${r.name.padEnd(nameWidth)}  ${r.dimensions.padEnd(dimensionWidth)}  ${formatValue(r.point)}`,
      ),
    ];
    if (reason) lines.push(`  ! ${reason}`);
    return [{ text: `${lines.join('\n')}\n`, points: valid.length }];
  }
}
