/**
 * The report as one self-contained HTML file: inline CSS and SVG charts, no script, font or anything fetched, so
 * it opens on a machine without internet. Per target: availability by bucket (bars), run availability and git
 * `Duration` over time (a strip and a line), the incident list. Pure.
 */
import { formatDuration } from '../alerting/text.ts';
import type { Report, TargetReport } from './compute.ts';
import { formatPercent } from './render-text.ts';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const WIDTH = 720;
const HEIGHT = 160;
const PAD = 30;

/** Bars of availability per bucket; the y axis from the lowest value (at most 90 %) to 100 %. */
function availabilityChart(t: TargetReport): string {
  const values = t.buckets.map((b) => b.availability.percent);
  const floor = Math.min(90, ...values.filter((v): v is number => v !== null).map((v) => Math.floor(v)));
  const slot = (WIDTH - 2 * PAD) / Math.max(values.length, 1);
  const y = (v: number) => HEIGHT - PAD - ((v - floor) / (100 - floor)) * (HEIGHT - 2 * PAD);
  const bars = t.buckets
    .map((b, i) => {
      const v = b.availability.percent;
      if (v === null) return '';
      const top = y(v);
      const colour = v >= t.slo.target ? '#2e7d32' : '#c62828';
      return `<rect class="availability-bar" x="${(PAD + i * slot + slot * 0.15).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${Math.max(1, HEIGHT - PAD - top).toFixed(1)}" fill="${colour}"><title>${escapeHtml(b.start.slice(0, 10))}: ${formatPercent(b.availability)}</title></rect>`;
    })
    .join('');
  const slo = y(Math.max(floor, t.slo.target));
  return `<svg class="chart availability" role="img" aria-label="availability by bucket" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fafafa"/>
<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#888"/>
<text x="4" y="${PAD}" font-size="11">100 %</text><text x="4" y="${HEIGHT - PAD}" font-size="11">${floor} %</text>
<line class="slo-line" x1="${PAD}" y1="${slo.toFixed(1)}" x2="${WIDTH - PAD}" y2="${slo.toFixed(1)}" stroke="#1565c0" stroke-dasharray="4 3"/>
${bars}</svg>`;
}

/** Run availability as a strip (red where runs failed) and git `Duration` as a line, over the range. */
function latencyChart(t: TargetReport, since: number, until: number): string {
  const span = Math.max(until - since, 1);
  const x = (time: number) => PAD + ((time - since) / span) * (WIDTH - 2 * PAD);
  const durations = t.series.filter((p) => p.durationMs !== null).map((p) => p.durationMs as number);
  const max = Math.max(1, ...durations);
  const y = (v: number) => HEIGHT - PAD - (v / max) * (HEIGHT - 2 * PAD - 12);
  const points = t.series
    .filter((p) => p.durationMs !== null)
    .map((p) => `${x(p.t).toFixed(1)},${y(p.durationMs as number).toFixed(1)}`)
    .join(' ');
  const failures = t.series
    .filter((p) => p.ok < 1)
    .map(
      (p) =>
        `<rect class="failure-mark" x="${x(p.t).toFixed(1)}" y="${HEIGHT - PAD + 4}" width="2" height="8" fill="#c62828"/>`,
    )
    .join('');
  return `<svg class="chart latency" role="img" aria-label="git Duration over time" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fafafa"/>
<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#888"/>
<text x="4" y="${PAD}" font-size="11">${Math.round(max)} ms</text>
<polyline class="latency-line" fill="none" stroke="#1565c0" stroke-width="1.5" points="${points}"/>
${failures}</svg>`;
}

function incidentTable(t: TargetReport): string {
  if (t.incidents.length === 0) return '<p class="incidents none">No incidents.</p>';
  const rows = t.incidents
    .map((i) => {
      const cause = i.failure ? `${i.failure.step} ${i.failure.kind} in ${i.failure.phase}` : 'unknown';
      const length = i.durationMs === null ? 'still open' : formatDuration(i.durationMs);
      return `<tr class="incident"><td>${escapeHtml(i.openedAt)}</td><td>${escapeHtml(length)}</td><td>${escapeHtml(cause)}</td><td>${i.reminders}</td><td>${i.silenced ? 'yes' : 'no'}</td><td>${i.paged ? 'yes' : 'no'}</td></tr>`;
    })
    .join('\n');
  return `<table class="incidents"><thead><tr><th>opened</th><th>duration</th><th>cause</th><th>reminders</th><th>silenced</th><th>paged</th></tr></thead><tbody>
${rows}</tbody></table>`;
}

function targetSection(t: TargetReport, report: Report): string {
  const since = Date.parse(report.since);
  const until = Date.parse(report.until);
  const steps = t.steps
    .map((s) => {
      const d = s.latency.find((l) => l.metric === 'Duration');
      const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)} ms`);
      return `<tr><td>${escapeHtml(s.step)}</td><td>${formatPercent(s.availability)}</td><td>${formatPercent(s.availabilityUnmuted)}</td><td>${ms(d?.p50)}</td><td>${ms(d?.p95)}</td><td>${ms(d?.p99)}</td></tr>`;
    })
    .join('');
  const budget =
    t.slo.budgetLeftMinutes === null
      ? 'n/a'
      : `${t.slo.budgetLeftMinutes.toFixed(1)} of ${t.slo.budgetMinutes.toFixed(1)} min`;
  return `<section class="target" id="target-${escapeHtml(t.target)}">
<h2>${escapeHtml(t.target)} <span class="${t.slo.met === false ? 'bad' : 'ok'}">${formatPercent(t.availability)}</span></h2>
<p>Excluding muted time: ${formatPercent(t.availabilityUnmuted)} (muted ${formatDuration(t.mutedMinutes * 60_000)}). Missing samples: ${t.missingSamples} of ${t.expectedSamples} (no datapoint, not counted as failures). SLO ${t.slo.target} %: ${t.slo.met === null ? 'no data' : t.slo.met ? 'met' : 'missed'}, error budget left ${budget}.</p>
<table class="steps"><thead><tr><th>step</th><th>availability</th><th>excluding muted</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>${steps}</tbody></table>
<h3>Availability by ${report.bucket}</h3>
${availabilityChart(t)}
<h3>git Duration and failed runs</h3>
${latencyChart(t, since, until)}
<h3>Incidents</h3>
${incidentTable(t)}
</section>`;
}

/**
 * @example
 * writeFileSync('report.html', renderReportHtml(report));
 */
export function renderReportHtml(report: Report): string {
  const silences = report.silences
    .map(
      (s) =>
        `<li>${escapeHtml(s.target)}: ${escapeHtml(s.from)} to ${escapeHtml(s.until)}${s.by ? ` by ${escapeHtml(s.by)}` : ''}: ${escapeHtml(s.reason)}</li>`,
    )
    .join('');
  const findings = report.findings.map((f) => `<li>${escapeHtml(f.code)}: ${f.runs} period(s)</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>codecommit-canary report</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.ok{color:#2e7d32}.bad{color:#c62828}svg.chart{display:block;border:1px solid #eee}
</style></head><body>
<h1>codecommit-canary availability</h1>
<p>${escapeHtml(report.since)} to ${escapeHtml(report.until)}, periods of ${report.periodSeconds} s.</p>
${report.targets.map((t) => targetSection(t, report)).join('\n')}
<h2>Silences</h2>${silences ? `<ul class="silences">${silences}</ul>` : '<p>None.</p>'}
<h2>Findings</h2>${findings ? `<ul class="findings">${findings}</ul>` : '<p>None.</p>'}
</body></html>
`;
}
