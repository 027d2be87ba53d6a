/**
 * The matrix as text: the fault cells as a table (faults × dependencies), the scenario cells as a table
 * (scenario × delivery mode), a legend, what was not as expected, the figures, and the closing line.
 */
import { describePages } from './expectations.ts';
import { type Cell, DEPENDENCIES, type Dependency, FAULTS, type Fault } from './matrix.ts';
import type { RunOutcome } from './run-cell.ts';
import type { CellOutcome, MatrixResult } from './runner.ts';

const pagesOf = (run: RunOutcome) => {
  const seen = new Set<string>();
  return run.deliveries.filter((d) => !seen.has(d.dedupKey) && seen.add(d.dedupKey));
};

/** What a cell promises, in the words of its table. */
export function expectedSummary(cell: Cell): string {
  switch (cell.dependency) {
    case 'sts':
    case 'git':
      return cell.fault ? `${cell.fault.probe.kind}/${cell.fault.probe.phase}` : '?';
    case 'cloudwatch':
      return 'EMF';
    case 'sns':
      return 'owed → sent';
    case 'dynamodb':
      return 'fail-open ×1';
    default:
      return describePages(cell.pages) + (cell.ambiguous ? ' (+ re-sends of the same dedupKey)' : '');
  }
}

/** What a cell did, in the same words, the same in every mode or each mode's apart. */
export function observedSummary(outcome: CellOutcome): string {
  const { cell, runs } = outcome;
  const each = (f: (run: RunOutcome) => string) => {
    const said = runs.map(f);
    return said.every((s) => s === said[0]) ? (said[0] ?? '—') : runs.map((r, i) => `${r.mode}: ${said[i]}`).join('; ');
  };
  const pages = (run: RunOutcome) => describePages(pagesOf(run), run.pages.sameKeyResends);
  switch (cell.dependency) {
    case 'sts':
    case 'git':
      return each((r) => r.probe);
    case 'cloudwatch':
      return each((r) => (r.datapoints.emf === r.datapoints.produced ? 'EMF' : 'not EMF'));
    case 'sns':
      return each((r) =>
        r.owed[0]?.includes('ALARM') && r.pages.delivered === 1 && pagesOf(r)[0]?.run === 2 ? 'owed → sent' : pages(r),
      );
    case 'dynamodb':
      return each((r) =>
        r.pages.delivered === 1 && r.pages.failOpen === 1 && pagesOf(r)[0]?.run === 1 ? 'fail-open ×1' : pages(r),
      );
    default:
      return each(pages);
  }
}

const COLUMN_TITLES: Record<Dependency, string> = {
  sts: 'sts (probe)',
  git: 'git (probe)',
  cloudwatch: 'cloudwatch (direct)',
  sns: 'sns (alerts)',
  dynamodb: 'dynamodb (alerts)',
};

/** A Markdown table: header, rows, and an optional footer row under a rule. */
function table(header: string[], rows: string[][], footer?: string[]): string[] {
  const all = [header, ...rows, ...(footer ? [footer] : [])];
  const widths = header.map((_, i) => Math.max(...all.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) =>
    `| ${row.map((text, i) => text + ' '.repeat((widths[i] ?? 0) - [...text].length)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line), ...(footer ? [rule, line(footer)] : [])];
}

const mark = (outcome: CellOutcome | undefined, observed: string): string => {
  if (!outcome) return '';
  return outcome.asExpected ? `${observed} ✓` : `${observed} ✗ (expected ${expectedSummary(outcome.cell)})`;
};

/** The matrix as Markdown tables, a legend, and the closing line. */
export function formatMatrix(result: MatrixResult): string {
  const faultCell = (dependency: Dependency, fault: Fault) =>
    result.cells.find((c) => c.cell.dependency === dependency && c.cell.fault?.id === fault.id);
  const faultRows = FAULTS.map((fault) => [
    fault.label,
    ...DEPENDENCIES.map((d) => {
      const outcome = faultCell(d, fault);
      return outcome ? mark(outcome, observedSummary(outcome)) : '';
    }),
  ]);
  const faultTotals = [
    'as expected',
    ...DEPENDENCIES.map((d) => {
      const column = result.cells.filter((c) => c.cell.dependency === d);
      return `${column.filter((c) => c.asExpected).length}/${column.length}`;
    }),
  ];
  const scenarios = result.cells.filter((c) => c.cell.kind === 'scenario');
  const modeColumn = (outcome: CellOutcome, mode: 'log' | 'direct') => {
    const run = outcome.runs.find((r) => r.mode === mode);
    if (!run) return '';
    const observed = describePages(pagesOf(run), run.pages.sameKeyResends);
    const ok = run.problems.length === 0;
    return ok ? `${observed} ✓` : `${observed} ✗ (expected ${expectedSummary(outcome.cell)})`;
  };
  const scenarioRows = scenarios.map((c) => [c.cell.label, modeColumn(c, 'log'), modeColumn(c, 'direct')]);
  const t = result.totals;
  const problems = result.cells
    .filter((c) => !c.asExpected)
    .flatMap((c) => [`✗ ${c.cell.label}:`, ...c.problems.map((p) => `    ${p}`)]);
  const ambiguous = result.cells.filter((c) => c.runs.some((r) => r.pages.sameKeyResends > 0));
  return [
    ...table(['fault', ...DEPENDENCIES.map((d) => COLUMN_TITLES[d])], faultRows, faultTotals),
    '',
    ...table(['scenario (pages read back, after which run)', 'log', 'direct'], scenarioRows),
    '',
    'A page counts only when it is read back from the SQS queue subscribed to the topic. Each cell runs in every',
    'delivery mode that uses the dependency (log: probe + notifier, each event delivered twice to one warm',
    "container; direct: the probe alerts itself). sts/git: the failed step's kind/phase, one ALARM; cloudwatch:",
    'every datapoint written as EMF instead, one ALARM; sns: the ALARM owed in the table after the broken run and',
    'sent by the next invocation with SNS back; dynamodb: one fail-open ALARM per target per container. In every',
    'cell: no datapoint lost (stored in CloudWatch or written as EMF), every expected page read back once after',
    'the run it is due, no other page, nothing left owed unless expected, every invocation back before its deadline.',
    '',
    ...(problems.length > 0 ? [...problems, ''] : []),
    `${t.runs} runs (${t.steps} probe invocations, ${t.invocations} timed invocations) in ` +
      `${(result.durationMs / 1000).toFixed(1)} s; ${t.datapoints} datapoints, ${t.pages} pages read back; ` +
      `slowest invocation ${Math.round(t.worstDeadlineShare * 100)}% of its deadline; ` +
      `peak RSS ${result.rss.peakMiB} MiB (${result.rss.beforeMiB} MiB before)`,
    `fault matrix: ${t.cases} cases, ${t.asExpected} as expected, ${t.datapointsLost} datapoints lost, ` +
      `${t.alertsLost} alerts lost, ${t.duplicatePages} duplicate pages, ${t.falsePages} false pages`,
    ...(t.sameKeyResends > 0
      ? [
          `same dedupKey read back again after an ambiguous timeout: ${t.sameKeyResends} ` +
            `(${ambiguous.map((c) => `"${c.cell.label}"`).join(', ')}; dropped by a receiver that deduplicates on dedupKey)`,
        ]
      : []),
  ].join('\n');
}
