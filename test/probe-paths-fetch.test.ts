/**
 * The probe as it runs (probeTarget/probeAll) with the path checks, the fetch and the ref assertions on, against
 * the real parts: moto's STS, `git http-backend` behind CodeCommit's password check, real `git fetch` through the
 * AWS CLI helper as the oracle, and lib/sandbox's DNS answering several addresses for one name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitFetchShallow } from '../harness/oracle.ts';
import { createLargeRepo } from '../harness/repos.ts';
import { REGION, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import type { ResolvedTarget } from '../lib/config/config.ts';
import { resultRecordSchema } from '../lib/metrics/record-schema.ts';
import { zoneLabeller } from '../lib/net/zones.ts';
import { type ProbeDeps, probeAll, probeTarget } from '../lib/run/probe.ts';
import { type AddressSet, addressSet } from '../lib/sandbox/address-set.ts';
import { type StallingProxy, stallingProxy } from '../lib/sandbox/fault-servers.ts';
import { stsStep } from '../lib/steps/sts.ts';
import { RESULT_RECORD_TYPE, type TargetResult } from '../lib/types.ts';

const ZONES = { '127.0.0.1/32': 'canary-1a', '127.0.0.2/32': 'canary-1b', '127.0.0.3/32': 'canary-1c' };
const PATH_DEADLINE_MS = 1500;
const LARGE_BYTES = 2 * 1024 * 1024;
const STALL_AFTER_BYTES = 64 * 1024;
const FETCH = { maxBytes: 8 * 1024 * 1024, timeoutMs: 15_000 };

let sandbox: Sandbox;
let deps: ProbeDeps;
let beside: AddressSet;
let proxy: StallingProxy;
/** The git endpoint under a name answering three addresses: the git server (1a), refused (1b), silent (1c). */
let threeZoneGit: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  createLargeRepo(sandbox.projectRoot, 'large_repo', LARGE_BYTES);
  deps = { ...sandbox.deps, zoneOf: zoneLabeller(ZONES) };
  beside = await addressSet(sandbox.pki, { '127.0.0.2': 'refused', '127.0.0.3': 'silent' }, sandbox.git.port);
  sandbox.dns.set('git-az.canary.test', { a: ['127.0.0.1', '127.0.0.2', '127.0.0.3'] });
  threeZoneGit = `https://git-az.canary.test:${sandbox.git.port}`;
  proxy = await stallingProxy({ host: '127.0.0.1', port: sandbox.git.port }, STALL_AFTER_BYTES);
});
afterAll(async () => {
  await proxy?.stop();
  await beside?.stop();
  await sandbox?.stop();
});

const target = (overrides: Partial<ResolvedTarget>): ResolvedTarget =>
  sandbox.target({ everyAddress: true, ...overrides });

/** The result as the notifier reads it back: through the record schema at its door. */
const throughNotifierDoor = (result: TargetResult) =>
  resultRecordSchema.parse({ type: RESULT_RECORD_TYPE, v: 1, runId: 'run-1', at: new Date().toISOString(), result })
    .result;

