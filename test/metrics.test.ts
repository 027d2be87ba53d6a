import { describe, expect, it } from 'vitest';
import {
  customMetricCount,
  type Datapoint,
  DEFAULT_TARGET_SHAPE,
  datapointProblems,
  datapointsFor,
  diagnosisDatapoints,
  heartbeat,
  METRIC_CATALOGUE,
  type MetricUnit,
  notifierDatapoints,
} from '../lib/metrics/catalogue.ts';
import type {
  ExpectStepResult,
  Failure,
  FetchStepResult,
  GitStepResult,
  PathResult,
  Phases,
  StsStepResult,
  TargetResult,
} from '../lib/types.ts';
import { targetVerdict, zeroPhases } from '../lib/types.ts';

const AT = new Date('2025-03-01T12:00:00.000Z');

const PHASES: Phases = { dnsMs: 1.5, connectMs: 2, tlsMs: 12.25, firstByteMs: 40, transferMs: 3 };

const baseStep = {
  ok: true,
  endpoint: 'https://sts.us-east-1.amazonaws.com',
  addresses: ['10.0.1.12'],
  private: true,
  deadlineMs: 5000,
  failure: null,
};

function stsStep(overrides: Partial<StsStepResult> = {}): StsStepResult {
  return { ...baseStep, durationMs: 58.75, phases: PHASES, accountId: '111122223333', ...overrides };
}

function gitStep(overrides: Partial<GitStepResult> = {}): GitStepResult {
  return {
    ...baseStep,
    endpoint: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo',
    durationMs: 120,
    phases: { dnsMs: 0.5, connectMs: 1, tlsMs: 9, firstByteMs: 100, transferMs: 9.5 },
    refs: 3,
    head: 'refs/heads/main',
    headSha: 'a'.repeat(40),
    ...overrides,
  };
}

function target(name: string, steps: Partial<TargetResult['steps']> = {}): TargetResult {
  const sts = steps.sts ?? stsStep();
  const git = steps.git ?? gitStep();
  const optional = {
    ...(steps.fetch ? { fetch: steps.fetch } : {}),
    ...(steps.expect ? { expect: steps.expect } : {}),
  };
  return {
    name,
    ok: targetVerdict({ sts, git, ...optional }),
    repository: 'team-repo',
    region: 'us-east-1',
    roleArn: 'arn:aws:iam::111122223333:role/canary',
    steps: { sts, git, ...optional },
  };
}

/** One address of an endpoint, checked on its own. */
function path(address: string, zone: string | null, failure: Failure | null = null): PathResult {
  return { address, zone, ok: failure === null, durationMs: 14, phases: PHASES, failure };
}

function fetchStep(overrides: Partial<FetchStepResult> = {}): FetchStepResult {
  return {
    ...baseStep,
    endpoint: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo',
    durationMs: 900,
    deadlineMs: 15_000,
    phases: { dnsMs: 0.5, connectMs: 1, tlsMs: 9, firstByteMs: 300, transferMs: 589.5 },
    commit: 'a'.repeat(40),
    tree: 'b'.repeat(40),
    committedAt: '2025-03-01T11:00:00.000Z',
    objects: 120,
    packBytes: 3_145_728,
    throughputBytesPerSec: 5_340_000,
    bytesBeforeStall: null,
    stalledForMs: null,
    ...overrides,
  };
}

/** The fetch that stalled: the refs came, the pack stopped after 65,536 bytes until the 15 s deadline. */
const stalledFetch = (): FetchStepResult =>
  fetchStep({
    ok: false,
    durationMs: 15_000,
    failure: failure('timeout', 'body'),
    commit: null,
    tree: null,
    committedAt: null,
    objects: 0,
    packBytes: 61_440,
    throughputBytesPerSec: null,
    bytesBeforeStall: 65_536,
    stalledForMs: 14_200,
  });

function expectStep(expectations: ExpectStepResult['expectations']): ExpectStepResult {
  const failed = expectations.filter((e) => !e.ok);
  return {
    ...baseStep,
    endpoint: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo',
    durationMs: 0,
    deadlineMs: 0,
    phases: zeroPhases(),
    ok: failed.length === 0,
    failure: failed.length === 0 ? null : { kind: 'assertion', phase: 'body', message: 'HEAD points at elsewhere' },
    expectations,
  };
}

