import { addressKind } from '../net/addresses.ts';
import { formatSeconds } from '../net/failure.ts';
import type { Phases, Report, StepName, StepResult, TargetResult } from '../types.ts';

export interface Style {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const ansi = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
export const colour: Style = { ok: ansi(32), bad: ansi(31), dim: ansi(2), bold: ansi(1) };
export const plain: Style = { ok: (t) => t, bad: (t) => t, dim: (t) => t, bold: (t) => t };

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export const styleFor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style =>
  stream.isTTY && !env.NO_COLOR ? colour : plain;

const PHASE_LABELS: Array<[keyof Phases, string]> = [
  ['dnsMs', 'dns'],
  ['connectMs', 'connect'],
  ['tlsMs', 'tls'],
  ['firstByteMs', 'first byte'],
  ['transferMs', 'transfer'],
];
const BAR_WIDTH = 32;

const ms = (value: number): string => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`);

/** A curl `-w`-like waterfall: each phase starts where the previous one ended. */
export function waterfall(step: StepResult, style: Style): string[] {
  const total = Math.max(step.durationMs, 1);
  let offset = 0;
  return PHASE_LABELS.map(([key, label]) => {
    const value = step.phases[key];
    const start = Math.min(BAR_WIDTH - 1, Math.floor((offset / total) * BAR_WIDTH));
    const width = Math.max(1, Math.round((value / total) * BAR_WIDTH));
    offset += value;
    const bar = `${' '.repeat(start)}${value > 0 ? '█'.repeat(Math.min(width, BAR_WIDTH - start)) : '·'}`;
    return `       ${label.padEnd(10)} ${ms(value).padStart(9)}  ${style.dim(bar)}`;
  });
}

const where = (step: StepResult): string => {
  if (step.addresses.length === 0) return step.endpoint;
  return `${step.endpoint} → ${step.addresses.join(', ')} (${addressKind(step.addresses)})`;
};

export type Hint = (step: StepName, result: TargetResult) => string | undefined;

function stepLines(name: StepName, result: TargetResult, style: Style, hint?: Hint): string[] {
  const step = result.steps[name];
  if (!step) return [];
  const label = `  ${name.padEnd(4)}`;
  if (step.skipped) return [`${label}${style.dim('skipped (sts failed: no credentials to sign with)')}`];
  const lines: string[] = [];
  if (step.failure) {
    const f = step.failure;
    const status = f.status ? ` HTTP ${f.status}` : '';
    lines.push(
      `${label}${style.bad('FAIL')}  ${f.kind} in ${f.phase}${status} after ${formatSeconds(step.durationMs)} ` +
        `of ${formatSeconds(step.deadlineMs)} deadline`,
      `       ${f.message}`,
    );
  } else {
    const detail =
      name === 'git' && 'refs' in step
        ? `  ${step.refs} refs, HEAD → ${step.head ?? '(none)'}${step.headSha ? ` ${step.headSha.slice(0, 12)}` : ''}`
        : '';
    lines.push(`${label}${style.ok('ok')}    ${ms(step.durationMs)}${detail}`);
  }
  lines.push(`       ${style.dim(where(step))}`, ...waterfall(step, style));
  const text = step.failure ? hint?.(name, result) : undefined;
  if (text) lines.push(`       hint: ${text}`);
  return lines;
}

/** The report for people: per target, both steps with ok/failure, where they went, and the phase waterfall. */
export function formatReport(report: Report, style: Style, hint?: Hint): string {
  const failed = report.targets.filter((t) => !t.ok).length;
  const summary = failed === 0 ? style.ok('all ok') : style.bad(`${failed} failed`);
  const out = [
    `${style.bold('codecommit-canary')}  ${report.startedAt}  ${report.targets.length} target(s), ${summary}  (${ms(report.durationMs)})`,
  ];
  for (const target of report.targets) {
    const mark = target.ok ? style.ok('✔') : style.bad('✘');
    const role = target.roleArn ? `  as ${target.roleArn}` : '';
    out.push('', `${mark} ${style.bold(target.name)}  ${target.repository} @ ${target.region}${role}`);
    out.push(...stepLines('sts', target, style, hint), ...stepLines('git', target, style, hint));
  }
  if (report.findings.length > 0) out.push('', style.bold('Findings'));
  for (const finding of report.findings) {
    const tag = finding.severity === 'info' ? style.dim('info') : style.bad(finding.severity.toUpperCase());
    out.push(`  ${tag} ${finding.code}${finding.target ? ` (${finding.target})` : ''}: ${finding.message}`);
    out.push(`       fix: ${finding.remediation}`);
  }
  return `${out.join('\n')}\n`;
}
