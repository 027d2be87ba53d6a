/**
 * The demo: start the sandbox, then play the scenes (or, `--interactive`, let keys flip the faults) on a fast
 * schedule, each run going through the deployed stack's path (pipeline.ts), and end with a summary.
 */
import { performance } from 'node:perf_hooks';
import { styleFor } from '../cli/report-text.ts';
import { formatReportText } from '../report/render-text.ts';
import { isolateFromAwsConfig } from '../sandbox/isolation.ts';
import { type Sandbox, setFaults, startSandbox } from '../sandbox/sandbox.ts';
import type { Report } from '../types.ts';
import { KEY_HELP, type KeyInput, listenForKeys } from './keys.ts';
import { DemoPipeline } from './pipeline.ts';
import { SCENES, type Scene, sceneProblem } from './scenes.ts';
import type { DemoSummary, SceneOutcome } from './summary.ts';
import { DemoView, faultLine, type ViewOutput } from './view.ts';

/** At speed 1: a run every 2.5 s, each step given 1.5 s; the scenes take about half a minute. */
export const BASE_INTERVAL_MS = 2500;
export const BASE_DEADLINE_MS = 1500;
/** Faster tempos shorten the schedule, not the deadlines below this: a healthy run must never time out. */
const MIN_DEADLINE_MS = 1000;

export interface DemoOptions {
  interactive?: boolean;
  /** Tempo: 2 plays twice as fast (tests use more). Default 1. */
  speed?: number;
  scenes?: readonly Scene[];
  /** Where keys come from in interactive mode. Default process.stdin. */
  input?: KeyInput;
}

export interface DemoIo {
  stdout: ViewOutput;
  env: NodeJS.ProcessEnv;
}

export interface DemoResult {
  /** 0 when every scene sent exactly its alerts (interactive: on quit), 1 when one did not, 130 on Ctrl-C. */
  exitCode: number;
  summary: DemoSummary;
  /** The sandbox the demo ran against, already stopped: its endpoints, logs and issued secrets stay readable. */
  sandbox: Sandbox;
}

/** A quit request that also cuts short the wait between runs. */
class Quit {
  requested = false;
  #wake: () => void = () => {};
  request(): void {
    this.requested = true;
    this.#wake();
  }
  sleep(ms: number): Promise<void> {
    if (this.requested || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Runs the demo to its end and returns the exit code with what happened.
 *
 * @example
 * const { exitCode } = await runDemo({}, { stdout: process.stdout, env: process.env });
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<DemoResult> {
  const speed = options.speed ?? 1;
  const intervalMs = BASE_INTERVAL_MS / speed;
  const deadlineMs = Math.max(MIN_DEADLINE_MS, Math.round(BASE_DEADLINE_MS / speed));
  const scripted = options.interactive ? [] : (options.scenes ?? SCENES);
  const started = performance.now();
  const restoreEnv = isolateFromAwsConfig();
  const quit = new Quit();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    quit.request();
  };
  process.once('SIGINT', onSigint);
  let sandbox: Sandbox | undefined;
  let stopKeys = () => {};
  let view: DemoView | undefined;
  try {
    sandbox = await startSandbox({ deadlineMs });
    const box = sandbox;
    // Scenes of one AZ need the git name's three addresses (loopback aliases: there on Linux, not on macOS).
    const scenes = scripted.filter((scene) => (scene.gitAddresses ?? 1) <= box.gitAddresses.length);
    const left = scripted.filter((scene) => !scenes.includes(scene)).map((scene) => scene.id);
    const style = styleFor(io.stdout, io.env);
    const shown = new DemoView(io.stdout, style, { threshold: box.config.alerts.failuresBeforeAlert });
    view = shown;
    const pipeline = new DemoPipeline(box);
    let runs = 0;
    const runOnce = async () => {
      const begun = performance.now();
      const outcome = await pipeline.run();
      runs += 1;
      shown.run(runs, outcome);
      return { tookMs: performance.now() - begun, report: outcome.report };
    };

    shown.start({
      endpoints: box.endpoints,
      gitAddresses: box.gitAddresses,
      repository: box.targets[0]?.repository ?? '',
      intervalMs,
      deadlineMs,
      failuresBeforeAlert: box.config.alerts.failuresBeforeAlert,
      ...(options.interactive ? { keys: KEY_HELP } : {}),
    });

    if (left.length > 0) {
      shown.note(
        `left out: ${left.join(', ')} (they need 127.0.0.2 and 127.0.0.3 on loopback; on macOS: ` +
          'sudo ifconfig lo0 alias 127.0.0.2 up && sudo ifconfig lo0 alias 127.0.0.3 up)',
      );
    }
    const outcomes: SceneOutcome[] = [];
    if (options.interactive) {
      shown.note(`faults: ${faultLine(box.faults, style)}`);
      stopKeys = listenForKeys(options.input ?? process.stdin, (action) => {
        if (action.type === 'quit') return quit.request();
        if (action.type === 'recover') setFaults(box.faults, {});
        else {
          const fault = box.faults[action.binding.endpoint];
          fault.fault = fault.fault === action.binding.fault ? 'none' : action.binding.fault;
        }
        shown.note(`faults: ${faultLine(box.faults, style)}  (from the next run on)`);
      });
      while (!quit.requested) await quit.sleep(intervalMs - (await runOnce()).tookMs);
    } else {
      for (const [index, scene] of scenes.entries()) {
        if (quit.requested) break;
        setFaults(box.faults, scene.faults);
        await pipeline.silence(scene.silence ?? null);
        shown.scene(scene, index, scenes);
        const before = pipeline.alerts.length;
        const reports: Report[] = [];
        let played = 0;
        while (played < scene.runs && !quit.requested) {
          const { tookMs, report } = await runOnce();
          reports.push(report);
          played += 1;
          const last = index === scenes.length - 1 && played === scene.runs;
          if (!last) await quit.sleep(intervalMs - tookMs);
        }
        const alerts = pipeline.alerts.slice(before);
        // A scene cut short by Ctrl-C is not judged: it did not get its runs.
        const complete = played === scene.runs;
        outcomes.push({
          scene,
          runs: played,
          reports,
          alerts,
          problem: complete ? sceneProblem(scene, alerts) : null,
          complete,
        });
      }
    }

    const summary: DemoSummary = {
      scenes: outcomes,
      interrupted,
      runs,
      alerts: [...pipeline.alerts],
      durationMs: performance.now() - started,
    };
    shown.finish(summary, runs > 0 ? formatReportText(await pipeline.report(intervalMs)) : null);
    const exitCode = interrupted ? 130 : outcomes.some((o) => o.problem) ? 1 : 0;
    return { exitCode, summary, sandbox: box };
  } finally {
    view?.release();
    stopKeys();
    process.off('SIGINT', onSigint);
    restoreEnv();
    await sandbox?.stop();
  }
}
