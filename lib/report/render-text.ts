/**
 * The report for a terminal (one sparkline row per target) and as CSV (one row per target and step). Pure.
 */
import { formatDuration } from '../alerting/text.ts';
import type { Availability, Report, TargetReport } from './compute.ts';

const BLOCKS = '▁▂▃▄▅▆▇█';
const SPARK_WIDTH = 48;

export const formatPercent = (a: Availability): string => (a.percent === null ? 'n/a' : `${a.percent.toFixed(2)} %`);

const ms = (value: number | null): string => (value === null ? '-' : `${Math.round(value)} ms`);

/**
 * The availability over the range in up to 48 columns: full block all good, lower blocks worse, `·` no data.
 *
 * @example
 * sparkline(target, since, until) // '████████▁███…'
 */
export function sparkline(target: TargetReport, since: number, until: number, width = SPARK_WIDTH): string {
  const columns = Array.from({ length: width }, () => ({ ok: 0, n: 0 }));
  const span = Math.max(until - since, 1);
  // No more points than columns: one column each, in order; else columns are equal slices of the range.
  const column = (t: number, index: number) =>
    target.series.length <= width ? index : Math.min(width - 1, Math.floor(((t - since) / span) * width));
  for (const [index, point] of target.series.entries()) {
    const slot = columns[column(point.t, index)];
    if (slot) {
      slot.ok += point.ok;
      slot.n += 1;
    }
  }
  return columns
    .map(({ ok, n }) => {
      if (n === 0) return '·';
      const share = ok / n;
      // Anything short of all good is visibly lower: 99 % of a column is not a full block.
      return share === 1 ? BLOCKS[7] : BLOCKS[Math.min(6, Math.floor(share * 7))];
    })
    .join('');
}

/** Minutes for people: `1.4 min`, `-1.6 min`. */
const minutes = (value: number): string => `${value.toFixed(1)} min`;

export function formatReportText(report: Report): string {
  const since = Date.parse(report.since);
  const until = Date.parse(report.until);
  const lines = [
    `codecommit-canary report ${report.since} to ${report.until} (periods of ${Number(report.periodSeconds.toFixed(3))} s)`,
    '',
  ];
  const nameWidth = Math.max(8, ...report.targets.map((t) => t.target.length));
  for (const t of report.targets) {
    lines.push(
      `${t.target.padEnd(nameWidth)}  ${formatPercent(t.availability).padStart(8)}  ${sparkline(t, since, until, Math.min(SPARK_WIDTH, Math.max(1, t.series.length)))}`,
      `  excluding muted time: ${formatPercent(t.availabilityUnmuted)}; muted ${formatDuration(t.mutedMinutes * 60_000)}; failed samples ${Number(t.failedSamples.toFixed(2))}; missing ${t.missingSamples} of ${t.expectedSamples} expected (no datapoint, apart from failures)`,
      `  SLO ${t.slo.target} %: ${t.slo.met === null ? 'no data' : t.slo.met ? 'met' : 'MISSED'}; error budget ${minutes(t.slo.budgetMinutes)}, left ${t.slo.budgetLeftMinutes === null ? 'n/a' : minutes(t.slo.budgetLeftMinutes)}`,
    );
    for (const step of t.steps) {
      const duration = step.latency.find((l) => l.metric === 'Duration');
      lines.push(
        `  ${step.step.padEnd(4)} ${formatPercent(step.availability).padStart(8)}  Duration p50 ${ms(duration?.p50 ?? null)}, p95 ${ms(duration?.p95 ?? null)}, p99 ${ms(duration?.p99 ?? null)}`,
      );
      for (const phase of step.latency.filter((l) => l.metric !== 'Duration')) {
        lines.push(
          `         ${phase.metric.padEnd(14)} p50 ${ms(phase.p50)}, p95 ${ms(phase.p95)}, p99 ${ms(phase.p99)}`,
        );
      }
    }
    if (t.buckets.length > 1) {
      lines.push(
        `  by ${report.bucket}: ${t.buckets.map((b) => `${b.start.slice(0, 10)} ${formatPercent(b.availability)}`).join(', ')}`,
      );
    }
    for (const incident of t.incidents) {
      const cause = incident.failure
        ? `${incident.failure.step} ${incident.failure.kind} in ${incident.failure.phase}`
        : 'unknown cause';
      const length = incident.durationMs === null ? 'still open' : formatDuration(incident.durationMs);
      const flags = [incident.silenced ? 'silenced' : null, incident.paged ? null : 'never paged'].filter(Boolean);
      lines.push(
        `  incident ${incident.openedAt}: ${length}, ${cause}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`,
      );
    }
    lines.push('');
  }
  for (const s of report.silences) {
    lines.push(
      `silence ${s.target === '*' ? 'all targets' : s.target} ${s.from} to ${s.until}${s.by ? ` by ${s.by}` : ''}: ${s.reason}`,
    );
  }
  for (const f of report.findings) lines.push(`finding ${f.code}: seen in ${f.runs} period(s)`);
  return `${lines.join('\n').trimEnd()}\n`;
}

const csvField = (value: string | number | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One row per target and step (step `all`: the run), with the latency of `Duration`. */
export function formatReportCsv(report: Report): string {
  const header = [
    'target',
    'step',
    'availability_percent',
    'availability_excluding_muted_percent',
    'samples',
    'good',
    'missing_samples',
    'muted_minutes',
    'duration_p50_ms',
    'duration_p95_ms',
    'duration_p99_ms',
    'incidents',
    'slo_percent',
    'error_budget_left_minutes',
  ];
  const rows: Array<Array<string | number | null>> = [];
  for (const t of report.targets) {
    const common = [t.missingSamples, Number(t.mutedMinutes.toFixed(1))] as const;
    rows.push([
      t.target,
      'all',
      t.availability.percent,
      t.availabilityUnmuted.percent,
      t.availability.samples,
      t.availability.good,
      ...common,
      null,
      null,
      null,
      t.incidents.length,
      t.slo.target,
      t.slo.budgetLeftMinutes,
    ]);
    for (const step of t.steps) {
      const d = step.latency.find((l) => l.metric === 'Duration');
      rows.push([
        t.target,
        step.step,
        step.availability.percent,
        step.availabilityUnmuted.percent,
        step.availability.samples,
        step.availability.good,
        ...common,
        d?.p50 ?? null,
        d?.p95 ?? null,
        d?.p99 ?? null,
        null,
        null,
        null,
      ]);
    }
  }
  return `${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}
