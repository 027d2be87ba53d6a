/**
 * A console metric sink that says a run's datapoints in one line, for the live view (the table `ConsoleSink`
 * prints is too tall to redraw every few seconds). Like every sink it only formats what it is given.
 */

import type { Datapoint } from '../metrics/catalogue.ts';
import type { MetricSink, PublishOutcome } from '../metrics/sinks.ts';

const value = (point: Datapoint): string => {
  const number = Number.isInteger(point.value) ? String(point.value) : point.value.toFixed(1);
  return point.unit === 'Milliseconds' ? `${number} ms` : number;
};

/**
 * One metric's datapoints: per step `Success sts=1 git=0`; per anything else (finding code, endpoint) the
 * common value and the exceptions (`Finding 0 ×4, global-sts-unreachable=1`).
 */
function describe(name: string, points: readonly Datapoint[], manyTargets: boolean): string {
  const [first] = points;
  if (points.length === 1 && first && !first.dimensions.Step) return `${name}=${value(first)}`;
  const label = (p: Datapoint) =>
    p.dimensions.Step
      ? [manyTargets ? p.dimensions.Target : undefined, p.dimensions.Step].filter(Boolean).join('/')
      : Object.entries(p.dimensions)
          .filter(([d]) => d !== 'Stack')
          .map(([, v]) => v)
          .join('/');
  if (first?.dimensions.Step) return `${name} ${points.map((p) => `${label(p)}=${value(p)}`).join(' ')}`;
  // Many similar series (one per finding code, per endpoint): the common value, then the exceptions.
  const counts = new Map<string, number>();
  for (const p of points) counts.set(value(p), (counts.get(value(p)) ?? 0) + 1);
  const [common = '', times = 0] = [...counts].sort((x, y) => y[1] - x[1])[0] ?? [];
  const exceptions = points.filter((p) => value(p) !== common).map((p) => `${label(p)}=${value(p)}`);
  return [`${name} ${common} ×${times}`, ...exceptions].join(', ');
}

/**
 * Keeps the last run's datapoints as one line: `Success sts=1 git=1 · Duration sts=45.8 ms git=12.2 ms · …`.
 *
 * @example
 * const sink = new MetricLineSink('CodeCommitCanaryDemo');
 * await sink.publish(points);
 * sink.line // 'CodeCommitCanaryDemo ← 12 datapoints: Success sts=1 git=1 · …'
 */
export class MetricLineSink implements MetricSink {
  readonly name = 'console';
  line = '';

  constructor(private readonly namespace: string) {}

  async publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    const started = performance.now();
    const manyTargets = new Set(points.map((p) => p.dimensions.Target).filter(Boolean)).size > 1;
    const byName = new Map<string, Datapoint[]>();
    // Per-step metrics first: they are what a run is about.
    for (const point of [...points].sort((a, b) => Number(!a.dimensions.Step) - Number(!b.dimensions.Step))) {
      byName.set(point.name, [...(byName.get(point.name) ?? []), point]);
    }
    const parts = [...byName].map(([name, group]) => describe(name, group, manyTargets));
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
