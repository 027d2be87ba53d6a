'use strict';

/**
 * The stack's alarms: the self-monitoring ones (is the probe running, does the notifier work) and one per
 * target (is the watched path up), with their names, which the dashboard shows too. Pure: the config's
 * namespace, targets and alert threshold, the alarm period (infra/alarm-sizing.cjs) and the checked
 * parameters in, `resources` fragments out.
 */

const crypto = require('node:crypto');
const { mOfN, warmUpMinutes } = require('./alarm-sizing.cjs');
const { ref, arnOf } = require('./shared.cjs');

/** Lambda retries a failed asynchronous event twice, about 1 and 2 minutes apart (plus each attempt's run). */
const ASYNC_ATTEMPTS = 3;
const ASYNC_ATTEMPTS_SPAN_SECONDS = 360;

/**
 * A logical id per target that never changes while the name doesn't: readable words plus a digest of the
 * exact name, so `team-repo` and `team_repo` cannot collide. Stability matters because the alarms carry
 * explicit names: a changed logical id makes CloudFormation create the "new" alarm (same name: an
 * overwrite) and then delete the "old" one, which deletes the alarm.
 */
function targetLogicalId(prefix, name) {
  const words = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1));
  const digest = crypto.createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${prefix}${words.join('')}${digest}`;
}

/**
 * Alarm names say which of three things broke, so on-call can tell them apart at a glance:
 * `-probe-not-running` (the monitor is blind), `-notifier-*` (results arrive but alerts may not go out) and
 * `-target-<name>` (the watched path is down: the notifier's [ALARM] mail is the page for that).
 */
const SELF_MONITORING_ALARM_NAMES = {
  ProbeNotRunningAlarm: `\${AWS::StackName}-probe-not-running`,
  NotifierNotRunningAlarm: `\${AWS::StackName}-notifier-not-running`,
  NotifierErrorsAlarm: `\${AWS::StackName}-notifier-errors`,
  NotifierThrottledAlarm: `\${AWS::StackName}-notifier-throttled`,
  NotifierFailedEventsAlarm: `\${AWS::StackName}-notifier-failed-events`,
  NotifierPagesStuckAlarm: `\${AWS::StackName}-notifier-pages-stuck`,
  NotifierRecordsRejectedAlarm: `\${AWS::StackName}-notifier-records-rejected`,
  // State only: the composite NotifierNotRunningAlarm pages for it unless the probe is what stopped.
  NotifierHeartbeatAlarm: `\${AWS::StackName}-notifier-heartbeat`,
};
const targetAlarmName = (name) => `\${AWS::StackName}-target-${name}`;
const alarmArn = (alarmName) =>
  `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${alarmName}`;

/**
 * One alarm per target on the path end to end: the minimum of Success over the steps that make it, sts, git and
 * (when the target fetches) fetch, so a path check's failure on either endpoint, a failed ls-remote or a stalled
 * pack all count (git's Success alone stays 1 when only sts's path checks or the fetch failed). Not `expect`: a
 * failed assertion is the repository's content, a warning the notifier sends, not the path down. It opens after as
 * many failed periods as the notifier needs failed runs to open an incident. Alarm actions only when
 * pageOnTargetAlarms is true: by default the notifier pages, the alarms show state, and one outage does not page
 * twice. Missing data keeps the alarm out of ALARM: a stopped probe is the heartbeat alarm's page.
 */
function targetAlarms({ targets, namespace, failuresBeforeAlert, periodSeconds, page, fetchByDefault = false }) {
  const actions = page ? { AlarmActions: [ref('AlertTopic')], OKActions: [ref('AlertTopic')] } : {};
  const Resources = {};
  for (const target of targets) {
    const steps = ['sts', 'git', ...((target.fetch?.enabled ?? fetchByDefault) ? ['fetch'] : [])];
    Resources[targetLogicalId('TargetAlarm', target.name)] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: { 'Fn::Sub': targetAlarmName(target.name) },
        AlarmDescription: `CodeCommit canary: target ${target.name} failed end to end (the minimum of Success over ${steps.join(', ')}) in ${failuresBeforeAlert} consecutive runs. ${page ? 'Pages (pageOnTargetAlarms=true).' : 'State only; the notifier sends the alerts.'}`,
        Metrics: [
          ...steps.map((step) => ({
            Id: step,
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: 'Success',
                Dimensions: [
                  { Name: 'Target', Value: target.name },
                  { Name: 'Step', Value: step },
                ],
              },
              Period: periodSeconds,
              Stat: 'Minimum',
            },
            ReturnData: false,
          })),
          { Id: 'path', Expression: `MIN([${steps.join(', ')}])`, Label: 'end to end', ReturnData: true },
        ],
        EvaluationPeriods: failuresBeforeAlert,
        DatapointsToAlarm: failuresBeforeAlert,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'missing',
        ...actions,
      },
    };
  }
  return { Resources };
}

/**
 * The alert path watches itself. Every alarm here pages the alert topic and, when `opsTopicArn` is given, a
 * second topic, so a broken alert topic (deleted subscription, key policy, filter policy) cannot hide itself.
 * All evaluate per schedule period (one probe run and one notifier invocation per period) and need M of N
 * datapoints (mOfN), so one late run, one throttle or one slow metric never pages.
 *
 * - probe-not-running: no Heartbeat (emitted by the probe after its records are written). Missing data is
 *   the failure, so it counts as breaching. A fresh deploy must not page before the first run, and CloudWatch
 *   treats a metric that never had data like any other missing data: with `breaching` a new alarm goes to
 *   ALARM at its first evaluation (its window reaches back before the stack existed), and M of N only delays
 *   that. The alarm's warm-up (WarmUpConfiguration, CloudWatch alarm warm-up periods, 2026) holds a new or
 *   updated alarm in INSUFFICIENT_DATA without actions and ends early once real datapoints fill the window.
 *   Not FILL(m, 0) with missing/notBreaching: it never pages for a probe that never started, and once the
 *   last real datapoint leaves the query range there is nothing left to fill, so a long outage would fall
 *   back to INSUFFICIENT_DATA (missing) or OK (notBreaching) and silently end its own page.
 * - notifier-not-running: no NotifierHeartbeat (one per notifier invocation) while the probe runs. The
 *   notifier is invoked only when the probe writes records, so a stopped probe silences it too: the metric
 *   alarm notifier-heartbeat only holds the state, and a composite alarm pages for it with the probe alarm
 *   as its actions suppressor (waiting for it, and after it clears, a few periods), so one stopped probe is
 *   one page: probe-not-running.
 * - notifier-errors, notifier-throttled: AWS/Lambda Errors and Throttles of the notifier. Errors need more
 *   periods than the three attempts of one failed event can fill: that event is notifier-failed-events'.
 * - notifier-failed-events: a message in the on-failure queue, an event the notifier gave up on (its records
 *   were never turned into alerts).
 * - notifier-pages-stuck: NotificationsOwed (pages the notifier still owes after it ran) above 0 over several
 *   invocations: SNS keeps refusing, one refused publish is re-sent by the next invocation.
 * - notifier-records-rejected: RecordsRejected (implausible records: another log group or account, not a
 *   Lambda stream, malformed, or timed far from their log event) in 2 of the last 4 periods. Either the
 *   stack's own records are refused (a wrong CANARY_ACCOUNT or log group: no target alert can come) or
 *   something keeps writing to the probe's log group; one stray period (old and new code side by side during
 *   a deploy) does not page.
 */
function selfMonitoringAlarms({ namespace, periodSeconds, opsTopicArn }) {
  const topics = [ref('AlertTopic'), ...(opsTopicArn ? [opsTopicArn] : [])];
  const actions = { AlarmActions: topics, OKActions: topics };
  const stackDimension = [{ Name: 'Stack', Value: ref('AWS::StackName') }];
  const notifierDimension = [{ Name: 'FunctionName', Value: ref('NotifyLambdaFunction') }];
  const name = (logicalId) => ({ 'Fn::Sub': SELF_MONITORING_ALARM_NAMES[logicalId] });
  const description = (what, first) => `CodeCommit canary: ${what} First: ${first} (runbook: docs/runbook.md).`;
  const warmUp = ({ EvaluationPeriods }) => ({
    WarmUpConfiguration: {
      WarmUpPeriodDurationInMinutes: warmUpMinutes(periodSeconds, EvaluationPeriods),
      OnlyStartEvaluatingAfterWarmUpPeriodEnds: false,
    },
  });
  const metricAlarm = (logicalId, properties) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: { AlarmName: name(logicalId), Period: periodSeconds, ...properties },
  });

  // Tolerated: one run started late plus EMF ingestion lag (about 2 minutes); 3 of 5 on a 1-minute schedule.
  const probeEvaluation = mOfN(periodSeconds, 120);
  // The notifier's heartbeat follows the probe's through the subscription: a minute more of lag, and slower
  // than the probe's alarm, so a stopped probe is in ALARM first.
  const notifierEvaluation = mOfN(periodSeconds, 180);
  const heartbeat = (metricName, evaluation) => ({
    Namespace: namespace,
    MetricName: metricName,
    Dimensions: stackDimension,
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'LessThanThreshold',
    TreatMissingData: 'breaching',
    ...evaluation,
    ...warmUp(evaluation),
  });
  const countAbove0 = (metric, statistic, evaluation) => ({
    ...metric,
    Statistic: statistic,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    // No datapoint: nothing failed (Lambda and SQS publish only when there is activity); the heartbeats
    // cover a notifier that is not invoked at all.
    TreatMissingData: 'notBreaching',
    ...evaluation,
  });
  const lambdaMetric = (metricName) => ({
    Namespace: 'AWS/Lambda',
    MetricName: metricName,
    Dimensions: notifierDimension,
  });

  const Resources = {
    ProbeNotRunningAlarm: metricAlarm('ProbeNotRunningAlarm', {
      AlarmDescription: description(
        'the probe did not report runs (Heartbeat) in the last schedule periods: it is not running, fails before it writes its records, or its log does not reach CloudWatch. Target alerts cannot come while this lasts.',
        "the probe's Invocations, Errors and Throttles, then its log",
      ),
      ...heartbeat('Heartbeat', probeEvaluation),
      ...actions,
    }),
    NotifierHeartbeatAlarm: metricAlarm('NotifierHeartbeatAlarm', {
      AlarmDescription: description(
        'state only: no notifier run (NotifierHeartbeat) in the last schedule periods. Pages through the notifier-not-running alarm, unless probe-not-running explains it.',
        'see the notifier-not-running alarm',
      ),
      ...heartbeat('NotifierHeartbeat', notifierEvaluation),
    }),
    NotifierNotRunningAlarm: {
      Type: 'AWS::CloudWatch::CompositeAlarm',
      Properties: {
        AlarmName: name('NotifierNotRunningAlarm'),
        AlarmDescription: description(
          "the probe runs but the notifier did not (no NotifierHeartbeat): results reach the log, alerts do not go out. The subscription filter on the probe's log, the notifier's invoke permission, or the notifier fails before it reports.",
          "the subscription filter on the probe's log group and the notifier's log",
        ),
        AlarmRule: { 'Fn::Sub': `ALARM("\${NotifierHeartbeatAlarm.Arn}")` },
        ActionsSuppressor: arnOf('ProbeNotRunningAlarm'),
        // The probe's alarm may reach ALARM a period or two after this one; after it clears, this one needs
        // as many good periods as the probe's did, plus the subscription's lag.
        ActionsSuppressorWaitPeriod: 2 * periodSeconds,
        ActionsSuppressorExtensionPeriod:
          (notifierEvaluation.EvaluationPeriods - notifierEvaluation.DatapointsToAlarm + 2) * periodSeconds,
        ...actions,
      },
    },
    NotifierErrorsAlarm: metricAlarm('NotifierErrorsAlarm', {
      AlarmDescription: description(
        'the notifier fails (AWS/Lambda Errors) in most of the last schedule periods: incident state and alerts are not kept up to date.',
        "the notifier's log (level error, Task timed out)",
      ),
      ...countAbove0(
        lambdaMetric('Errors'),
        'Sum',
        mOfN(
          periodSeconds,
          0,
          1 + Math.min(ASYNC_ATTEMPTS, Math.ceil(ASYNC_ATTEMPTS_SPAN_SECONDS / periodSeconds) + 1),
        ),
      ),
      ...actions,
    }),
    NotifierThrottledAlarm: metricAlarm('NotifierThrottledAlarm', {
      AlarmDescription: description(
        'the notifier is throttled (AWS/Lambda Throttles) in several of the last schedule periods: alerts are delayed, and dropped once an event is older than Lambda keeps it.',
        "the notifier's reserved concurrency (get-function-concurrency) and what invokes it",
      ),
      ...countAbove0(lambdaMetric('Throttles'), 'Sum', mOfN(periodSeconds, 120)),
      ...actions,
    }),
    NotifierFailedEventsAlarm: metricAlarm('NotifierFailedEventsAlarm', {
      AlarmDescription: description(
        "events the notifier gave up on after Lambda's retries are waiting in its on-failure queue: the probe records in them were never turned into alerts.",
        'read the messages in the queue (responseContext, the error) and the notifier log of that time',
      ),
      ...countAbove0(
        {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['NotifierFailedEventsQueue', 'QueueName'] } }],
        },
        'Maximum',
        mOfN(periodSeconds, 60),
      ),
      ...actions,
    }),
    NotifierPagesStuckAlarm: metricAlarm('NotifierPagesStuckAlarm', {
      AlarmDescription: description(
        'the notifier still owes pages after its runs (NotificationsOwed above 0) over several schedule periods: SNS keeps refusing them, so on-call is not being paged.',
        "the notifier's log for the Publish error, then the alert topic's policy and key",
      ),
      ...countAbove0(
        { Namespace: namespace, MetricName: 'NotificationsOwed', Dimensions: stackDimension },
        'Maximum',
        mOfN(periodSeconds, 120),
      ),
      ...actions,
    }),
    NotifierRecordsRejectedAlarm: metricAlarm('NotifierRecordsRejectedAlarm', {
      AlarmDescription: description(
        "the notifier rejected implausible probe records (RecordsRejected): its own records refused (a wrong account or log group, so no target alert can come) or something else writes to the probe's log group.",
        "the notifier's log lines of type codecommit-canary/records-rejected (the reasons), then who can write to the probe's log group",
      ),
      ...countAbove0(
        { Namespace: namespace, MetricName: 'RecordsRejected', Dimensions: stackDimension },
        'Sum',
        mOfN(periodSeconds, 0),
      ),
      ...actions,
    }),
  };
  return { Resources };
}

module.exports = {
  SELF_MONITORING_ALARM_NAMES,
  targetAlarmName,
  alarmArn,
  targetLogicalId,
  targetAlarms,
  selfMonitoringAlarms,
};