const THREE_ZONES = [
  path('10.0.1.12', 'ap-northeast-1a'),
  path('10.0.2.12', 'ap-northeast-1c'),
  path('10.0.3.12', 'ap-northeast-1d'),
];

const failure = (kind: Failure['kind'], phase: Failure['phase']): Failure => ({ kind, phase, message: `${kind}` });

/** A datapoint at AT (standard resolution), as the tests expect one. */
const datapoint = (name: string, unit: MetricUnit, value: number, dimensions: Record<string, string>): Datapoint => ({
  name,
  unit,
  value,
  dimensions,
  timestamp: AT,
});

/** `name Step=value` → value, for compact assertions. */
const byKey = (points: Datapoint[]): Record<string, number> =>
  Object.fromEntries(points.map((p) => [`${p.name} ${p.dimensions.Step ?? p.dimensions.Stack}`, p.value]));

describe('datapointsFor at the basic level', () => {
  it('emits Success and Duration per step under exactly { Target, Step }', () => {
    // Prepare
    const result = target('team-repo');

    // Act
    const points = datapointsFor(result, { detail: 'basic' }, AT);

    // Assess
    expect(points).toEqual([
      datapoint('Success', 'Count', 1, { Target: 'team-repo', Step: 'sts' }),
      datapoint('Duration', 'Milliseconds', 58.75, { Target: 'team-repo', Step: 'sts' }),
      datapoint('Success', 'Count', 1, { Target: 'team-repo', Step: 'git' }),
      datapoint('Duration', 'Milliseconds', 120, { Target: 'team-repo', Step: 'git' }),
    ]);
    for (const point of points) expect(Object.keys(point.dimensions)).toEqual(['Target', 'Step']);
    for (const point of points) expect(point).not.toHaveProperty('storageResolution');
  });

  it('defaults to the basic level', () => {
    expect(datapointsFor(target('a'), {}, AT)).toEqual(datapointsFor(target('a'), { detail: 'basic' }, AT));
  });

  it('reports a failed step as Success 0 with its Duration', () => {
    const result = target('team-repo', {
      git: gitStep({ ok: false, durationMs: 5000, failure: failure('timeout', 'tls'), refs: 0, head: null }),
    });

    expect(byKey(datapointsFor(result, { detail: 'basic' }, AT))).toEqual({
      'Success sts': 1,
      'Duration sts': 58.75,
      'Success git': 0,
      'Duration git': 5000,
    });
  });

  it('counts a skipped git step (sts failed) as Success 0 without Duration', () => {
    const result = target('team-repo', {
      sts: stsStep({ ok: false, durationMs: 31, failure: failure('auth', 'response') }),
      git: gitStep({ ok: false, skipped: true, durationMs: 0, phases: zeroPhases(), refs: 0, head: null }),
    });

    const points = datapointsFor(result, { detail: 'basic' }, AT);

    expect(byKey(points)).toEqual({ 'Success sts': 0, 'Duration sts': 31, 'Success git': 0 });
    expect(points.filter((p) => p.dimensions.Step === 'git')).toHaveLength(1);
  });
});

