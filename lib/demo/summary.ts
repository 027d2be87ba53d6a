/** The demo's closing lines: what each scene sent, and whether that was what it should send. */
import type { AnyAlert } from '../alerting/text.ts';
import type { Style } from '../cli/report-text.ts';
import { formatSeconds } from '../net/failure.ts';
import type { Report } from '../types.ts';
import type { Scene } from './scenes.ts';

export interface SceneOutcome {
  scene: Scene;
  /** Runs played: fewer than `scene.runs` when the demo was interrupted. */
  runs: number;
  /** Each run's report, as the notifier read it from the records. */
  reports: Report[];
  alerts: AnyAlert[];
  /** null when the scene sent exactly the alerts it should (or did not play to its end). */
  problem: string | null;
  complete: boolean;
}

export interface DemoSummary {
  scenes: SceneOutcome[];
  /** Ended by Ctrl-C. */
  interrupted: boolean;
  runs: number;
  alerts: readonly AnyAlert[];
  durationMs: number;
}

/**
 * The summary: one line of totals, one per scene, and a verdict.
 *
 * @example
 * summaryLines(summary, plain)[0] // 'demo finished: 5 scenes, 4 alerts sent (2 ALARM, 2 RECOVERED), 12 runs in 29.1 s'
 */
export function summaryLines(summary: DemoSummary, style: Style): string[] {
  const counts = (['ALARM', 'REMINDER', 'RECOVERED', 'FINDING', 'CLEARED'] as const)
    .map((state) => [state, summary.alerts.filter((a) => a.attributes.state === state).length] as const)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`);
  const lines = [
    style.bold(
      `demo finished: ${summary.scenes.length > 0 ? `${summary.scenes.length} scenes, ` : ''}${summary.alerts.length} alerts sent` +
        `${counts.length > 0 ? ` (${counts.join(', ')})` : ''}, ${summary.runs} runs in ${formatSeconds(summary.durationMs)}`,
    ),
  ];
  const idWidth = Math.max(0, ...summary.scenes.map((s) => s.scene.id.length));
  for (const { scene, runs, alerts, problem, complete } of summary.scenes) {
    const mark = problem ? style.bad('✘') : complete ? style.ok('✔') : '‖';
    const sent = alerts.length === 0 ? 'no alerts' : alerts.map((a) => a.subject).join('; ');
    const what = problem ?? (complete ? sent : `interrupted (${sent})`);
    lines.push(`  ${mark} ${scene.id.padEnd(idWidth)}  ${runs} run${runs === 1 ? '' : 's'}  ${what}`);
  }
  const failed = summary.scenes.filter((s) => s.problem).length;
  if (summary.interrupted) lines.push('Interrupted.');
  else if (summary.scenes.length > 0) {
    lines.push(
      failed === 0
        ? 'Every scene did what it should. Next: docs/deploy.md (a real deployment) and docs/runbook.md (what each alert means).'
        : style.bad(`${failed} scene(s) did not go as scripted (a slow machine?): see above.`),
    );
  }
  return lines;
}
