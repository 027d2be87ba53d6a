/**
 * The sample's kept-alive connections as the probe uses them (probeAll), against the real parts: moto's STS and
 * `git http-backend` behind CodeCommit's password check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox.ts';
import { targetResultSchema } from '../../lib/metrics/record-schema.ts';
import { probeAll } from '../../lib/run/probe.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => sandbox?.stop());

/** This process's open TLS sockets, client and server side (the git server runs here). */
const openTlsSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TLSWrap').length;

describe('a sample’s targets on kept-alive connections', () => {
  it('the first target connects and handshakes, the next reuse its connections; paths and fetch connect anew', async () => {
    // Prepare: three targets one after the other, with the paths and the fetch on.
    const targets = ['a', 'b', 'c'].map((name) =>
      sandbox.target({ name, everyAddress: true, fetch: { maxBytes: 8 * 1024 * 1024, timeoutMs: 15_000 } }),
    );
    // Act
    const report = await probeAll(targets, sandbox.deps, { concurrency: 1 });
    // Assess
    expect(report.targets.map((t) => t.ok)).toEqual([true, true, true]);
    const [first, ...next] = report.targets;
    for (const step of [first?.steps.sts, first?.steps.git]) {
      expect(step?.connection).toBe('new');
      expect(step?.phases.tlsMs).toBeGreaterThan(0);
    }
    for (const target of next) {
      const { sts, git } = target.steps;
      expect(git.connection).toBe('reused');
      expect(git.phases.connectMs + git.phases.tlsMs).toBe(0);
      // Still resolved by the step itself, and the certificate is the connection's.
      expect(git.phases.dnsMs).toBeGreaterThan(0);
      expect(git.addresses).toEqual(['127.0.0.1']);
      expect(git.certificateDaysLeft).toBe(first?.steps.git.certificateDaysLeft);
      // moto answers `Connection: close`: against an endpoint that keeps nothing alive every step connects anew.
      expect(sts.connection).toBe('new');
      expect(sts.phases.tlsMs).toBeGreaterThan(0);
      expect(target.steps.fetch?.ok).toBe(true);
      expect(target.steps.fetch?.phases.tlsMs).toBeGreaterThan(0);
      expect(target.steps.fetch).not.toHaveProperty('connection');
    }
    // The path checks connect and handshake on every run.
    for (const path of [...(first?.steps.sts.paths ?? []), ...(first?.steps.git.paths ?? [])]) {
      expect(path.phases.tlsMs).toBeGreaterThan(0);
    }
    // Every target's result passes the notifier's schema with its connections.
    for (const target of report.targets) expect(() => targetResultSchema.parse(target)).not.toThrow();
  });

  it('leaves no connection open after the sample', async () => {
    // Prepare
    const before = openTlsSockets();
    // Act
    const report = await probeAll(
      ['a', 'b', 'c', 'd'].map((name) => sandbox.target({ name })),
      sandbox.deps,
      { concurrency: 2 },
    );
    // Assess: the server side closes as the client's do.
    expect(report.ok).toBe(true);
    for (let waited = 0; openTlsSockets() > before && waited < 2000; waited += 50) await sleep(50);
    expect(openTlsSockets()).toBeLessThanOrEqual(before);
  });
});