describe('datapointsFor at the phases level', () => {
  it('adds the five phase times and Timeout per step', () => {
    const points = datapointsFor(target('team-repo'), { detail: 'phases' }, AT);

    expect(points).toHaveLength(16);
    expect(byKey(points)).toEqual({
      'Success sts': 1,
      'Duration sts': 58.75,
      'DnsTime sts': 1.5,
      'ConnectTime sts': 2,
      'TlsTime sts': 12.25,
      'FirstByteTime sts': 40,
      'TransferTime sts': 3,
      'Timeout sts': 0,
      'Success git': 1,
      'Duration git': 120,
      'DnsTime git': 0.5,
      'ConnectTime git': 1,
      'TlsTime git': 9,
      'FirstByteTime git': 100,
      'TransferTime git': 9.5,
      'Timeout git': 0,
    });
    const phaseNames = ['DnsTime', 'ConnectTime', 'TlsTime', 'FirstByteTime', 'TransferTime'];
    for (const p of points.filter((p) => phaseNames.includes(p.name))) expect(p.unit).toBe('Milliseconds');
    expect(points.filter((p) => p.name === 'Timeout').map((p) => p.unit)).toEqual(['Count', 'Count']);
  });

  it('sets Timeout 1 only for a step that ended at its deadline', () => {
    const timedOut = target('a', {
      sts: stsStep({ ok: false, durationMs: 5000, failure: failure('timeout', 'connect') }),
      git: gitStep({ ok: false, skipped: true, durationMs: 0, phases: zeroPhases() }),
    });
    const refused = target('b', { git: gitStep({ ok: false, failure: failure('refused', 'connect') }) });

    expect(byKey(datapointsFor(timedOut, { detail: 'phases' }, AT))['Timeout sts']).toBe(1);
    expect(byKey(datapointsFor(refused, { detail: 'phases' }, AT))['Timeout git']).toBe(0);
  });

  it('emits nothing but Success 0 for a skipped step', () => {
    const result = target('team-repo', {
      sts: stsStep({ ok: false, failure: failure('dns', 'dns') }),
      git: gitStep({ ok: false, skipped: true, durationMs: 0, phases: zeroPhases() }),
    });

    const git = datapointsFor(result, { detail: 'phases' }, AT).filter((p) => p.dimensions.Step === 'git');

    expect(git).toEqual([datapoint('Success', 'Count', 0, { Target: 'team-repo', Step: 'git' })]);
  });

  it('emits every phase, 0 when it never happened', () => {
    const result = target('a', {
      sts: stsStep({ ok: false, phases: { ...zeroPhases(), dnsMs: 4 }, failure: failure('refused', 'connect') }),
    });

    const sts = byKey(datapointsFor(result, { detail: 'phases' }, AT).filter((p) => p.dimensions.Step === 'sts'));

    expect(sts).toMatchObject({ 'DnsTime sts': 4, 'ConnectTime sts': 0, 'TlsTime sts': 0, 'TransferTime sts': 0 });
  });
});

describe('storage resolution', () => {
  it('marks every datapoint high resolution when asked', () => {
    const points = [
      ...datapointsFor(target('a'), { detail: 'phases', storageResolution: 1 }, AT),
      heartbeat('stack', AT, { storageResolution: 1 }),
    ];

    expect(points.map((p) => p.storageResolution)).toEqual(points.map(() => 1));
  });
});

describe('heartbeat', () => {
  it('is 1 per run under { Stack }', () => {
    expect(heartbeat('codecommit-canary-prod', AT)).toEqual(
      datapoint('Heartbeat', 'Count', 1, { Stack: 'codecommit-canary-prod' }),
    );
  });
});

describe('datapointsFor with path checks', () => {
  it('counts the failed paths per step and says which zone (or address) failed', () => {
    // Prepare: one AZ of the git endpoint refuses; one sts address is in no configured subnet.
    const refused = failure('refused', 'connect');
    const result = target('team-repo', {
      sts: stsStep({ paths: [path('10.0.1.12', 'ap-northeast-1a'), path('192.168.7.4', null)], degraded: false }),
      git: gitStep({
        ok: false,
        failure: { ...refused, address: '10.0.3.15' },
        paths: [path('10.0.1.15', 'ap-northeast-1a'), path('10.0.3.15', 'ap-northeast-1d', refused)],
        degraded: true,
      }),
    });

    // Act
    const basic = datapointsFor(result, { detail: 'basic' }, AT);
    const phases = datapointsFor(result, { detail: 'phases' }, AT);

    // Assess
    expect(basic.filter((p) => p.name === 'PathsFailed')).toEqual([
      datapoint('PathsFailed', 'Count', 0, { Target: 'team-repo', Step: 'sts' }),
      datapoint('PathsFailed', 'Count', 1, { Target: 'team-repo', Step: 'git' }),
    ]);
    expect(phases.filter((p) => p.name === 'PathOk')).toEqual(basic.filter((p) => p.name === 'PathOk'));
    expect(basic.filter((p) => p.name === 'PathOk')).toEqual([
      datapoint('PathOk', 'Count', 1, { Target: 'team-repo', Step: 'sts', Zone: 'ap-northeast-1a' }),
      datapoint('PathOk', 'Count', 1, { Target: 'team-repo', Step: 'sts', Address: '192.168.7.4' }),
      datapoint('PathOk', 'Count', 1, { Target: 'team-repo', Step: 'git', Zone: 'ap-northeast-1a' }),
      datapoint('PathOk', 'Count', 0, { Target: 'team-repo', Step: 'git', Zone: 'ap-northeast-1d' }),
    ]);
  });

  it('gives a zone with two addresses (IPv4 and IPv6 of one interface) one PathOk, 0 when either fails', () => {
    const result = target('a', {
      git: gitStep({
        ok: false,
        failure: { ...failure('timeout', 'connect'), address: 'fd00::15' },
        paths: [
          path('10.0.1.15', 'ap-northeast-1a'),
          path('fd00::15', 'ap-northeast-1a', failure('timeout', 'connect')),
        ],
        degraded: true,
      }),
    });

    const pathOk = datapointsFor(result, { detail: 'phases' }, AT).filter((p) => p.name === 'PathOk');

    expect(pathOk).toEqual([datapoint('PathOk', 'Count', 0, { Target: 'a', Step: 'git', Zone: 'ap-northeast-1a' })]);
  });

  it('reports the paths of a skipped step too: the path needs no credentials', () => {
    const result = target('a', {
      sts: stsStep({ ok: false, failure: failure('auth', 'response'), paths: THREE_ZONES, degraded: false }),
      git: gitStep({ ok: false, skipped: true, durationMs: 0, phases: zeroPhases(), paths: THREE_ZONES }),
    });

    const git = datapointsFor(result, { detail: 'basic' }, AT).filter((p) => p.dimensions.Step === 'git');

    expect(byKey(git)).toMatchObject({ 'Success git': 0, 'PathsFailed git': 0 });
  });

  it('emits no path metric when the checks are off or the name resolved to nothing', () => {
    const result = target('a', { git: gitStep({ ok: false, failure: failure('dns', 'dns'), paths: [] }) });

    const names = datapointsFor(result, { detail: 'phases' }, AT).map((p) => p.name);

    expect(names).not.toContain('PathsFailed');
    expect(names).not.toContain('PathOk');
  });
});

