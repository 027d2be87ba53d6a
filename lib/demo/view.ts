/**
 * The demo's screen. On a terminal one frame is redrawn in place after every run (header, scene, the probe
 * report with its waterfalls, incident state, the last alert in full). Elsewhere (a pipe, CI, a test) each run
 * appends one compact block, and each alert is printed in full where it happened.
 */

import type { IncidentState } from '../alerting/incident-policy.ts';
import { type AnyStep, formatReport, ms, pathSummary, type Style, stepHeadline } from '../cli/report-text.ts';
import type { Writer } from '../log.ts';
import { formatSeconds } from '../net/failure.ts';
import type { FaultSwitches } from '../sandbox/sandbox.ts';
import { type Phases, STEP_NAMES, type StepName } from '../types.ts';
import type { RunOutcome } from './pipeline.ts';
import type { Scene } from './scenes.ts';
import { type DemoSummary, summaryLines } from './summary.ts';

export interface ViewOutput extends Writer {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
}

export interface HeaderInfo {
  endpoints: { dns: string; sts: string; 'sts-global': string; git: string };
  /** The git name's addresses, one per Availability Zone. */
  gitAddresses?: ReadonlyArray<{ address: string; zone: string }>;
  repository: string;
  intervalMs: number;
  deadlineMs: number;
  failuresBeforeAlert: number;
  /** The key help line, in interactive mode. */
  keys?: string;
}

const PHASE_NAMES: Array<[keyof Phases, string]> = [
  ['dnsMs', 'dns'],
  ['connectMs', 'connect'],
  ['tlsMs', 'tls'],
  ['firstByteMs', 'first byte'],
  ['transferMs', 'transfer'],
];

const clockTime = (iso: string | null): string => (iso ? iso.slice(11, 19) : '?');
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const visibleLength = (line: string): number => line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').length;

/** The header: what runs where, and how the records travel. */
export function headerLines(info: HeaderInfo, style: Style): string[] {
  const width = Math.max(...Object.values(info.endpoints).map((e) => e.length));
  const row = (name: string, where: string, what: string) =>
    `  ${name.padEnd(10)}  ${where.padEnd(width)}  ${style.dim(what)}`;
  return [
    `${style.bold('codecommit-canary demo')}  the real probe, metric and alert code against a sandbox in this process`,
    row('dns', info.endpoints.dns, 'answers the *.demo.test names below with loopback addresses'),
    row('sts', info.endpoints.sts, 'AssumeRole, SigV4-checked, fresh random credentials per call'),
    row(
      'git',
      info.endpoints.git,
      `CodeCommit ls-remote and a shallow fetch of HEAD, with the SigV4 git password check (${info.repository})`,
    ),
    ...(info.gitAddresses && info.gitAddresses.length > 1
      ? [
          `  ${' '.repeat(10)}  → ${info.gitAddresses.map(({ address, zone }) => `${address} (${zone})`).join(', ')}  ` +
            style.dim('one endpoint interface per AZ, every one checked each run'),
        ]
      : []),
    row('sts-global', info.endpoints['sts-global'], "stand-in for sts.amazonaws.com: each run's global STS check"),
    `  HTTPS with a CA made in memory for this run (verification on); no AWS account, nothing leaves loopback`,
    `  a run every ${formatSeconds(info.intervalMs)}, deadlines ${formatSeconds(info.deadlineMs)}; result records → log → ` +
      `subscription event (gzip+base64) → notifier → incident store (alert after ${info.failuresBeforeAlert} failed runs) → console`,
    style.dim(
      '  (127.0.0.x shows as "loopback": through a real interface endpoint the addresses are private, e.g. 10.x)',
    ),
    ...(info.keys ? [`  ${style.bold('keys')}: ${info.keys}`] : []),
  ];
}

/**
 * A step in a line, its verdict as the CLI prints it (shared), the phases inline; then, when its endpoint has
 * several addresses or one failed, its paths in a line.
 */
