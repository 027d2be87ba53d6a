import { addressKind } from '../net/addresses.ts';
import { formatSeconds } from '../net/failure.ts';
import {
  type ExpectStepResult,
  type FetchStepResult,
  type GitStepResult,
  type PathResult,
  type Phases,
  type Report,
  STEP_NAMES,
  type StepName,
  type StepResult,
  type StsStepResult,
  type TargetResult,
} from '../types.ts';

/** Any step of a target, as its name's result type (so each step's own fields narrow by `in`). */
export type AnyStep = StsStepResult | GitStepResult | FetchStepResult | ExpectStepResult;

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
/** A path's phases on one bar, one shade each, in PHASE_LABELS' order. */
const PATH_SHADES = ['░', '▒', '▓', '█', '▇'] as const;
const BAR_WIDTH = 32;
const LABEL_WIDTH = 6; // the longest step name, `expect`
const INDENT = ' '.repeat(LABEL_WIDTH + 3);

export const ms = (value: number): string => (value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`);

/** A byte count for people: `512 B`, `48.9 KiB`, `8.0 MiB`. */
export function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
}

/** The time scale of a step's bars: its own duration and each path's, so every bar of the step compares. */
const scaleOf = (step: StepResult): number =>
  Math.max(1, step.durationMs, ...(step.paths ?? []).map((path) => path.durationMs));

/** A curl `-w`-like waterfall: each phase starts where the previous one ended; `scaleMs` is the bar's full width. */
export function waterfall(step: StepResult, style: Style, scaleMs = scaleOf(step)): string[] {
  let offset = 0;
  return PHASE_LABELS.map(([key, label]) => {
    const value = step.phases[key];
    const start = Math.min(BAR_WIDTH - 1, Math.floor((offset / scaleMs) * BAR_WIDTH));
    const width = Math.max(1, Math.round((value / scaleMs) * BAR_WIDTH));
    offset += value;
    const bar = `${' '.repeat(start)}${value > 0 ? '█'.repeat(Math.min(width, BAR_WIDTH - start)) : '·'}`;
    return `${INDENT}${label.padEnd(10)} ${ms(value).padStart(9)}  ${style.dim(bar)}`;
  });
}

/** A path's phases as one bar on the step's scale, a shade per phase. */
function pathBar(path: PathResult, scaleMs: number): string {
  let bar = '';
  PHASE_LABELS.forEach(([key], index) => {
    const value = path.phases[key];
    if (value > 0) bar += (PATH_SHADES[index] as string).repeat(Math.max(1, Math.round((value / scaleMs) * BAR_WIDTH)));
  });
  return bar.slice(0, BAR_WIDTH) || '·';
}

const zoned = (path: { address: string; zone: string | null }): string =>
  path.zone ? `${path.address} (${path.zone})` : path.address;

/** One path in a few words: `127.0.0.3 (ap-northeast-1d) FAIL timeout in tls 1502 ms`. */
export function pathSummary(path: PathResult, style: Style): string {
  const verdict = path.failure ? style.bad(`FAIL ${path.failure.kind} in ${path.failure.phase}`) : style.ok('ok');
  return `${zoned(path)} ${verdict} ${ms(path.durationMs)}`;
}

/** One waterfall line per address of the step's endpoint, on the step's time scale, and the shades' legend. */
export function pathLines(step: StepResult, style: Style, scaleMs = scaleOf(step)): string[] {
  const paths = step.paths ?? [];
  if (paths.length === 0) return [];
  const where = paths.map(zoned);
  const width = Math.max(...where.map((w) => w.length));
  const legend = PHASE_LABELS.map(([, label], i) => `${PATH_SHADES[i]} ${label}`).join('  ');
  return [
    `${INDENT}${style.dim(`every address (${legend}):`)}`,
    ...paths.map((path, i) => {
      const verdict = path.failure
        ? style.bad(`FAIL ${path.failure.kind} in ${path.failure.phase}`.padEnd(20))
        : style.ok('ok'.padEnd(20));
      return `${INDENT}${(where[i] as string).padEnd(width)}  ${verdict} ${ms(path.durationMs).padStart(9)}  ${style.dim(pathBar(path, scaleMs))}`;
    }),
  ];
}

const where = (step: StepResult): string => {
  // A kept-alive connection: connect and TLS were timed by the step that opened it.
  const reused = step.connection === 'reused' ? ', connection reused' : '';
  if (step.addresses.length === 0) return `${step.endpoint}${reused ? ` (${reused.slice(2)})` : ''}`;
  return `${step.endpoint} → ${step.addresses.join(', ')} (${addressKind(step.addresses)}${reused})`;
};

export type Hint = (step: StepName, result: TargetResult) => string | undefined;

/** Why a step was skipped, in words. */
function skipReason(name: StepName, step: AnyStep): string {
  if (name === 'fetch' && 'skipReason' in step && step.skipReason) return step.skipReason;
  if (name === 'git') return 'sts failed: no credentials to sign with';
  return 'no refs to check: sts or ls-remote failed';
}

/** What a successful step found: refs and HEAD, the fetched pack, the expectations met. */
function detailOf(name: StepName, step: AnyStep): string {
  if (name === 'git' && 'refs' in step) {
    return `${step.refs} refs, HEAD → ${step.head ?? '(none)'}${step.headSha ? ` ${step.headSha.slice(0, 12)}` : ''}`;
  }
  if (name === 'fetch' && 'packBytes' in step) {
    const rate = step.throughputBytesPerSec === null ? '' : `, ${bytes(step.throughputBytesPerSec)}/s`;
    return `commit ${step.commit?.slice(0, 12) ?? '(none)'}, ${step.objects} objects, ${bytes(step.packBytes)} pack${rate}`;
  }
  if (name === 'expect' && 'expectations' in step) return `${step.expectations.length} expectation(s) met`;
  return '';
}

/** A fetch whose deadline struck while the pack streamed in: how far it got, and how long nothing came. */
function stallOf(step: AnyStep): string {
  if (!('bytesBeforeStall' in step) || step.bytesBeforeStall === null) return '';
  const quiet = step.stalledForMs === null ? '' : `, nothing for ${formatSeconds(step.stalledForMs)}`;
  return `: stalled after ${step.bytesBeforeStall.toLocaleString('en-US')} bytes${quiet}`;
}

/** `degraded: 1 of 3 paths failed`, when some but not all did. */
function degradedOf(step: StepResult): string {
  if (!step.degraded || !step.paths) return '';
  return `degraded: ${step.paths.filter((p) => !p.ok).length} of ${step.paths.length} paths failed`;
}

/**
 * A step's verdict in one line, after its label: `ok 88 ms  6 refs, …`, `FAIL  auth in response HTTP 403 after
 * …`, `skipped (…)`; a failure of a path alone names the address, and a degraded step says so.
 */
export function stepHeadline(name: StepName, step: AnyStep, style: Style): string {
  if (step.skipped) return style.dim(`skipped (${skipReason(name, step)})`);
  const degraded = degradedOf(step);
  const marker = degraded ? `  ${style.bad(degraded)}` : '';
  const f = step.failure;
  if (!f) {
    const detail = detailOf(name, step);
    // The assertions read what ls-remote and the fetch found: no time of their own.
    const took = name === 'expect' ? '' : `${ms(step.durationMs)}  `;
    return `${style.ok('ok')}    ${took}${detail}${marker}`.trimEnd();
  }
  if (f.kind === 'assertion' && 'expectations' in step) {
    const failed = step.expectations.filter((e) => !e.ok).length;
    return `${style.bad('FAIL')}  ${failed} of ${step.expectations.length} expectation(s) failed`;
  }
  const status = f.status ? ` HTTP ${f.status}` : '';
  const path = f.address ? step.paths?.find((p) => p.address === f.address) : undefined;
  const on = path ? ` on ${zoned(path)}` : '';
  const took = path?.durationMs ?? step.durationMs;
  return (
    `${style.bad('FAIL')}  ${f.kind} in ${f.phase}${status}${on} after ${formatSeconds(took)} ` +
    `of ${formatSeconds(step.deadlineMs)} deadline${stallOf(step)}${marker}`
  );
}

/** The expectations that failed, one a line: what was expected and what was found. */
function expectationLines(step: AnyStep, style: Style): string[] {
  if (!('expectations' in step)) return [];
  return step.expectations
    .filter((e) => !e.ok)
    .map((e) => `${INDENT}${style.bad('✘')} ${e.check} ${e.expected}: found ${e.found ?? 'nothing'}`);
}

function stepLines(name: StepName, result: TargetResult, style: Style, hint?: Hint): string[] {
  const step: AnyStep | undefined = result.steps[name];
  if (!step) return [];
  const label = `  ${name.padEnd(LABEL_WIDTH)} `;
  const lines = [`${label}${stepHeadline(name, step, style)}`];
  if (step.skipped) return lines;
  if (name === 'expect') {
    lines.push(...expectationLines(step, style));
  } else {
    if (step.failure) lines.push(`${INDENT}${step.failure.message}`);
    // A path failed, the step's own call did not: what that call found.
    if (step.failure?.address) {
      const detail = detailOf(name, step);
      lines.push(`${INDENT}its own call ok in ${ms(step.durationMs)}${detail ? `  ${detail}` : ''}`);
    }
    const scale = scaleOf(step);
    lines.push(
      `${INDENT}${style.dim(where(step))}`,
      ...waterfall(step, style, scale),
      ...pathLines(step, style, scale),
    );
  }
  const text = step.failure ? hint?.(name, result) : undefined;
  if (text) lines.push(`${INDENT}hint: ${text}`);
  return lines;
}

/**
 * The report for people: per target, each step with ok/failure, where it went, the phase waterfall and one line
 * per address of its endpoint; the fetch with its pack, the assertions with what failed.
 */
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
    out.push(...STEP_NAMES.flatMap((name) => stepLines(name, target, style, hint)));
  }
  if (report.findings.length > 0) out.push('', style.bold('Findings'));
  for (const finding of report.findings) {
    const tag = finding.severity === 'info' ? style.dim('info') : style.bad(finding.severity.toUpperCase());
    out.push(`  ${tag} ${finding.code}${finding.target ? ` (${finding.target})` : ''}: ${finding.message}`);
    out.push(`       fix: ${finding.remediation}`);
  }
  return `${out.join('\n')}\n`;
}
