/**
 * A console metric sink that says a run's datapoints in one line, for the live view (the table `ConsoleSink`
 * prints is too tall to redraw every few seconds). Like every sink it only formats what it is given.
 */

import type { MetricSink, PublishOutcome } from '../metric-sinks.ts';
import type { Datapoint } from '../metrics.ts';

const value = (point: Datapoint): string => {
  const number = Number.isInteger(point.value) ? String(point.value) : point.value.toFixed(1);
  return point.unit === 'Milliseconds' ? `${number} ms` : number;
};

/**
 * Keeps the last run's datapoints as one line: `Success sts=1 git=1 · Duration sts=45.8 ms git=12.2 ms · Heartbeat=1`.
 *
 * @example
 * const sink = new MetricLineSink('CodeCommitCanaryDemo');
 * await sink.publish(points);
 * sink.line // 'CodeCommitCanaryDemo ← 5 datapoints: Success sts=1 …'
 */
export class MetricLineSink implements MetricSink {
  readonly name = 'console';
  line = '';

  constructor(private readonly namespace: string) {}

  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    const started = performance.now();
    const targets = new Set(points.map((p) => p.dimensions.Target).filter(Boolean));
    const byName = new Map<string, string[]>();
    for (const point of points) {
      const where = [targets.size > 1 ? point.dimensions.Target : undefined, point.dimensions.Step].filter(Boolean);
      const entry = where.length > 0 ? `${where.join('/')}=${value(point)}` : `=${value(point)}`;
      byName.set(point.name, [...(byName.get(point.name) ?? []), entry]);
    }
    const parts = [...byName].map(([name, entries]) =>
      entries.map((e, i) => (e.startsWith('=') ? `${name}${e}` : i === 0 ? `${name} ${e}` : e)).join(' '),
    );
    this.line = `${this.namespace} ← ${points.length} datapoints: ${parts.join(' · ')}`;
    return {
      sink: this.name,
      published: points.length,
      fallback: 0,
      failed: 0,
      reason: null,
      durationMs: performance.now() - started,
    };
  }
}