describe('datapointsFor with the fetch and the assertions', () => {
  it("emits the fetch's step metrics, pack size and throughput, and the count of failed assertions", () => {
    const result = target('team-repo', {
      fetch: fetchStep(),
      expect: expectStep([
        { check: 'ref', ok: true, expected: 'refs/heads/main', found: 'a'.repeat(40) },
        { check: 'head', ok: true, expected: 'refs/heads/main', found: 'refs/heads/main' },
      ]),
    });

    const points = datapointsFor(result, { detail: 'basic' }, AT);

    expect(points.slice(4)).toEqual([
      datapoint('Success', 'Count', 1, { Target: 'team-repo', Step: 'fetch' }),
      datapoint('Duration', 'Milliseconds', 900, { Target: 'team-repo', Step: 'fetch' }),
      datapoint('Success', 'Count', 1, { Target: 'team-repo', Step: 'expect' }),
      datapoint('FetchPackBytes', 'Bytes', 3_145_728, { Target: 'team-repo' }),
      datapoint('FetchThroughput', 'Bytes/Second', 5_340_000, { Target: 'team-repo' }),
      datapoint('AssertionFailed', 'Count', 0, { Target: 'team-repo' }),
    ]);
  });

  it('gives a stalled fetch FetchStalledBytes (the bytes before the stall), no pack size or throughput', () => {
    const result = target('team-repo', { fetch: stalledFetch() });

    const points = datapointsFor(result, { detail: 'phases' }, AT).filter((p) => !p.dimensions.Step);

    expect(points).toEqual([datapoint('FetchStalledBytes', 'Bytes', 65_536, { Target: 'team-repo' })]);
    expect(byKey(datapointsFor(result, { detail: 'phases' }, AT))).toMatchObject({
      'Success fetch': 0,
      'Timeout fetch': 1,
    });
  });

  it('counts a fetch skipped for an empty repository as Success 1, one skipped after a failed ls-remote as 0', () => {
    const skipped = (skipReason: string) =>
      fetchStep({ ok: false, skipped: true, durationMs: 0, phases: zeroPhases(), commit: null, skipReason });
    const empty = target('empty', {
      git: gitStep({ refs: 0, head: null, headSha: null }),
      fetch: skipped('empty repository: HEAD does not resolve'),
    });
    // An empty repository behind a broken AZ: ls-remote's own call answered, one path did not.
    const emptyDegraded = target('empty-degraded', {
      git: gitStep({
        ok: false,
        refs: 0,
        head: null,
        headSha: null,
        failure: { ...failure('timeout', 'connect'), address: '10.0.3.12' },
      }),
      fetch: skipped('empty repository: HEAD does not resolve'),
    });
    const lsRemoteFailed = target('down', {
      git: gitStep({ ok: false, failure: failure('timeout', 'tls'), refs: 0, head: null, headSha: null }),
      fetch: skipped('ls-remote failed'),
    });

    const fetchPoints = (result: TargetResult) =>
      datapointsFor(result, { detail: 'phases' }, AT).filter((p) => p.dimensions.Step === 'fetch');

    expect(fetchPoints(empty)).toEqual([datapoint('Success', 'Count', 1, { Target: 'empty', Step: 'fetch' })]);
    expect(fetchPoints(emptyDegraded).map((p) => p.value)).toEqual([1]);
    expect(fetchPoints(lsRemoteFailed)).toEqual([datapoint('Success', 'Count', 0, { Target: 'down', Step: 'fetch' })]);
  });

  it('counts the failed expectations; nothing of the assertions but Success 0 when they were skipped', () => {
    const failing = target('mirror', {
      expect: expectStep([
        { check: 'ref', ok: false, expected: 'refs/heads/release', found: null },
        { check: 'head', ok: true, expected: 'refs/heads/main', found: 'refs/heads/main' },
        { check: 'headAge', ok: false, expected: 'at most 1440 min old', found: '3 d 2 h old' },
      ]),
    });
    const skipped = target('down', {
      git: gitStep({ ok: false, failure: failure('timeout', 'tls') }),
      expect: { ...expectStep([]), ok: false, skipped: true },
    });

    const steps = datapointsFor(failing, { detail: 'phases' }, AT).filter((p) => p.dimensions.Step);
    expect(byKey(steps.filter((p) => p.dimensions.Step !== 'sts'))).toEqual({
      'Success git': 1,
      'Duration git': 120,
      'DnsTime git': 0.5,
      'ConnectTime git': 1,
      'TlsTime git': 9,
      'FirstByteTime git': 100,
      'TransferTime git': 9.5,
      'Timeout git': 0,
      'Success expect': 0,
    });
    expect(datapointsFor(failing, { detail: 'basic' }, AT).filter((p) => p.name === 'AssertionFailed')).toEqual([
      datapoint('AssertionFailed', 'Count', 2, { Target: 'mirror' }),
    ]);
    const skippedPoints = datapointsFor(skipped, { detail: 'basic' }, AT);
    expect(skippedPoints.filter((p) => p.name === 'AssertionFailed')).toEqual([]);
    expect(skippedPoints.filter((p) => p.dimensions.Step === 'expect').map((p) => p.value)).toEqual([0]);
  });
});

