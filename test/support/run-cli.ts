import { fileURLToPath } from 'node:url';
import { type ProcessRun, runProcess } from '../../harness/run-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type CliRun = ProcessRun;

/** Runs the CLI from source in a child process, with only the environment given (plus PATH). */
export const runCli = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliRun> =>
  runProcess(process.execPath, ['--import', 'tsx', 'bin/codecommit-canary.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env },
    timeoutMs,
  });
