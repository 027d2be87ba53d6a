import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, plain } from '../lib/cli/report-text.ts';
import { probeAll } from '../lib/run/probe.ts';
import type { Fault } from '../lib/sandbox/fault-switch.ts';
import { type FaultSwitches, type Sandbox, setFaults, startSandbox } from '../lib/sandbox/sandbox.ts';
import type { Report } from '../lib/types.ts';

/**
 * The human report (`codecommit-canary probe` without --json) of real probes against lib/sandbox's demo sandbox:
 * git.demo.test answers three addresses, one per AZ (network.zones), the fetch is on, the targets assert refs.
 */

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ deadlineMs: 1000 });
});
afterAll(() => sandbox?.stop());

const EXPECT = { refs: ['refs/heads/main', 'refs/heads/gone'], head: 'refs/heads/main' };

async function probe(faults: Partial<Record<keyof FaultSwitches, Fault>>): Promise<{ report: Report; text: string }> {
  setFaults(sandbox.faults, faults);
  try {
    const targets = sandbox.targets.map((target) => ({ ...target, expect: EXPECT }));
    const report = await probeAll(targets, sandbox.deps, { concurrency: 1 });
    return { report, text: formatReport(report, plain) };
  } finally {
    setFaults(sandbox.faults, {});
  }
}

/** The lines of one step's block: from its headline to the next step's. */
function block(text: string, step: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`  ${step.padEnd(6)} `));
  const end = lines.findIndex((line, i) => i > start && (line === '' || /^ {2}\S/.test(line)));
  return lines.slice(start, end === -1 ? undefined : end);
}

describe('the human report: paths, the fetch and the assertions', () => {
  it('healthy: a path line per address with its zone, the fetch with its commit, the assertion that failed', async () => {
    // Act
    const { report, text } = await probe({});

    // Assess
    const { git, fetch } = report.targets[0]?.steps ?? {};
    const gitLines = block(text, 'git');
    expect(gitLines[0]).toMatch(/^ {2}git {4}ok +[\d.]+ ms {2}6 refs, HEAD → refs\/heads\/main [0-9a-f]{12}$/);
    expect(gitLines.filter((line) => / ok +[\d.]+ ms {2}[░▒▓█▇]+$/.test(line))).toEqual([
      expect.stringMatching(/^ {9}127\.0\.0\.1 \(ap-northeast-1a\) {2}ok/),
      expect.stringMatching(/^ {9}127\.0\.0\.2 \(ap-northeast-1c\) {2}ok/),
      expect.stringMatching(/^ {9}127\.0\.0\.3 \(ap-northeast-1d\) {2}ok/),
    ]);
    // sts.demo.test is 127.0.0.1 too, in the same zone.
    expect(block(text, 'sts').some((line) => /^ {9}127\.0\.0\.1 \(ap-northeast-1a\) {2}ok/.test(line))).toBe(true);
    expect(block(text, 'fetch')[0]).toMatch(
      new RegExp(
        `^ {2}fetch {2}ok +[\\d.]+ ms {2}commit ${git?.headSha?.slice(0, 12)}, 4 objects, 384\\.4 KiB pack, [\\d.]+ (?:KiB|MiB)/s$`,
      ),
    );
    expect(fetch?.commit).toBe(git?.headSha);
    expect(block(text, 'expect')).toEqual([
      '  expect FAIL  1 of 3 expectation(s) failed',
      '         ✘ ref refs/heads/gone: found nothing',
    ]);
  });

  it('one address silent: the step degraded, its failure on that address and zone, the bar on one time scale', async () => {
    // Act
    const { report, text } = await probe({ 'git-1d': 'hang' });

    // Assess
    const git = report.targets[0]?.steps.git;
    expect(git).toMatchObject({ degraded: true, failure: { address: '127.0.0.3' } });
    const lines = block(text, 'git');
    expect(lines[0]).toBe(
      '  git    FAIL  timeout in tls on 127.0.0.3 (ap-northeast-1d) after 1.0 s of 1.0 s deadline  degraded: 1 of 3 paths failed',
    );
    expect(lines[1]).toBe('         path to 127.0.0.3 (ap-northeast-1d): no progress in tls before the 1.0 s deadline');
    expect(lines[2]).toMatch(/^ {9}its own call ok in [\d.]+ ms {2}6 refs, HEAD → refs\/heads\/main [0-9a-f]{12}$/);
    const dead = lines.find((line) => line.includes('127.0.0.3 (ap-northeast-1d)  FAIL'));
    // The dead path took the whole deadline: its bar is the full width, mostly tls; the step's own bars are short.
    expect(dead).toMatch(/^ {9}127\.0\.0\.3 \(ap-northeast-1d\) {2}FAIL timeout in tls +\d+ ms {2}░*▒*▓{20,}$/);
    expect(dead?.match(/[░▒▓█▇]+$/)?.[0]).toHaveLength(32);
    const tls = lines.find((line) => line.startsWith('         tls '));
    expect(tls?.match(/█+$/)?.[0].length).toBeLessThan(16);
  });

  it('a stalled pack: the fetch fails in body, stalled after the bytes the record gives', async () => {
    // Act
    const { report, text } = await probe({ git: 'stall' });

    // Assess
    const fetch = report.targets[0]?.steps.fetch;
    expect(fetch?.bytesBeforeStall).toBeGreaterThan(0);
    expect(block(text, 'git')[0]).toMatch(/^ {2}git {4}ok /);
    expect(block(text, 'fetch')[0]).toMatch(
      new RegExp(
        `^ {2}fetch {2}FAIL {2}timeout in body after 1\\.0 s of 1\\.0 s deadline: stalled after ${fetch?.bytesBeforeStall?.toLocaleString('en-US')} bytes, nothing for [\\d.]+ m?s$`,
      ),
    );
  });

  it('sts refused: every later step skipped, each with its reason', async () => {
    // Act
    const { text } = await probe({ sts: 'deny' });

    // Assess
    expect(block(text, 'sts')[0]).toMatch(/^ {2}sts {4}FAIL {2}auth in response HTTP 403 /);
    expect(block(text, 'git')).toEqual(['  git    skipped (sts failed: no credentials to sign with)']);
    expect(block(text, 'fetch')).toEqual(['  fetch  skipped (sts failed)']);
    expect(block(text, 'expect')).toEqual(['  expect skipped (no refs to check: sts or ls-remote failed)']);
  });
});