describe('every address of each endpoint, every run', () => {
  it('one dead address of three: the step is degraded, its failure names that address and zone; the others pass', async () => {
    // Act
    const result = await probeTarget(
      target({ gitEndpoint: threeZoneGit, timeouts: { stsMs: 5000, gitMs: PATH_DEADLINE_MS } }),
      deps,
    );
    // Assess
    const git = result.steps.git;
    expect(result.ok).toBe(false);
    expect(git.degraded).toBe(true);
    // The full ls-remote went to the first address and worked.
    expect(git.addresses).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    expect(git.refs).toBeGreaterThan(0);
    expect(git.failure).toMatchObject({ kind: 'refused', phase: 'connect', address: '127.0.0.2' });
    expect(git.failure?.message).toContain('127.0.0.2 (canary-1b)');
    const byAddress = Object.fromEntries((git.paths ?? []).map((p) => [p.address, p]));
    expect(byAddress['127.0.0.1']).toMatchObject({ zone: 'canary-1a', ok: true, failure: null });
    expect(byAddress['127.0.0.2']).toMatchObject({ zone: 'canary-1b', ok: false, failure: { kind: 'refused' } });
    expect(byAddress['127.0.0.3']).toMatchObject({
      zone: 'canary-1c',
      ok: false,
      failure: { kind: 'timeout', phase: 'tls' },
    });
    // The silent address is cut at the step's deadline, and the healthy one was timed through TLS.
    expect(byAddress['127.0.0.3']?.durationMs).toBeLessThan(PATH_DEADLINE_MS + 1000);
    expect(byAddress['127.0.0.1']?.phases.tlsMs).toBeGreaterThan(0);
    // STS's one address answered a request without credentials.
    expect(result.steps.sts).toMatchObject({ ok: true, degraded: false });
    expect(result.steps.sts.paths).toHaveLength(1);
    expect(result.steps.sts.paths?.[0]).toMatchObject({ address: '127.0.0.1', ok: true });
    // What the notifier accepts is what the probe wrote.
    expect(throughNotifierDoor(result)).toEqual(result);
  });

  it('all addresses answering: ok, not degraded, one path per address', async () => {
    // Act
    const result = await probeTarget(target({}), deps);
    // Assess
    expect(result.ok).toBe(true);
    expect(result.steps.git).toMatchObject({ ok: true, degraded: false, failure: null });
    expect(result.steps.git.paths?.map((p) => [p.address, p.zone, p.ok])).toEqual([['127.0.0.1', 'canary-1a', true]]);
  });

  it('100 targets on one endpoint pair cost one set of path checks: one request without credentials', async () => {
    // Prepare
    const targets = Array.from({ length: 100 }, (_, i) => target({ name: `t${i}` }));
    const before = sandbox.git.log.length;
    // Act
    const report = await probeAll(targets, deps, { concurrency: 16 });
    // Assess
    const requests = sandbox.git.log.slice(before);
    expect(report.targets.every((t) => t.ok)).toBe(true);
    expect(requests.filter((r) => r.accessKeyId === undefined)).toHaveLength(1);
    expect(requests.filter((r) => r.accessKeyId !== undefined)).toHaveLength(100);
    // Every target reports the shared checks.
    expect(new Set(report.targets.map((t) => t.steps.git.paths?.[0]?.durationMs)).size).toBe(1);
  });

  it('probe.everyAddress off: no path is checked and the step carries no paths', async () => {
    // Prepare
    const before = sandbox.git.log.length;
    // Act
    const result = await probeTarget(target({ everyAddress: false, gitEndpoint: threeZoneGit }), deps);
    // Assess
    expect(result.ok).toBe(true);
    expect(result.steps.git.paths).toBeUndefined();
    expect(result.steps.git.degraded).toBeUndefined();
    expect(sandbox.git.log.slice(before).every((r) => r.accessKeyId !== undefined)).toBe(true);
  });
});

