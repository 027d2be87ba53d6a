/** `codecommit-canary demo [--interactive] [--speed <n>]`: options in, exit code out. */
import { parseArgs } from 'node:util';
import { KEY_HELP } from './keys.ts';
import { runDemo } from './run.ts';
import type { ViewOutput } from './view.ts';

export const DEMO_USAGE = `Usage: codecommit-canary demo [--interactive] [--speed <n>]

Runs the real probe, metrics and alert code against a sandbox in this process (STS, git-codecommit and DNS on
127.0.0.1; no AWS account, no network) and plays scenes: healthy, an STS hang and its ALARM, recovery,
git refusing the role (403) and its ALARM, recovery, the same under a silence (no page until it is lifted, then
one), the global STS finding. Ends by itself with the report of its runs and a summary; exit 0 when every scene
sent exactly the alerts it should.

Options:
  -i, --interactive   no scenes: toggle faults with keys (${KEY_HELP})
      --speed <n>     tempo, 0.5 to 50 (default 1); deadlines stay at least 1 s
  -h, --help          this text
`;

export interface DemoCommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/**
 * @example
 * process.exitCode = await demoCommand(['--speed', '2'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function demoCommand(argv: string[], io: DemoCommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      interactive: { type: 'boolean', short: 'i' },
      speed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(DEMO_USAGE);
    return 0;
  }
  const speed = values.speed === undefined ? 1 : Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0.5 || speed > 50) {
    io.stderr.write(`codecommit-canary demo: --speed: expected a number from 0.5 to 50, got ${values.speed}\n`);
    return 2;
  }
  const { exitCode } = await runDemo(
    { interactive: values.interactive === true, speed },
    { stdout: io.stdout as ViewOutput, env: io.env },
  );
  return exitCode;
}
