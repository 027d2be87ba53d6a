import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../harness/sandbox.ts';
import { checkPaths } from '../../lib/steps/paths.ts';

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
});
