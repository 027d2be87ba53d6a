import { createServer } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { serversResolve } from '../../lib/net/resolve.ts';
import { zoneLabeller } from '../../lib/net/zones.ts';
import { type AddressBehaviour, type AddressSet, addressSet } from '../../lib/sandbox/address-set.ts';
import { type DnsServer, startDnsServer } from '../../lib/sandbox/dns.ts';
import { createPki, type Pki } from '../../lib/sandbox/pki.ts';
import { checkPaths, PathChecks, type PathDeps, pathFailure, summarizePaths } from '../../lib/steps/paths.ts';
import type { PathResult } from '../../lib/types.ts';

const NAME = 'vpce-paths.git-codecommit.canary.test';
const DEADLINE_MS = 1500;
const ZONES = {
  '127.0.0.0/31': 'canary-1a', // 127.0.0.1 (and .0)
  '127.0.0.2/32': 'canary-1b',
  '127.0.0.3/32': 'canary-1c',
  '127.0.0.4/32': 'canary-1d',
  '::1/128': 'canary-1a',
};

/** Whether this machine can listen on ::1 (containers often run without IPv6). */
async function hasIpv6Loopback(): Promise<{ ok: boolean; reason?: string }> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', (error) => resolve({ ok: false, reason: String(error) }));
    server.listen(0, '::1', () => server.close(() => resolve({ ok: true })));
  });
}

let pki: Pki;
let dns: DnsServer;
let deps: PathDeps;
const started: AddressSet[] = [];
let ipv6 = false;

/** Serves NAME on the given addresses, each behaving as told; returns the endpoint URL. */
async function endpointWith(behaviours: Record<string, AddressBehaviour>, name = NAME): Promise<string> {
  const set = await addressSet(pki, behaviours);
  started.push(set);
  const addresses = Object.keys(behaviours);
  dns.set(name, { a: addresses.filter((a) => !a.includes(':')), aaaa: addresses.filter((a) => a.includes(':')) });
  return `https://${name}:${set.port}`;
}

beforeAll(async () => {
  pki = createPki({ names: ['*.canary.test', '*.git-codecommit.canary.test'] });
  dns = await startDnsServer({});
  deps = {
    clock: systemClock,
    resolve: serversResolve([dns.server]),
    tls: { secureContext: createSecureContext({ ca: pki.caPem }) },
    zoneOf: zoneLabeller(ZONES),
  };
  const v6 = await hasIpv6Loopback();
  ipv6 = v6.ok;
  if (!ipv6) console.log(`IPv6 path not checked: cannot listen on ::1 here (${v6.reason}); IPv4 paths only`);
});
afterAll(async () => {
  await Promise.all(started.map((set) => set.stop()));
  await dns?.stop();
});

const byAddress = (paths: readonly PathResult[]) => new Map(paths.map((path) => [path.address, path]));

