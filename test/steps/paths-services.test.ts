import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox.ts';
import { addressSet } from '../../lib/sandbox/address-set.ts';
import { checkPaths, summarizePaths } from '../../lib/steps/paths.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

describe('path checks against the real services, without credentials', () => {
  it('the CodeCommit server answers the unauthenticated info/refs (401): the path is proven, nothing signed', async () => {
    // Prepare
    const logged = sandbox.git.log.length;
    // Act
    const result = await checkPaths(
      sandbox.gitEndpoint,
      { kind: 'git', repository: 'test_repo' },
      undefined,
      sandbox.deps,
      { deadlineMs: 5000 },
    );
    // Assess
    expect(result.failure).toBeNull();
    expect(result.paths).toMatchObject([{ address: '127.0.0.1', ok: true, zone: null, failure: null }]);
    expect(result.paths[0]?.phases.dnsMs).toBeGreaterThan(0);
    expect(result.paths[0]?.phases.tlsMs).toBeGreaterThan(0);
    const entries = sandbox.git.log.slice(logged);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ method: 'GET', path: '/v1/repos/test_repo/info/refs', status: 401 });
    expect(entries[0]?.accessKeyId).toBeUndefined();
  });

  it("moto's STS answers the unsigned call: the path is proven", async () => {
    const result = await checkPaths(sandbox.stsEndpoint, { kind: 'sts' }, undefined, sandbox.deps, {
      deadlineMs: 5000,
    });
    expect(result.failure).toBeNull();
    expect(result.paths).toMatchObject([{ address: '127.0.0.1', ok: true, failure: null }]);
    expect(result.paths[0]?.phases.firstByteMs).toBeGreaterThan(0);
  });

  it("an address beside the CodeCommit server on its port, silent: degraded, the server's own path ok", async () => {
    // Prepare: the name answers with the server's address and one that accepts TCP and never answers.
    const beside = await addressSet(sandbox.pki, { '127.0.0.2': 'silent' }, sandbox.git.port);
    sandbox.dns.set('git-two-zones.canary.test', { a: ['127.0.0.1', '127.0.0.2'] });
    try {
      // Act
      const result = await checkPaths(
        `https://git-two-zones.canary.test:${sandbox.git.port}`,
        { kind: 'git', repository: 'test_repo' },
        undefined,
        sandbox.deps,
        { deadlineMs: 1500 },
      );
      // Assess
      expect(result.paths).toMatchObject([
        { address: '127.0.0.1', ok: true },
        { address: '127.0.0.2', ok: false, failure: { kind: 'timeout', phase: 'tls' } },
      ]);
      expect(summarizePaths(result.paths)).toMatchObject({ degraded: true, failed: 1 });
    } finally {
      await beside.stop();
    }
  });
});
