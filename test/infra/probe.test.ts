import { expect, it } from 'vitest';
import { probe } from './modules.ts';

/** infra/probe.cjs: a scheduled run is dropped after one period, in Lambda and in EventBridge; env per mode. */

it('drops a run queued in Lambda for longer than one period, within Lambda’s 6-hour maximum', () => {
  for (const [periodSeconds, maximumEventAge] of [
    [60, 60],
    [300, 300],
    [3600, 3600],
    [21_600, 21_600],
    [43_200, 21_600],
  ] as const) {
    expect(probe.probeMaximumEventAge(periodSeconds)).toBe(maximumEventAge);
  }
});

it('lets EventBridge keep an undelivered run for one period (up to its one day), never retried', () => {
  expect(probe.probeScheduleTargets(43_200)).toEqual([
    {
      Arn: { 'Fn::GetAtt': ['ProbeLambdaFunction', 'Arn'] },
      Id: 'probeSchedule',
      RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 43_200 },
    },
  ]);
});

it('tells the probe the table and topic only in direct mode', () => {
  expect(probe.probeEnvironment('log')).toEqual({});
  expect(probe.probeEnvironment('direct')).toEqual({
    CANARY_TABLE: { Ref: 'IncidentTable' },
    CANARY_TOPIC_ARN: { Ref: 'AlertTopic' },
  });
});