describe('checkPaths: every address of the name, concurrently, within the deadline', () => {
  it('refused, silent and blackholed addresses among healthy ones: degraded, each named with kind, phase and zone', async () => {
    // Prepare
    const behaviours: Record<string, AddressBehaviour> = {
      '127.0.0.1': 'answer',
      '127.0.0.2': 'refused',
      '127.0.0.3': 'silent',
      '127.0.0.4': 'blackhole',
      ...(ipv6 ? { '::1': 'answer' as const } : {}),
    };
    const endpoint = await endpointWith(behaviours);
    // Act
    const started = performance.now();
    const result = await checkPaths(endpoint, { kind: 'git', repository: 'team-repo' }, undefined, deps, {
      deadlineMs: DEADLINE_MS,
    });
    const wallMs = performance.now() - started;
    // Assess
    expect(result.failure).toBeNull();
    expect(result.endpoint).toBe(endpoint);
    expect(result.paths.map((p) => p.address).sort()).toEqual(Object.keys(behaviours).sort());
    const paths = byAddress(result.paths);
    const healthy = paths.get('127.0.0.1');
    expect(healthy).toMatchObject({ ok: true, zone: 'canary-1a', failure: null });
    expect(healthy?.phases.tlsMs).toBeGreaterThan(0);
    expect(healthy?.phases.firstByteMs).toBeGreaterThan(0);
    expect(paths.get('127.0.0.2')).toMatchObject({
      ok: false,
      zone: 'canary-1b',
      failure: { kind: 'refused', phase: 'connect' },
    });
    const silent = paths.get('127.0.0.3');
    expect(silent).toMatchObject({ ok: false, zone: 'canary-1c', failure: { kind: 'timeout', phase: 'tls' } });
    expect(silent?.failure?.message).toContain('1.5 s deadline');
    expect(paths.get('127.0.0.4')).toMatchObject({
      ok: false,
      zone: 'canary-1d',
      failure: { kind: 'timeout', phase: 'connect' },
    });
    expect(paths.get('127.0.0.4')?.phases.connectMs).toBeGreaterThan(DEADLINE_MS * 0.5);
    // The hang is charged to its phase, and the whole check ended at the step's deadline (lookup included).
    expect(silent?.phases.tlsMs).toBeGreaterThan(DEADLINE_MS * 0.5);
    expect(silent?.durationMs).toBeLessThanOrEqual(DEADLINE_MS + 500);
    expect(wallMs).toBeLessThan(DEADLINE_MS + 1000);
    // One lookup, shared: every path carries the same dns time.
    expect(new Set(result.paths.map((p) => p.phases.dnsMs)).size).toBe(1);
    if (ipv6) expect(paths.get('::1')).toMatchObject({ ok: true, zone: 'canary-1a', failure: null });

    const summary = summarizePaths(result.paths);
    expect(summary.degraded).toBe(true);
    expect(summary.failed).toBe(3);
    expect(summary.firstFailed?.address).toBe('127.0.0.2');
    const failure = pathFailure(summary.firstFailed as PathResult);
    expect(failure).toMatchObject({ kind: 'refused', phase: 'connect', address: '127.0.0.2' });
    expect(failure.message).toMatch(/^path to 127\.0\.0\.2 \(canary-1b\): connection refused/);
  });

  it('every address answering: not degraded, nothing failed; STS is answered without a signature too', async () => {
    const endpoint = await endpointWith({ '127.0.0.1': 'answer', '127.0.0.2': 'answer' }, 'sts-paths.canary.test');
    const result = await checkPaths(endpoint, { kind: 'sts' }, undefined, deps, { deadlineMs: DEADLINE_MS });
    expect(result.paths).toHaveLength(2);
    expect(result.paths.every((p) => p.ok && p.failure === null)).toBe(true);
    expect(summarizePaths(result.paths)).toEqual({ degraded: false, failed: 0, firstFailed: null });
  });

  it('every address dead: failed, but not degraded (the endpoint is down, not one AZ)', async () => {
    const endpoint = await endpointWith({ '127.0.0.2': 'refused', '127.0.0.3': 'refused' }, 'down-paths.canary.test');
    const result = await checkPaths(endpoint, { kind: 'sts' }, undefined, deps, { deadlineMs: DEADLINE_MS });
    expect(result.paths.map((p) => p.failure?.kind)).toEqual(['refused', 'refused']);
    expect(summarizePaths(result.paths)).toMatchObject({ degraded: false, failed: 2 });
  });

  it('TLS is verified against the name: a certificate for another name fails every path as tls', async () => {
    const other = createPki({ names: ['elsewhere.example'] });
    const set = await addressSet(other, { '127.0.0.1': 'answer' });
    started.push(set);
    dns.set('mismatch.canary.test', { a: ['127.0.0.1'] });
    const result = await checkPaths(
      `https://mismatch.canary.test:${set.port}`,
      { kind: 'sts' },
      undefined,
      { ...deps, tls: { secureContext: createSecureContext({ ca: [pki.caPem, other.caPem] }) } },
      { deadlineMs: DEADLINE_MS },
    );
    expect(result.paths[0]?.failure).toMatchObject({ kind: 'tls', phase: 'tls' });
  });

  it('a name that does not resolve: no path checked, the lookup failure reported once', async () => {
    const result = await checkPaths('https://nowhere.canary.test', { kind: 'sts' }, undefined, deps, {
      deadlineMs: DEADLINE_MS,
    });
    expect(result.paths).toEqual([]);
    expect(result.failure).toMatchObject({ kind: 'dns', phase: 'dns' });
  });

  it('no address to check (an empty answer): no path checked, a dns failure', async () => {
    const result = await checkPaths('https://empty.canary.test', { kind: 'sts' }, [], deps, { deadlineMs: 500 });
    expect(result).toMatchObject({ paths: [], failure: { kind: 'dns', phase: 'dns' } });
  });

  it('addresses given by the caller are checked without a lookup, zone null without a zone map', async () => {
    const endpoint = await endpointWith({ '127.0.0.1': 'answer' }, 'given-paths.canary.test');
    const asked = dns.queries.length;
    const result = await checkPaths(
      endpoint,
      { kind: 'git', repository: 'r' },
      ['127.0.0.1'],
      { ...deps, zoneOf: undefined },
      { deadlineMs: DEADLINE_MS },
    );
    expect(dns.queries.length).toBe(asked);
    expect(result.paths).toMatchObject([{ address: '127.0.0.1', ok: true, zone: null }]);
    expect(result.paths[0]?.phases.dnsMs).toBe(0);
  });
});

