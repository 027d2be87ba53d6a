import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitLsRemote } from '../harness/oracle.ts';
import { REGION, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { probeAll, probeTarget } from '../lib/run/probe.ts';
import { stsStep } from '../lib/steps/sts.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ manyRefs: true });
});
afterAll(async () => sandbox?.stop());

/** What real `git ls-remote`, authenticated by the AWS CLI credential helper, prints for the repository. */
async function oracle(repository: string) {
  const { credentials } = await stsStep(sandbox.target(), await sandbox.deps.sourceCredentials(), sandbox.deps);
  if (!credentials) throw new Error('AssumeRole through moto failed');
  const url = `${sandbox.git.url}/v1/repos/${repository}`;
  const { refs } = await gitLsRemote({ url, credentials, caFile: sandbox.pki.caFile, region: REGION });
  const head = refs.find((r) => r.name === 'HEAD');
  return { refs, headSha: head?.oid ?? null };
}

describe('probeTarget against moto STS and the CodeCommit stand-in', () => {
  it.each([
    ['test_repo', 'refs/heads/develop'],
    ['empty_repo', null],
    ['many_refs', 'refs/heads/main'],
  ])('%s: refs, head and headSha equal real git ls-remote', async (repository, head) => {
    // Act
    const [result, expected] = await Promise.all([
      probeTarget(sandbox.target({ repository }), sandbox.deps),
      oracle(repository),
    ]);
    // Assess
    expect(result.ok).toBe(true);
    expect(result.steps.git.refs).toBe(expected.refs.length);
    expect(result.steps.git.headSha).toBe(expected.headSha);
    expect(result.steps.git.head).toBe(head);
    if (repository === 'many_refs') expect(result.steps.git.refs).toBeGreaterThan(10_000);
    if (repository === 'test_repo') expect(expected.refs.some((r) => r.name.endsWith('^{}'))).toBe(true);
  });

  it('times every phase of both steps and names the addresses it reached', async () => {
    const result = await probeTarget(sandbox.target(), sandbox.deps);
    for (const step of [result.steps.sts, result.steps.git]) {
      expect(step.ok).toBe(true);
      expect(step.addresses).toEqual(['127.0.0.1']);
      expect(step.private).toBe(false); // loopback is not a VPC endpoint's private address
      expect(step.phases.dnsMs).toBeGreaterThan(0); // the name went through the test resolver
      expect(step.phases.connectMs).toBeGreaterThan(0);
      expect(step.phases.tlsMs).toBeGreaterThan(0);
      expect(step.phases.firstByteMs).toBeGreaterThan(0);
      const sum = Object.values(step.phases).reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(step.durationMs + 1);
    }
    expect(result.steps.sts.accountId).toBe('111111111111');
  });

  it('assumes the configured role with its session name and external id, one call per probe', async () => {
    const before = (await sandbox.moto.assumedRoles()).length;
    const target = sandbox.target({ sessionName: 'external-id-check', externalId: 'ext-1234' });
    await probeTarget(target, sandbox.deps);
    const roles = await sandbox.moto.assumedRoles();
    expect(roles.length).toBe(before + 1);
    expect(roles.at(-1)).toMatchObject({
      role_arn: target.roleArn,
      session_name: 'external-id-check',
      external_id: 'ext-1234',
    });
  });

  it('signs git with the assumed role: a role the server does not know gets auth in response', async () => {
    const result = await probeTarget(sandbox.target(), {
      ...sandbox.deps,
      // Same STS answer, but the git server looks the key up in moto: a wrong clock makes the password stale.
      clock: { ...sandbox.deps.clock, now: () => new Date(Date.now() - 20 * 60_000) },
    });
    expect(result.steps.git.failure).toMatchObject({ kind: 'auth', phase: 'response', status: 403 });
  });

  it('probeAll keeps the config order and reports ok only when every target is ok', async () => {
    const targets = [
      sandbox.target({ name: 'a' }),
      sandbox.target({ name: 'b', repository: 'no_such_repo' }),
      sandbox.target({ name: 'c', repository: 'empty_repo' }),
    ];
    const report = await probeAll(targets, sandbox.deps, { concurrency: 2 });
    expect(report.targets.map((t) => [t.name, t.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
    expect(report.ok).toBe(false);
    expect(report.targets[1]?.steps.git.failure).toMatchObject({ kind: 'not-found', phase: 'response' });
    expect(Number.isNaN(Date.parse(report.startedAt))).toBe(false);
  });
});
