import { describe, expect, it } from 'vitest';
import { alarms, type Resource, SELF_MONITORING_PAGES, type Target, targets } from './modules.ts';

/** infra/alarms.cjs: the self-monitoring alarms sized per schedule, and one alarm per target. */

const OPS_TOPIC = 'arn:aws:sns:ap-northeast-1:333333333333:oncall-ops';

const selfMonitoring = (periodSeconds: number, opsTopicArn: string | null = null) =>
  alarms.selfMonitoringAlarms({ namespace: 'Canary', periodSeconds, opsTopicArn }).Resources as Record<
    string,
    Resource
  >;

describe('self-monitoring alarms', () => {
  it('size M of N and the warm-up from the schedule period', () => {
    // period -> { alarm: [M, N] }, the heartbeat alarms' warm-up (minutes), the composite's suppressor periods (s)
    const expected = {
      60: {
        mOfN: { ProbeNotRunningAlarm: [3, 5], NotifierHeartbeatAlarm: [4, 6], NotifierErrorsAlarm: [4, 6] },
        more: {
          NotifierThrottledAlarm: [3, 5],
          NotifierFailedEventsAlarm: [2, 4],
          NotifierPagesStuckAlarm: [3, 5],
          NotifierRecordsRejectedAlarm: [2, 4],
        },
        warmUp: [16, 17],
        suppressor: [120, 240],
      },
      300: {
        mOfN: { ProbeNotRunningAlarm: [2, 4], NotifierHeartbeatAlarm: [2, 4], NotifierErrorsAlarm: [4, 6] },
        more: {
          NotifierThrottledAlarm: [2, 4],
          NotifierFailedEventsAlarm: [2, 4],
          NotifierPagesStuckAlarm: [2, 4],
          NotifierRecordsRejectedAlarm: [2, 4],
        },
        warmUp: [35, 35],
        suppressor: [600, 1200],
      },
      3600: {
        mOfN: { ProbeNotRunningAlarm: [2, 4], NotifierHeartbeatAlarm: [2, 4], NotifierErrorsAlarm: [3, 5] },
        more: {
          NotifierThrottledAlarm: [2, 4],
          NotifierFailedEventsAlarm: [2, 4],
          NotifierPagesStuckAlarm: [2, 4],
          NotifierRecordsRejectedAlarm: [2, 4],
        },
        warmUp: [310, 310],
        suppressor: [7200, 14_400],
      },
      43200: {
        mOfN: { ProbeNotRunningAlarm: [2, 2], NotifierHeartbeatAlarm: [2, 2], NotifierErrorsAlarm: [2, 2] },
        more: {
          NotifierThrottledAlarm: [2, 2],
          NotifierFailedEventsAlarm: [2, 2],
          NotifierPagesStuckAlarm: [2, 2],
          NotifierRecordsRejectedAlarm: [2, 2],
        },
        warmUp: [2170, 2170],
        suppressor: [86_400, 86_400],
      },
    } as const;
    for (const [period, { mOfN, more, warmUp, suppressor }] of Object.entries(expected)) {
      const resources = selfMonitoring(Number(period));
      for (const [id, [m, n]] of Object.entries({ ...mOfN, ...more })) {
        const { Period, DatapointsToAlarm, EvaluationPeriods } = resources[id]?.Properties ?? {};
        expect([period, id, Period, DatapointsToAlarm, EvaluationPeriods]).toEqual([period, id, Number(period), m, n]);
      }
      const warmUpOf = (id: string) =>
        (resources[id]?.Properties.WarmUpConfiguration as { WarmUpPeriodDurationInMinutes: number } | undefined)
          ?.WarmUpPeriodDurationInMinutes;
      expect([period, warmUpOf('ProbeNotRunningAlarm'), warmUpOf('NotifierHeartbeatAlarm')]).toEqual([
        period,
        ...warmUp,
      ]);
      const composite = resources.NotifierNotRunningAlarm?.Properties ?? {};
      expect([period, composite.ActionsSuppressorWaitPeriod, composite.ActionsSuppressorExtensionPeriod]).toEqual([
        period,
        ...suppressor,
      ]);
    }
  });

  it('warm up only the heartbeat alarms (missing data breaching), ending as soon as real data fills the window', () => {
    const resources = selfMonitoring(60);
    const warmingUp = Object.entries(resources).filter(([, r]) => 'WarmUpConfiguration' in r.Properties);
    expect(warmingUp.map(([id]) => id)).toEqual(['ProbeNotRunningAlarm', 'NotifierHeartbeatAlarm']);
    for (const [, { Properties }] of warmingUp) {
      expect(Properties).toMatchObject({
        TreatMissingData: 'breaching',
        WarmUpConfiguration: { OnlyStartEvaluatingAfterWarmUpPeriodEnds: false },
      });
    }
  });

  it('page the alert topic and the ops topic when given; the notifier heartbeat holds state only', () => {
    for (const [opsTopic, topics] of [
      [null, [{ Ref: 'AlertTopic' }]],
      [OPS_TOPIC, [{ Ref: 'AlertTopic' }, OPS_TOPIC]],
    ] as const) {
      const resources = selfMonitoring(300, opsTopic);
      for (const id of SELF_MONITORING_PAGES) {
        const { AlarmActions, OKActions, AlarmDescription } = resources[id]?.Properties ?? {};
        expect([id, AlarmActions, OKActions]).toEqual([id, topics, topics]);
        expect(AlarmDescription).toMatch(/^CodeCommit canary: .+ First: .+\(runbook: docs\/runbook\.md\)\.$/);
      }
      expect(resources.NotifierHeartbeatAlarm?.Properties).not.toHaveProperty('AlarmActions');
    }
  });

  it('are named after what broke, under the stack’s name', () => {
    const names = Object.entries(selfMonitoring(60)).map(([id, r]) => [id, r.Properties.AlarmName]);
    expect(Object.fromEntries(names)).toEqual(
      Object.fromEntries(
        Object.entries(alarms.SELF_MONITORING_ALARM_NAMES).map(([id, name]) => [id, { 'Fn::Sub': name }]),
      ),
    );
    expect(Object.values(alarms.SELF_MONITORING_ALARM_NAMES).sort()).toEqual(
      [
        'notifier-errors',
        'notifier-failed-events',
        'notifier-heartbeat',
        'notifier-not-running',
        'notifier-pages-stuck',
        'notifier-records-rejected',
        'notifier-throttled',
        'probe-not-running',
      ].map((suffix) => `\${AWS::StackName}-${suffix}`),
    );
  });
});