describe('PathChecks: once per endpoint name and request kind per run', () => {
  it('200 targets on one endpoint pair share one set of checks', async () => {
    // Prepare
    const git = await endpointWith({ '127.0.0.1': 'answer', '127.0.0.2': 'answer' }, 'shared-git.canary.test');
    const sts = await endpointWith({ '127.0.0.1': 'answer' }, 'shared-sts.canary.test');
    const checks = new PathChecks(deps);
    const asked = dns.queries.length;
    // Act: every target asks for both endpoints' checks, as the steps would.
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        Promise.all([
          checks.check(git, { kind: 'git', repository: `repo-${i}` }, { deadlineMs: DEADLINE_MS }),
          checks.check(sts, { kind: 'sts' }, { deadlineMs: DEADLINE_MS }),
        ]),
      ),
    );
    // Assess
    expect(checks.started).toBe(2);
    expect(new Set(answers.map(([g]) => g)).size).toBe(1);
    expect(new Set(answers.map(([, s]) => s)).size).toBe(1);
    expect(answers[0]?.[0].paths).toHaveLength(2);
    expect(answers[0]?.[0].paths.every((p) => p.ok)).toBe(true);
    // One lookup per name (A and AAAA), not one per target.
    const lookups = dns.queries.slice(asked);
    expect(lookups.filter((q) => q === 'shared-git.canary.test')).toHaveLength(2);
    expect(lookups.filter((q) => q === 'shared-sts.canary.test')).toHaveLength(2);
  });
});

describe('zoneLabeller', () => {
  it('labels IPv4 and IPv6 addresses by the most specific subnet, null outside them', () => {
    const zoneOf = zoneLabeller({
      '10.0.0.0/16': 'wide',
      '10.0.1.0/24': 'ap-northeast-1a',
      '2600:1f18:0:2::/64': 'ap-northeast-1c',
    });
    expect(zoneOf('10.0.1.20')).toBe('ap-northeast-1a');
    expect(zoneOf('10.0.9.20')).toBe('wide');
    expect(zoneOf('2600:1f18:0:2::10')).toBe('ap-northeast-1c');
    expect(zoneOf('10.1.0.1')).toBeNull();
    expect(zoneOf('not-an-ip')).toBeNull();
    expect(zoneLabeller(undefined)('10.0.1.20')).toBeNull();
  });

  it('a malformed CIDR is bad config, named', () => {
    expect(() => zoneLabeller({ '10.0.1.0': 'a' })).toThrow('network.zones: "10.0.1.0" is not a CIDR block');
    expect(() => zoneLabeller({ '10.0.1.0/33': 'a' })).toThrow('network.zones');
    expect(() => zoneLabeller({ 'subnet-1/24': 'a' })).toThrow('network.zones');
  });
});