/** A target running everything: paths in three zones on both endpoints, the fetch, the assertions. */
const fullTarget = (fetch: FetchStepResult): TargetResult => {
  const withCertificate = target('a', {
    sts: stsStep({ paths: THREE_ZONES, degraded: false }),
    git: gitStep({ paths: THREE_ZONES, degraded: false }),
    fetch,
    expect: expectStep([{ check: 'ref', ok: true, expected: 'refs/heads/main', found: 'a'.repeat(40) }]),
  });
  withCertificate.steps.git.certificateDaysLeft = 40;
  return withCertificate;
};

describe('the catalogue', () => {
  it('describes exactly what datapointsFor, heartbeat, diagnosisDatapoints and notifierDatapoints emit (name, unit, dimension names)', () => {
    const withAddressPath = target('b', { git: gitStep({ paths: [path('192.168.7.4', null)], degraded: false }) });
    const emitted = [
      ...datapointsFor(fullTarget(fetchStep()), { detail: 'phases' }, AT),
      ...datapointsFor(fullTarget(stalledFetch()), { detail: 'phases' }, AT),
      ...datapointsFor(withAddressPath, { detail: 'phases' }, AT),
      heartbeat('s', AT),
      ...diagnosisDatapoints('s', [], [fullTarget(fetchStep())], AT),
      ...notifierDatapoints('s', AT, { owed: 1, rejected: 0 }),
    ];
    const described = new Map(METRIC_CATALOGUE.map((m) => [m.name, m]));

    for (const point of emitted) {
      const definition = described.get(point.name as never);
      expect(definition, point.name).toBeDefined();
      expect(point.unit).toBe(definition?.unit);
      expect([definition?.dimensions, definition?.otherDimensions]).toContainEqual(Object.keys(point.dimensions));
    }
    expect(new Set(emitted.map((p) => p.name))).toEqual(new Set(described.keys()));
    expect(emitted.some((p) => 'Address' in p.dimensions)).toBe(true);
  });

  it('counts the custom metrics a target adds at each level', () => {
    const distinct = (points: Datapoint[]) => new Set(points.map((p) => `${p.name}|${JSON.stringify(p.dimensions)}`));
    const twoZones = THREE_ZONES.slice(0, 2);
    const defaultTarget = target('a', {
      sts: stsStep({ paths: twoZones, degraded: false }),
      git: gitStep({ paths: twoZones, degraded: false }),
    });

    expect(customMetricCount('basic')).toEqual({ perTarget: 10, perStack: 10, perEndpoint: 1 });
    expect(customMetricCount('phases')).toEqual({ perTarget: 22, perStack: 10, perEndpoint: 1 });
    expect(distinct(datapointsFor(defaultTarget, { detail: 'basic' }, AT)).size).toBe(10);
    expect(distinct(datapointsFor(defaultTarget, { detail: 'phases' }, AT)).size).toBe(22);
    const withoutPaths = { ...DEFAULT_TARGET_SHAPE, everyAddress: false };
    expect(customMetricCount('basic', withoutPaths).perTarget).toBe(4);
    expect(distinct(datapointsFor(target('a'), { detail: 'phases' }, AT)).size).toBe(
      customMetricCount('phases', withoutPaths).perTarget,
    );
  });

  it('counts every metric of a target running everything, the ones of a stalled fetch included', () => {
    const distinct = (points: Datapoint[]) => new Set(points.map((p) => `${p.name}|${JSON.stringify(p.dimensions)}`));
    const everything = { everyAddress: true, zones: 3, fetch: true, expect: true };

    for (const detail of ['basic', 'phases'] as const) {
      // A month of one target sees good fetches and stalled ones: the union of what both emit.
      const points = [
        ...datapointsFor(fullTarget(fetchStep()), { detail }, AT),
        ...datapointsFor(fullTarget(stalledFetch()), { detail }, AT),
      ];
      expect(distinct(points).size, detail).toBe(customMetricCount(detail, everything).perTarget);
    }
    expect(customMetricCount('basic', everything).perTarget).toBe(19);
    expect(customMetricCount('phases', everything).perTarget).toBe(37);
  });
});

