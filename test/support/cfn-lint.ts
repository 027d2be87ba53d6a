import { execFile } from 'node:child_process';

/** One cfn-lint finding, as its JSON formatter writes it. */
export interface CfnLintMatch {
  Level: 'Error' | 'Warning' | 'Informational' | string;
  Rule: { Id: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

/**
 * cfn-lint's verdict on templates, from its JSON report only. Its exit status is a bit mask of what it found
 * (2 errors, 4 warnings, 8 informational): any other status (1 for its own crash or bad usage, a signal), a
 * report that is not a JSON array of matches, or a Python traceback rejects, so a cfn-lint that could not lint
 * never reads as a clean template.
 *
 * @example
 * expect((await cfnLint([templateFile])).filter((m) => m.Level === 'Error')).toEqual([]);
 */
export function cfnLint(files: string[], extraArgs: string[] = [], command = 'cfn-lint'): Promise<CfnLintMatch[]> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      ['--format', 'json', ...extraArgs, ...files],
      { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const fail = (why: string) =>
          reject(
            new Error(
              `cfn-lint did not lint (${why}); stderr: ${stderr.slice(0, 2000)} stdout: ${stdout.slice(0, 2000)}`,
            ),
          );
        if (status === null || status > 14 || status % 2 !== 0) return fail(`exit status ${String(error?.code)}`);
        if (/Traceback \(most recent call last\)/.test(stderr + stdout)) return fail('a Python traceback');
        let report: unknown;
        try {
          report = JSON.parse(stdout);
        } catch {
          return fail('its report is not JSON');
        }
        if (!Array.isArray(report)) return fail('its report is not a list of matches');
        const matches = report as CfnLintMatch[];
        // A status that says errors were found must agree with the report, and the other way round.
        const hasErrors = matches.some((m) => m.Level === 'Error');
        if (hasErrors !== ((status & 2) === 2)) return fail(`exit status ${status} disagrees with the report`);
        resolve(matches);
      },
    );
  });
}
