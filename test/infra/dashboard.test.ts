import { describe, expect, it } from 'vitest';
import { dashboard, type Target, targets } from './modules.ts';

/** infra/dashboard.cjs: what the dashboard shows, and CloudWatch's limits on it. */

interface Widget {
  type: 'metric' | 'alarm';
  width: number;
  properties: { title: string; period?: number; alarms?: string[]; metrics?: unknown[][] };
}

const body = (list: Target[], detail: 'basic' | 'phases' = 'phases', periodSeconds = 60) =>
  dashboard.dashboardBody({ targets: list, namespace: 'Canary', detail, periodSeconds });
const widgets = (list: Target[], detail: 'basic' | 'phases' = 'phases', periodSeconds = 60) =>
  (JSON.parse(body(list, detail, periodSeconds)['Fn::Sub']) as { widgets: Widget[] }).widgets;

describe('layout', () => {
  it('shows the heartbeat, every alarm, the notifier and the functions, then a row per target', () => {
    expect(widgets(targets(1)).map((w) => [w.type, w.width, w.properties.title])).toEqual([
      ['metric', 8, 'Probe runs (Heartbeat per period)'],
      ['alarm', 16, 'Alarms'],
      ['metric', 12, 'Notifier: runs, pages still owed, records rejected, failed events'],
      ['metric', 12, 'Functions: errors and throttles'],
      ['metric', 12, 'Findings per code (Finding)'],
      ['metric', 12, 'Certificate days left per endpoint (CertDaysLeft)'],
      ['metric', 6, 't0: success'],
      ['metric', 6, 't0: duration (ms)'],
      ['metric', 6, 't0: sts phases (ms)'],
      ['metric', 6, 't0: git phases (ms)'],
    ]);
  });

  it('with metrics.detail "basic", a target’s row is success and a wide duration graph', () => {
    expect(
      widgets(targets(1), 'basic')
        .slice(6)
        .map((w) => [w.width, w.properties.title]),
    ).toEqual([
      [6, 't0: success'],
      [18, 't0: duration (ms)'],
    ]);
  });

  it('graphs the findings per code of this stack and the certificates’ days left, by metric search', () => {
    const [findings, certificates] = widgets(targets(1)).slice(4, 6);
    expect(findings?.properties.metrics).toEqual([
      [
        {
          expression: `SEARCH('{"Canary",Code,Stack} MetricName="Finding" Stack="\${AWS::StackName}"', 'Maximum', 60)`,
          id: 'findings',
        },
      ],
    ]);
    expect(certificates?.properties.metrics).toEqual([
      [{ expression: `SEARCH('{"Canary",Endpoint} MetricName="CertDaysLeft"', 'Minimum', 60)`, id: 'certificates' }],
    ]);
  });

  it('graphs every metric per schedule period', () => {
    const metricWidgets = widgets(targets(2), 'phases', 300).filter((w) => w.type === 'metric');
    expect(metricWidgets.every((w) => w.properties.period === 300)).toBe(true);
  });

  it('lists the self-monitoring alarms, then one per target, by ARN under the stack’s name', () => {
    const [alarmWidget] = widgets(targets(2)).filter((w) => w.type === 'alarm');
    const arn = (suffix: string) =>
      `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:\${AWS::StackName}-${suffix}`;
    expect(alarmWidget?.properties.alarms).toEqual(
      [
        'probe-not-running',
        'notifier-not-running',
        'notifier-errors',
        'notifier-throttled',
        'notifier-failed-events',
        'notifier-pages-stuck',
        'notifier-records-rejected',
        'notifier-heartbeat',
        'target-t0',
        'target-t1',
      ].map(arn),
    );
  });

  it('substitutes only pseudo parameters and the notifier’s function and queue', () => {
    const substituted = body(targets(3))['Fn::Sub'].match(/\$\{[^}]+\}/g) ?? [];
    expect([...new Set(substituted)].sort()).toEqual([
      `\${AWS::AccountId}`,
      `\${AWS::Partition}`,
      `\${AWS::Region}`,
      `\${AWS::StackName}`,
      `\${NotifierFailedEventsQueue.QueueName}`,
      `\${NotifyLambdaFunction}`,
      `\${ProbeLambdaFunction}`,
    ]);
  });
});

describe('CloudWatch’s limits', () => {
  it('puts at most 100 alarms in one alarm widget, later ones full width', () => {
    // 8 self-monitoring alarms + 193 target alarms = 201 alarms.
    const alarmWidgets = widgets(targets(193), 'basic').filter((w) => w.type === 'alarm');
    expect(alarmWidgets.map((w) => [w.width, w.properties.alarms?.length])).toEqual([
      [16, 100],
      [24, 100],
      [24, 1],
    ]);
  });

  it('allows 500 widgets and refuses more, saying what to change', () => {
    // phases: 4 widgets per target; 5 fixed widgets and 2 alarm widgets: 123 targets make 499, 124 make 503.
    expect(widgets(targets(123))).toHaveLength(499);
    expect(() => body(targets(124))).toThrow(
      `dashboard: 503 widgets exceed CloudWatch's 500 per dashboard; use metrics.detail "basic" or split the targets over two stacks`,
    );
    // basic: 2 per target, 5 fixed and 3 alarm widgets: 246 targets make exactly 500.
    expect(widgets(targets(246), 'basic')).toHaveLength(dashboard.MAX_DASHBOARD_WIDGETS);
    expect(() => body(targets(247), 'basic')).toThrow('dashboard: 502 widgets exceed');
  });
});
