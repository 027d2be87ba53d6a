import { describe, expect, it } from 'vitest';
import { bucketStart, computeReport, percentile, type ReportInput } from '../../lib/report/compute.ts';

const SINCE = new Date('2026-11-23T00:00:00.000Z'); // a Monday
const minute = (i: number) => SINCE.getTime() + i * 60_000;

/** One target, one step, `minutes` runs a minute apart; `failed` says which runs failed. */
function input(minutes: number, failed: (i: number) => boolean, extra: Partial<ReportInput> = {}): ReportInput {
  const range = Array.from({ length: minutes }, (_, i) => i);
  return {
    since: SINCE,
    until: new Date(minute(minutes)),
    periodSeconds: 60,
    samplesPerMinute: 1,
    bucket: 'day',
    slo: 99.9,
    targets: [
      {
        name: 'team-repo',
        steps: {
          git: {
            successSum: range.map((i) => ({ t: minute(i), v: failed(i) ? 0 : 1 })),
            successCount: range.map((i) => ({ t: minute(i), v: 1 })),
            latency: { Duration: range.map((i) => ({ t: minute(i), v: i })) },
          },
        },
      },
    ],
    incidents: [],
    silences: [],
    windows: [],
    findings: [],
    ...extra,
  };
}

describe('computeReport (pure)', () => {
  it('counts missing runs apart from failures', () => {
    const data = input(1440, (i) => i < 2);
    // 40 minutes without a datapoint: the probe did not run.
    const git = data.targets[0]?.steps.git;
    if (!git) throw new Error('fixture');
    git.successSum = git.successSum.filter((p) => p.t < minute(1000) || p.t >= minute(1040));
    git.successCount = git.successCount.filter((p) => p.t < minute(1000) || p.t >= minute(1040));
    const [target] = computeReport(data).targets;
    expect(target).toMatchObject({ missingSamples: 40, expectedSamples: 1440, failedSamples: 2 });
    expect(target?.availability).toEqual({ good: 1398, samples: 1400, percent: (1398 / 1400) * 100 });
  });

  it('a failed ref assertion shows in its own step, not in the availability of the path', () => {
    const data = input(60, () => false);
    const target = data.targets[0];
    if (!target) throw new Error('fixture');
    const range = Array.from({ length: 60 }, (_, i) => i);
    target.steps.expect = {
      successSum: range.map((i) => ({ t: minute(i), v: i < 30 ? 0 : 1 })),
      successCount: range.map((i) => ({ t: minute(i), v: 1 })),
      latency: {},
    };
    const [report] = computeReport(data).targets;
    expect(report?.availability).toEqual({ good: 60, samples: 60, percent: 100 });
    expect(report?.steps.find((s) => s.step === 'expect')?.availability).toEqual({
      good: 30,
      samples: 60,
      percent: 50,
    });
  });

  it('leaves a maintenance window out of the second availability, and counts its time as muted', () => {
    // Failures at 02:00-02:29 on Monday, inside a cron window 0 2 * * MON for 1h.
    const data = input(1440, (i) => i >= 120 && i < 150, {
      windows: [{ targets: ['team-repo'], cron: '0 2 * * MON', duration: '1h', reason: 'patching' }],
    });
    const [target] = computeReport(data).targets;
    expect(target?.availability.good).toBe(1410);
    expect(target?.availabilityUnmuted).toEqual({ good: 1380, samples: 1380, percent: 100 });
    expect(target?.mutedMinutes).toBe(60);
  });

  it('groups by ISO week and month, and takes nearest-rank percentiles', () => {
    expect(bucketStart(Date.parse('2026-11-29T23:59:00Z'), 'week')).toBe('2026-11-23T00:00:00.000Z');
    expect(bucketStart(Date.parse('2026-11-30T00:00:00Z'), 'week')).toBe('2026-11-30T00:00:00.000Z');
    expect(bucketStart(Date.parse('2026-11-30T12:00:00Z'), 'month')).toBe('2026-11-01T00:00:00.000Z');
    expect([
      percentile([], 50),
      percentile([5], 99),
      percentile([1, 2, 3, 4], 50),
      percentile([1, 2, 3, 4], 99),
    ]).toEqual([null, 5, 2, 4]);
    const report = computeReport({ ...input(3 * 1440, () => false), bucket: 'day' });
    expect(report.targets[0]?.buckets.map((b) => b.start.slice(0, 10))).toEqual([
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
    ]);
  });

  it('error budget: 99.9 % of a day is 1.44 minutes; one failed minute leaves 0.44', () => {
    const [target] = computeReport(input(1440, (i) => i === 7)).targets;
    expect(target?.slo.met).toBe(true);
    expect(target?.slo.budgetMinutes).toBeCloseTo(1.44, 10);
    expect(target?.slo.budgetLeftMinutes).toBeCloseTo(0.44, 10);
  });
});
