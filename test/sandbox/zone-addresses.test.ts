import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOW_ANSWER_MS } from '../../lib/sandbox/fault-switch.ts';
import { type Sandbox, startSandbox } from '../../lib/sandbox/sandbox.ts';
import { checkPaths } from '../../lib/steps/paths.ts';

/**
 * The demo sandbox's git name: three loopback addresses, one per AZ, each passing TCP to the CodeCommit stand-in
 * as its switch says (lib/sandbox/zone-addresses.ts), seen through the probe's own path checks.
 */

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ deadlineMs: 1000 });
});
afterAll(() => sandbox?.stop());

const check = () =>
  checkPaths(sandbox.endpoints.git, { kind: 'git', repository: 'test_repo' }, undefined, sandbox.deps, {
    deadlineMs: 2000,
  });

describe('one endpoint name, an address per Availability Zone', () => {
  it('answers from every address, each labelled with its zone; the stand-in sees each path check', async () => {
    const before = sandbox.git.log.length;
    const { paths } = await check();
    expect(paths.map((p) => [p.address, p.zone, p.ok])).toEqual(
      sandbox.gitAddresses.map(({ address, zone }) => [address, zone, true]),
    );
    // Without credentials: CodeCommit's 401, once per address.
    expect(sandbox.git.log.slice(before).map((e) => e.status)).toEqual(paths.map(() => 401));
  });

  it('its switch breaks one address only: deny resets, hang stays silent, slow answers late', async () => {
    const dead = sandbox.faults['git-1d'];
    try {
      dead.fault = 'deny';
      const denied = await check();
      dead.fault = 'hang';
      const silent = await check();
      dead.fault = 'slow';
      const slow = await check();

      const third = (result: Awaited<ReturnType<typeof check>>) => result.paths.find((p) => p.address === '127.0.0.3');
      expect(denied.paths.filter((p) => !p.ok).map((p) => p.address)).toEqual(['127.0.0.3']);
      expect(third(denied)?.failure).toMatchObject({ kind: 'reset' });
      expect(third(silent)?.failure).toMatchObject({ kind: 'timeout', phase: 'tls' });
      expect(silent.paths.filter((p) => p.ok)).toHaveLength(2);
      expect(third(slow)).toMatchObject({ ok: true, zone: 'ap-northeast-1d' });
      expect(third(slow)?.phases.tlsMs).toBeGreaterThanOrEqual(SLOW_ANSWER_MS - 50);
    } finally {
      dead.fault = 'none';
    }
  });
});