describe('target alarms', () => {
  const build = (list: Target[], page: boolean, failuresBeforeAlert = 2) =>
    alarms.targetAlarms({ targets: list, namespace: 'Canary', failuresBeforeAlert, periodSeconds: 300, page })
      .Resources as Record<string, Resource>;

  it('keep the logical ids already deployed: a changed id would delete the alarm', () => {
    const example = [
      { name: 'team-repo', roleArn: 'r' },
      { name: 'by-url', roleArn: 'r' },
    ];
    expect(Object.keys(build(example, false))).toEqual(['TargetAlarmTeamRepoa7e30ff7', 'TargetAlarmByUrlc9655e04']);
  });

  it('give targets whose names differ only in punctuation distinct logical ids', () => {
    const ids = Object.keys(
      build(
        [
          { name: 'team-repo', roleArn: 'r' },
          { name: 'team_repo', roleArn: 'r' },
        ],
        false,
      ),
    );
    expect(ids).toHaveLength(2);
    expect(ids.every((id) => /^TargetAlarmTeamRepo[0-9a-f]{8}$/.test(id))).toBe(true);
  });

  it('open after failuresBeforeAlert failed periods of the least Success of sts and git, and page only when asked', () => {
    const success = (step: string) => ({
      Id: step,
      MetricStat: {
        Metric: {
          Namespace: 'Canary',
          MetricName: 'Success',
          Dimensions: [
            { Name: 'Target', Value: 't0' },
            { Name: 'Step', Value: step },
          ],
        },
        Period: 300,
        Stat: 'Minimum',
      },
      ReturnData: false,
    });
    const [quiet] = Object.values(build(targets(1), false, 3));
    expect(quiet?.Properties).toEqual({
      AlarmName: { 'Fn::Sub': `\${AWS::StackName}-target-t0` },
      AlarmDescription:
        'CodeCommit canary: target t0 failed end to end (the minimum of Success over sts, git) in 3 consecutive runs. State only; the notifier sends the alerts.',
      Metrics: [
        success('sts'),
        success('git'),
        { Id: 'path', Expression: 'MIN([sts, git])', Label: 'end to end', ReturnData: true },
      ],
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'missing',
    });
    const [paging] = Object.values(build(targets(1), true));
    expect(paging?.Properties).toMatchObject({
      AlarmDescription: expect.stringMatching(/Pages \(pageOnTargetAlarms=true\)\.$/),
      AlarmActions: [{ Ref: 'AlertTopic' }],
      OKActions: [{ Ref: 'AlertTopic' }],
    });
  });

  it('take the fetch in for a target that fetches (its own setting over the config-wide one), never the assertions', () => {
    const expressions = (list: Target[], fetchByDefault: boolean) =>
      Object.values(
        alarms.targetAlarms({
          targets: list,
          namespace: 'Canary',
          failuresBeforeAlert: 2,
          periodSeconds: 60,
          page: false,
          fetchByDefault,
        }).Resources as Record<string, Resource>,
      ).map((alarm) => (alarm.Properties.Metrics as { Expression?: string }[]).at(-1)?.Expression);
    const list = [
      { name: 'inherits', roleArn: 'r' },
      { name: 'fetches', roleArn: 'r', fetch: { enabled: true } },
      { name: 'does-not', roleArn: 'r', fetch: { enabled: false } },
    ];
    expect(expressions(list, false)).toEqual(['MIN([sts, git])', 'MIN([sts, git, fetch])', 'MIN([sts, git])']);
    expect(expressions(list, true)).toEqual(['MIN([sts, git, fetch])', 'MIN([sts, git, fetch])', 'MIN([sts, git])']);
  });
});
