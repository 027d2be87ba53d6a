import { describe, expect, it } from 'vitest';
import { alarmSizing } from './modules.ts';

/** infra/alarm-sizing.cjs: alarm period, M of N and warm-up, per schedule. */

const { alarmPeriodSeconds, mOfN, warmUpMinutes } = alarmSizing;
/** Every schedule period alarmPeriodSeconds accepts with the default threshold (2 periods within one day). */
const SCHEDULES = [60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 28_800, 43_200];
const TOLERATED = [0, 60, 120, 180, 360, 3600];

describe('alarmPeriodSeconds', () => {
  it('is the schedule period while the target alarms’ window fits in one day', () => {
    expect(alarmPeriodSeconds(60, 2)).toBe(60);
    expect(alarmPeriodSeconds(43_200, 2)).toBe(43_200);
    expect(alarmPeriodSeconds(28_800, 3)).toBe(28_800);
  });

  it('refuses a window over one day, counting at least 2 periods even for failuresBeforeAlert 1', () => {
    expect(() => alarmPeriodSeconds(43_200, 3)).toThrow(
      "param schedule: 3 periods of 43200 s exceed CloudWatch's one-day alarm window; use a shorter rate or fewer alerts.failuresBeforeAlert",
    );
    expect(() => alarmPeriodSeconds(86_400, 1)).toThrow('param schedule: 2 periods of 86400 s exceed');
  });
});

describe('mOfN', () => {
  it('sizes M from the tolerated lag and N as M + 2, per schedule', () => {
    // [period, tolerated s] -> [M, N]
    for (const [period, tolerated, expected] of [
      [60, 60, [2, 4]],
      [60, 120, [3, 5]],
      [60, 180, [4, 6]],
      [300, 120, [2, 4]],
      [300, 600, [3, 5]],
      [3600, 180, [2, 4]],
      [43_200, 120, [2, 2]],
    ] as const) {
      const { DatapointsToAlarm, EvaluationPeriods } = mOfN(period, tolerated);
      expect([period, tolerated, DatapointsToAlarm, EvaluationPeriods]).toEqual([period, tolerated, ...expected]);
    }
  });

  it('takes an explicit M, still at least 2', () => {
    expect(mOfN(60, 0, 4)).toEqual({ DatapointsToAlarm: 4, EvaluationPeriods: 6 });
    expect(mOfN(60, 0, 1)).toEqual({ DatapointsToAlarm: 2, EvaluationPeriods: 4 });
  });

  it('never pages on one datapoint, and fits the one-day window, on every accepted schedule', () => {
    for (const period of SCHEDULES) {
      for (const tolerated of TOLERATED) {
        const { DatapointsToAlarm, EvaluationPeriods } = mOfN(period, tolerated);
        const where = `${period} s, ${tolerated} s tolerated`;
        expect([where, DatapointsToAlarm >= 2]).toEqual([where, true]);
        expect([where, DatapointsToAlarm <= EvaluationPeriods]).toEqual([where, true]);
        expect([where, period * EvaluationPeriods <= alarmSizing.MAX_ALARM_WINDOW_SECONDS]).toEqual([where, true]);
      }
    }
  });
});

describe('warmUpMinutes', () => {
  it('covers ten minutes for the first heartbeat and a full window of real datapoints after it', () => {
    expect(warmUpMinutes(60, 5)).toBe(16);
    expect(warmUpMinutes(300, 4)).toBe(35);
    for (const period of SCHEDULES) {
      const { EvaluationPeriods } = mOfN(period, 120);
      expect(warmUpMinutes(period, EvaluationPeriods) * 60).toBeGreaterThanOrEqual(600 + EvaluationPeriods * period);
    }
  });

  it('stays within CloudWatch’s 2,880 minutes', () => {
    expect(warmUpMinutes(86_400, 2)).toBe(alarmSizing.MAX_WARM_UP_MINUTES);
    for (const period of SCHEDULES) {
      expect(warmUpMinutes(period, mOfN(period, 180).EvaluationPeriods)).toBeLessThanOrEqual(2880);
    }
  });
});
