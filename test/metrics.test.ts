import { describe, expect, it } from 'vitest';
import {
  customMetricCount,
  type Datapoint,
  datapointProblems,
  datapointsFor,
  diagnosisDatapoints,
  heartbeat,
  METRIC_CATALOGUE,
  type MetricUnit,
  notifierDatapoints,
} from '../lib/metrics/catalogue.ts';
import type { Failure, GitStepResult, Phases, StsStepResult, TargetResult } from '../lib/types.ts';
import { zeroPhases } from '../lib/types.ts';

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
  return {
    name,
    ok: sts.ok && git.ok,
    repository: 'team-repo',
    region: 'us-east-1',
    roleArn: 'arn:aws:iam::111122223333:role/canary',
    steps: { sts, git },
  };
}

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

describe('the catalogue', () => {
  it('describes exactly what datapointsFor, heartbeat, diagnosisDatapoints and notifierDatapoints emit (name, unit, dimension names)', () => {
    const withCertificate = target('a');
    withCertificate.steps.git.certificateDaysLeft = 40;
    const emitted = [
      ...datapointsFor(withCertificate, { detail: 'phases' }, AT),
      heartbeat('s', AT),
      ...diagnosisDatapoints('s', [], [withCertificate], AT),
      ...notifierDatapoints('s', AT, { owed: 1, rejected: 0 }),
    ];
    const described = new Map(METRIC_CATALOGUE.map((m) => [m.name, m]));

    for (const point of emitted) {
      const definition = described.get(point.name as never);
      expect(definition, point.name).toBeDefined();
      expect(point.unit).toBe(definition?.unit);
      expect(Object.keys(point.dimensions)).toEqual(definition?.dimensions);
    }
    expect(new Set(emitted.map((p) => p.name))).toEqual(new Set(described.keys()));
  });

  it('counts the custom metrics a target adds at each level', () => {
    const distinct = (points: Datapoint[]) => new Set(points.map((p) => `${p.name}|${JSON.stringify(p.dimensions)}`));

    expect(customMetricCount('basic')).toEqual({ perTarget: 4, perStack: 10, perEndpoint: 1 });
    expect(customMetricCount('phases')).toEqual({ perTarget: 16, perStack: 10, perEndpoint: 1 });
    expect(distinct(datapointsFor(target('a'), { detail: 'basic' }, AT)).size).toBe(4);
    expect(distinct(datapointsFor(target('a'), { detail: 'phases' }, AT)).size).toBe(16);
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