describe('datapointProblems', () => {
  const good = datapoint('CertDaysLeft', 'Count', 42, { Endpoint: 'sts' });

  it('finds nothing wrong with catalogue datapoints or a well-formed extra metric', () => {
    const points = [...datapointsFor(target('a'), { detail: 'phases' }, AT), heartbeat('s', AT), good];

    expect(points.flatMap(datapointProblems)).toEqual([]);
  });

  it.each([
    ['a NaN value', { value: Number.NaN }, 'CertDaysLeft: value NaN is not a finite number'],
    ['an infinite value', { value: Number.POSITIVE_INFINITY }, 'CertDaysLeft: value Infinity is not a finite number'],
    ['an unknown unit', { unit: 'Days' as never }, 'CertDaysLeft: unit "Days" is not one of Seconds,'],
    ['an invalid timestamp', { timestamp: new Date(Number.NaN) }, 'CertDaysLeft: timestamp is not a valid Date'],
    [
      'a storage resolution of 5',
      { storageResolution: 5 as never },
      'CertDaysLeft: storageResolution 5 is not 1 or 60',
    ],
    ['an empty name', { name: ' ' }, '(no name): name must be 1-255 characters'],
    ['an empty dimension value', { dimensions: { Endpoint: '' } }, 'CertDaysLeft: dimension Endpoint value must be'],
    ['a dimension named like the metric', { dimensions: { CertDaysLeft: 'x' } }, 'collides with the metric name'],
    [
      '31 dimensions',
      { dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'v'])) },
      'CertDaysLeft: 31 dimensions, at most 30 allowed',
    ],
  ])('reports %s', (_label, change, message) => {
    const problems = datapointProblems({ ...good, ...change } as Datapoint);

    expect(problems.join('\n')).toContain(message);
  });
});