function stepLines(name: StepName, step: AnyStep, style: Style): string[] {
  const label = `    ${name.padEnd(6)} `;
  const headline = stepHeadline(name, step, style);
  if (step.skipped || name === 'expect') return [`${label}${headline}`];
  const phases = PHASE_NAMES.map(([key, text]) => `${text} ${step.phases[key] > 0 ? ms(step.phases[key]) : '–'}`);
  const lines = [`${label}${headline}  ${style.dim(`[${phases.join(' · ')}]`)}`];
  const paths = step.paths ?? [];
  if (paths.length > 1 || paths.some((path) => !path.ok)) {
    lines.push(
      `${' '.repeat(label.length)}${style.dim('paths')} ${paths.map((p) => pathSummary(p, style)).join(' · ')}`,
    );
  }
  return lines;
}

function incidentText(state: IncidentState | undefined, threshold: number, sent: string[], style: Style): string {
  const now = sent.length > 0 ? style.bold(` → ${sent.join(', ')} sent`) : '';
  if (!state || state.status === 'ok') return `${style.ok('ok')}${now}`;
  if (state.status === 'failing') {
    return `${style.bad('failing')}: ${state.consecutiveFailures} of ${threshold} failed runs before an alert${now}`;
  }
  return (
    `${style.bad('INCIDENT')} since ${clockTime(state.failingSince)}, ${state.consecutiveFailures} failed runs, ` +
    `ALARM sent at ${clockTime(state.incidentOpenedAt)}${now}`
  );
}

/** Per target: incident state; then the metrics line and the subscription hop. */
function statusLines(outcome: RunOutcome, threshold: number, style: Style, findings = true): string[] {
  const lines = outcome.report.targets.map((result) => {
    const state = outcome.incidents.find((s) => s.target === result.name);
    const sent = outcome.alerts.filter((a) => a.attributes.target === result.name).map((a) => a.attributes.state);
    return `  ${style.dim('incident')}  ${result.name}: ${incidentText(state, threshold, sent, style)}`;
  });
  const { records, base64Bytes } = outcome.delivery;
  lines.push(
    `  ${style.dim('metrics ')}  ${outcome.metricLine}`,
    `  ${style.dim('notifier')}  ${records} record(s) in a ${base64Bytes}-byte subscription event → ` +
      `${outcome.alerts.length === 0 ? 'no alert' : outcome.alerts.map((a) => a.attributes.state).join(', ')}`,
    ...outcome.notifierLog.map((line) => `  ${style.dim('notifier log')}  ${line}`),
    ...(findings ? outcome.report.findings : []).map(
      (f) => `  ${style.dim('finding ')}  ${style.bad(f.severity.toUpperCase())} ${f.code}: ${f.message}`,
    ),
  );
  return lines;
}

/** One run, compact: a line per target and step, then status. */
export function compactRunLines(run: number, outcome: RunOutcome, threshold: number, style: Style): string[] {
  const lines = [`${style.bold(`run ${run}`)}  ${clockTime(outcome.summary.startedAt)}`];
  for (const result of outcome.report.targets) {
    const mark = result.ok ? style.ok('✔') : style.bad('✘');
    lines.push(
      `  ${mark} ${result.name}`,
      ...STEP_NAMES.flatMap((name) => {
        const step: AnyStep | undefined = result.steps[name];
        return step ? stepLines(name, step, style) : [];
      }),
    );
  }
  return [...lines, ...statusLines(outcome, threshold, style)];
}

/** Fault switch states for the interactive status line: `sts HANG · git ok …`. */
export const faultLine = (faults: FaultSwitches, style: Style): string =>
  Object.values(faults)
    .map((s) => `${s.endpoint} ${s.fault === 'none' ? style.ok('ok') : style.bad(s.fault.toUpperCase())}`)
    .join(' · ');

/**
 * The live view. Call `scene` when a scene starts, `run` after every run, `note` for interactive feedback,
 * `finish` at the end.
 */
export class DemoView {
  readonly #out: ViewOutput;
  readonly #style: Style;
  readonly #live: boolean;
  readonly #threshold: number;
  #header: string[] = [];
  #scene: string[] = [];
  #run: { number: number; outcome: RunOutcome } | null = null;
  #lastAlert = '';
  #alertCount = 0;
  #note = '';