describe('the fetch step in the probe', () => {
  it('fetches HEAD after ls-remote: the commit and tree real git fetch --depth 1 gets', async () => {
    // Act
    const result = await probeTarget(target({ repository: 'large_repo', fetch: FETCH }), deps);
    const sts = await stsStep(sandbox.target(), await sandbox.deps.sourceCredentials(), sandbox.deps);
    if (!sts.credentials) throw new Error(`AssumeRole through moto failed: ${sts.result.failure?.message}`);
    const oracle = await gitFetchShallow({
      url: `${sandbox.git.url}/v1/repos/large_repo`,
      credentials: sts.credentials,
      caFile: sandbox.pki.caFile,
      region: REGION,
    });
    // Assess
    const fetch = result.steps.fetch;
    expect(result.ok).toBe(true);
    expect(fetch).toMatchObject({ ok: true, failure: null, commit: result.steps.git.headSha });
    expect({ commit: fetch?.commit, tree: fetch?.tree }).toEqual({ commit: oracle.commit, tree: oracle.tree });
    expect(fetch?.packBytes).toBeGreaterThan(LARGE_BYTES);
    expect(fetch?.throughputBytesPerSec).toBeGreaterThan(0);
    expect(throughNotifierDoor(result)).toEqual(result);
  });

  it('refs reachable, pack stalled: ls-remote ok, the fetch times out in body with the bytes that arrived', async () => {
    // Act
    const result = await probeTarget(
      target({
        repository: 'large_repo',
        gitEndpoint: `https://git.canary.test:${proxy.port}`,
        everyAddress: false,
        fetch: { maxBytes: FETCH.maxBytes, timeoutMs: 2000 },
      }),
      deps,
    );
    // Assess
    const fetch = result.steps.fetch;
    expect(result.steps.git.ok).toBe(true);
    expect(result.ok).toBe(false);
    expect(fetch?.failure).toMatchObject({ kind: 'timeout', phase: 'body' });
    // TLS records and headers come out of the 64 KiB the proxy passed: what arrived is a little under it.
    expect(fetch?.bytesBeforeStall).toBeGreaterThan(STALL_AFTER_BYTES / 2);
    expect(fetch?.bytesBeforeStall).toBeLessThanOrEqual(STALL_AFTER_BYTES);
    expect(fetch?.stalledForMs).toBeGreaterThan(0);
    expect(throughNotifierDoor(result)).toEqual(result);
  });

  it('an empty repository: the fetch is skipped with its reason, and the target is ok', async () => {
    // Act
    const result = await probeTarget(target({ repository: 'empty_repo', fetch: FETCH }), deps);
    // Assess
    expect(result.ok).toBe(true);
    expect(result.steps.fetch).toMatchObject({ ok: false, skipped: true, failure: null });
    expect(result.steps.fetch?.skipReason).toMatch(/empty repository/);
    expect(throughNotifierDoor(result)).toEqual(result);
  });

  it('sts failed: git and the fetch are skipped, the fetch saying why', async () => {
    // Act
    const result = await probeTarget(
      target({ fetch: FETCH, stsEndpoint: threeZoneGit, timeouts: { stsMs: 1000, gitMs: 10_000 } }),
      deps,
    );
    // Assess
    expect(result.ok).toBe(false);
    expect(result.steps.git.skipped).toBe(true);
    expect(result.steps.fetch).toMatchObject({ skipped: true, skipReason: 'sts failed' });
  });
});

describe('ref assertions in the probe', () => {
  it('a missing ref and another HEAD fail step expect with kind assertion; the path steps stay ok', async () => {
    // Act (test_repo: main, develop, tags; HEAD → develop)
    const result = await probeTarget(
      target({ expect: { refs: ['refs/heads/main', 'refs/heads/release'], head: 'refs/heads/main' } }),
      deps,
    );
    // Assess
    const expectStep = result.steps.expect;
    expect(result.ok).toBe(false);
    expect(result.steps.sts.ok && result.steps.git.ok).toBe(true);
    expect(expectStep?.failure).toMatchObject({ kind: 'assertion', phase: 'body' });
    expect(expectStep?.failure?.message).toContain('refs/heads/release');
    expect(expectStep?.failure?.message).toContain('HEAD points at refs/heads/develop, expected refs/heads/main');
    expect(expectStep?.expectations.map((e) => [e.check, e.expected, e.ok])).toEqual([
      ['ref', 'refs/heads/main', true],
      ['ref', 'refs/heads/release', false],
      ['head', 'refs/heads/main', false],
    ]);
    expect(throughNotifierDoor(result)).toEqual(result);
  });

  it("HEAD's age comes from the fetched commit: a commit from 2024 is older than a day", async () => {
    // Act
    const result = await probeTarget(
      target({ fetch: FETCH, expect: { head: 'refs/heads/develop', headMaxAgeMinutes: 1440 } }),
      deps,
    );
    // Assess
    const expectStep = result.steps.expect;
    expect(result.steps.fetch?.committedAt).toBe('2024-01-01T00:00:00.000Z');
    expect(expectStep?.expectations.map((e) => [e.check, e.ok])).toEqual([
      ['head', true],
      ['headAge', false],
    ]);
    expect(expectStep?.failure?.message).toMatch(/^HEAD is \d+ d \d+ h old \([0-9a-f]{7} committed 2024-01-01/);
    expect(result.ok).toBe(false);
  });

  it('assertions that hold: the target is ok', async () => {
    // Act
    const result = await probeTarget(
      target({ expect: { refs: ['refs/heads/main', 'refs/tags/v1.0'], head: 'refs/heads/develop' } }),
      deps,
    );
    // Assess
    expect(result.ok).toBe(true);
    expect(result.steps.expect).toMatchObject({ ok: true, failure: null });
  });
});
