/**
 * Counting what a monitor run hands to its metric sink, and what of it went out as EMF: the two sides of
 * "no datapoint lost" for the fault matrix and the warm-container runs.
 */
import type { Datapoint } from '../lib/metrics/catalogue.ts';
import type { MetricSink, PublishOutcome } from '../lib/metrics/sinks.ts';

/** A MetricSink that counts what it is handed, and what failed, before passing it on (it keeps no datapoint). */
export class CountingSink implements MetricSink {
  readonly name: string;
  handed = 0;
  failed = 0;
  reason: string | null = null;
  constructor(private readonly inner: MetricSink) {
    this.name = inner.name;
  }
  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    this.handed += points.length;
    const outcome = await this.inner.publish(points);
    this.failed += outcome.failed;
    this.reason ??= outcome.reason;
    return outcome;
  }
}

/** EMF values in the captured lines (a metric's value may be an array of values). */
export function emfValueCount(objects: readonly Record<string, unknown>[]): number {
  let count = 0;
  for (const object of objects) {
    const aws = object._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics) {
        const value = object[Name];
        count += Array.isArray(value) ? value.length : 1;
      }
    }
  }
  return count;
}