  constructor(out: ViewOutput, style: Style, options: { threshold: number }) {
    this.#out = out;
    this.#style = style;
    this.#live = out.isTTY === true;
    this.#threshold = options.threshold;
  }

  start(info: HeaderInfo): void {
    this.#header = headerLines(info, this.#style);
    if (this.#live) this.#out.write('\u001b[?25l\u001b[2J');
    this.#emit(this.#header, '');
  }

  scene(scene: Scene, index: number, scenes: readonly Scene[]): void {
    const progress = scenes
      .map((s, i) =>
        i < index ? this.#style.ok(`✔ ${s.id}`) : i === index ? this.#style.bold(`▶ ${s.id}`) : `· ${s.id}`,
      )
      .join('  ');
    this.#scene = [
      this.#live ? progress : this.#style.bold(`▶ scene ${index + 1}/${scenes.length} ${scene.id}`),
      `  ${scene.caption}`,
    ];
    this.#emit(['', ...this.#scene], '');
  }

  run(number: number, outcome: RunOutcome): void {
    this.#run = { number, outcome };
    if (outcome.alertText) {
      this.#lastAlert = outcome.alertText.replace(/^\n/, '');
      this.#alertCount += outcome.alerts.length;
    }
    this.#emit(compactRunLines(number, outcome, this.#threshold, this.#style), outcome.alertText);
  }

  /** Interactive feedback (a fault toggled); shown in the frame, or as a line. */
  note(text: string): void {
    this.#note = text;
    this.#emit([`  ${text}`], '');
  }

  /** The closing lines, after the report of the runs played (as `codecommit-canary report` prints it). */
  finish(summary: DemoSummary, report: string | null = null): void {
    if (this.#live) this.#redraw();
    if (report) this.#out.write(`\n${report}`);
    this.#out.write(`\n${summaryLines(summary, this.#style).join('\n')}\n`);
  }

  /** Gives the terminal its cursor back, however the demo ended. */
  release(): void {
    if (this.#live) this.#out.write('\u001b[?25h');
  }

  /** Appends (not a terminal) or redraws the frame (terminal). */
  #emit(lines: string[], alertText: string): void {
    if (this.#live) this.#redraw();
    else this.#out.write(`${lines.join('\n')}\n${alertText}`);
  }

  #frame(detailed: boolean, alertLines: number): string[] {
    const lines = [...this.#header, '', ...this.#scene];
    if (this.#note) lines.push(`  ${this.#note}`);
    if (this.#run) {
      const { number, outcome } = this.#run;
      lines.push('');
      if (detailed) {
        const [title = '', ...report] = formatReport(outcome.report, this.#style).trimEnd().split('\n');
        lines.push(
          `${this.#style.bold(`run ${number}`)}  ${title}`,
          ...report,
          ...statusLines(outcome, this.#threshold, this.#style, false),
        );
      } else lines.push(...compactRunLines(number, outcome, this.#threshold, this.#style));
    }
    if (this.#lastAlert) {
      const alert = this.#lastAlert.trimEnd().split('\n');
      const shown = alert.length > alertLines ? [...alert.slice(0, alertLines), '…'] : alert;
      lines.push(
        '',
        this.#style.dim(`alerts sent: ${this.#alertCount}; the last one, as on-call receives it:`),
        ...shown,
      );
    }
    return lines;
  }

  /** The most detailed frame that fits the terminal: waterfalls first, then the alert's full text. */
  #redraw(): void {
    const rows = this.#out.rows ?? 50;
    const columns = this.#out.columns ?? 120;
    const height = (lines: string[]) =>
      lines.reduce((sum, line) => sum + Math.max(1, Math.ceil(visibleLength(line) / columns)), 0);
    const candidates = [this.#frame(true, 100), this.#frame(false, 100), this.#frame(false, 8), this.#frame(false, 2)];
    const frame = candidates.find((lines) => height(lines) < rows) ?? candidates[candidates.length - 1] ?? [];
    this.#out.write(`\u001b[H${frame.map((line) => `${line}\u001b[K`).join('\n')}\n\u001b[J`);
  }
}
