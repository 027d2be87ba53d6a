'use strict';

/**
 * The CloudWatch dashboard: the probe's heartbeat and every alarm's state, the notifier's health, then a row
 * per target (success, duration and, with metrics.detail "phases", the phases of each step). Pure: the
 * config's targets, namespace and detail and the schedule period in, the DashboardBody out.
 */

const { SELF_MONITORING_ALARM_NAMES, alarmArn, targetAlarmName } = require('./alarms.cjs');
const { CanaryDeployError } = require('./shared.cjs');

const MAX_DASHBOARD_WIDGETS = 500;
const MAX_ALARMS_PER_ALARM_WIDGET = 100;
const PHASE_METRICS = ['DnsTime', 'ConnectTime', 'TlsTime', 'FirstByteTime', 'TransferTime'];

/** Dashboard body: heartbeat and alarm states, then one row per target (success, duration, phases). */
function dashboardBody({ targets, namespace, detail, periodSeconds }) {
  const region = `\${AWS::Region}`;
  const metricWidget = (width, title, stat, metrics, extra = {}) => ({
    type: 'metric',
    width,
    height: 6,
    properties: { title, region, view: 'timeSeries', stat, period: periodSeconds, metrics, ...extra },
  });

  const alarmArns = [
    ...Object.values(SELF_MONITORING_ALARM_NAMES).map(alarmArn),
    ...targets.map((target) => alarmArn(targetAlarmName(target.name))),
  ];
  const stack = `\${AWS::StackName}`;
  const widgets = [
    metricWidget(8, 'Probe runs (Heartbeat per period)', 'Sum', [[namespace, 'Heartbeat', 'Stack', stack]]),
  ];
  for (let start = 0; start < alarmArns.length; start += MAX_ALARMS_PER_ALARM_WIDGET) {
    widgets.push({
      type: 'alarm',
      width: start === 0 ? 16 : 24,
      height: 6,
      properties: { title: 'Alarms', alarms: alarmArns.slice(start, start + MAX_ALARMS_PER_ALARM_WIDGET) },
    });
  }
  // The alert path itself: is the notifier invoked, does it finish, are pages still owed after it ran?
  const lambdaMetric = (metric, fn) => ['AWS/Lambda', metric, 'FunctionName', `\${${fn}LambdaFunction}`];
  widgets.push(
    metricWidget(12, 'Notifier: runs, pages still owed, records rejected, failed events', 'Sum', [
      [namespace, 'NotifierHeartbeat', 'Stack', stack, { label: 'runs (NotifierHeartbeat)' }],
      [namespace, 'NotificationsOwed', 'Stack', stack, { label: 'owed after the run (max)', stat: 'Maximum' }],
      [namespace, 'RecordsRejected', 'Stack', stack, { label: 'records rejected' }],
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        `\${NotifierFailedEventsQueue.QueueName}`,
        { label: 'failed events (max)', stat: 'Maximum' },
      ],
    ]),
    metricWidget(12, 'Functions: errors and throttles', 'Sum', [
      [...lambdaMetric('Errors', 'Notify'), { label: 'notifier errors' }],
      [...lambdaMetric('Throttles', 'Notify'), { label: 'notifier throttles' }],
      [...lambdaMetric('Errors', 'Probe'), { label: 'probe errors' }],
      [...lambdaMetric('Throttles', 'Probe'), { label: 'probe throttles' }],
    ]),
  );
  // The run's findings per code and the endpoints' certificates, by metric search (every code and host there is).
  const search = (id, schema, metric, filter, stat) => ({
    expression: `SEARCH('{"${namespace}",${schema}} MetricName="${metric}"${filter}', '${stat}', ${periodSeconds})`,
    id,
  });
  widgets.push(
    metricWidget(12, 'Findings per code (Finding)', 'Maximum', [
      [search('findings', 'Code,Stack', 'Finding', ` Stack="${stack}"`, 'Maximum')],
    ]),
    metricWidget(12, 'Certificate days left per endpoint (CertDaysLeft)', 'Minimum', [
      [search('certificates', 'Endpoint', 'CertDaysLeft', '', 'Minimum')],
    ]),
  );
  for (const { name } of targets) {
    const byStep = (metric, step, label) => [namespace, metric, 'Target', name, 'Step', step, { label }];
    widgets.push(
      metricWidget(
        6,
        `${name}: success`,
        'Average',
        [byStep('Success', 'git', 'git (end to end)'), byStep('Success', 'sts', 'sts')],
        { yAxis: { left: { min: 0, max: 1 } } },
      ),
      metricWidget(detail === 'phases' ? 6 : 18, `${name}: duration (ms)`, 'Average', [
        byStep('Duration', 'sts', 'sts'),
        byStep('Duration', 'git', 'git'),
      ]),
    );
    if (detail === 'phases') {
      for (const step of ['sts', 'git']) {
        widgets.push(
          metricWidget(
            6,
            `${name}: ${step} phases (ms)`,
            'Average',
            PHASE_METRICS.map((metric) => byStep(metric, step, metric.replace(/Time$/, ''))),
            { stacked: true },
          ),
        );
      }
    }
  }
  if (widgets.length > MAX_DASHBOARD_WIDGETS) {
    throw new CanaryDeployError(
      `dashboard: ${widgets.length} widgets exceed CloudWatch's ${MAX_DASHBOARD_WIDGETS} per dashboard; use metrics.detail "basic" or split the targets over two stacks`,
    );
  }
  // Target names and the namespace cannot contain "$" (lib/config/config.ts refuses it), so the only ${...} are the
  // pseudo parameters and the two references above (the notifier's function and failed-events queue).
  return { 'Fn::Sub': JSON.stringify({ widgets }) };
}

module.exports = { MAX_DASHBOARD_WIDGETS, MAX_ALARMS_PER_ALARM_WIDGET, dashboardBody };
