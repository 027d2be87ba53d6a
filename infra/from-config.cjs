'use strict';

/**
 * Where serverless.yml meets the canary config and the deploy parameters.
 *
 * serverless.yml refers to each export as `${file(./infra/from-config.cjs):<export>}`. Every export is a
 * resolver function that osls (and Serverless Framework v4, same contract) calls with `{ resolveVariable }`;
 * it reads the `${param:...}` values it needs and the config file named by `${param:configPath}`, checks
 * them once, and returns plain values or CloudFormation fragments. Plain CommonJS without dependencies:
 * it runs inside the CLI before anything is built, so it cannot import the TypeScript in lib/.
 *
 * Everything here is decided at package time, so the generated template is the deployed truth: no
 * CloudFormation Conditions on values that are already known (cfn-lint flags those as W8003), no
 * resources that exist only to be switched off.
 *
 * The config check is deliberately shallow: what the stack itself needs (region, target names, role ARNs,
 * namespace, alert threshold). lib/config.ts validates the whole file when the probe starts.
 */

const crypto = require('node:crypto');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const SERVICE_DIR = path.resolve(__dirname, '..');

/** The fewest datapoints any alarm here needs to page (M of M-of-N): one datapoint is never a page. */
const MIN_DATAPOINTS_TO_ALARM = 2;
/** CloudWatch: Period x EvaluationPeriods of an alarm may not exceed one day. */
const MAX_ALARM_WINDOW_SECONDS = 86_400;
/** CloudWatch alarm warm-up: 1 to 2,880 minutes. */
const MAX_WARM_UP_MINUTES = 2_880;
/**
 * From the creation of the stack's alarms to the probe's first heartbeat, before the first schedule period:
 * CloudFormation creates the VPC function (Lambda waits for its network interfaces), then the schedule rule
 * that needs the function's ARN; EMF in the log becomes a metric a minute or so later.
 */
const FIRST_HEARTBEAT_ALLOWANCE_SECONDS = 600;
/** Lambda retries a failed asynchronous event twice, about 1 and 2 minutes apart (plus each attempt's run). */
const ASYNC_ATTEMPTS = 3;
const ASYNC_ATTEMPTS_SPAN_SECONDS = 360;
/** EventInvokeConfig.MaximumEventAgeInSeconds: 60 to 21,600; an EventBridge target's RetryPolicy: 60 to 86,400. */
const MAX_LAMBDA_EVENT_AGE_SECONDS = 21_600;
const MAX_DASHBOARD_WIDGETS = 500;
const MAX_ALARMS_PER_ALARM_WIDGET = 100;

const KMS_KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_ARN = /^arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** An SNS topic ARN in any partition (aws, aws-cn, aws-us-gov, aws-iso-b, ...): partition, region, account, name. */
const SNS_TOPIC_ARN = /^arn:(aws(?:-[a-z]+)*):sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$/;

/** The actions Lambda performs with a VPC function's role to attach it to the VPC (AWSLambdaENIManagementAccess). */
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
/** Item actions on the incident table; Scan for the outbox (notifications still owed, across all targets). */
const INCIDENT_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'];
/** What a publisher needs on a customer managed key to publish to a topic encrypted with it. */
const TOPIC_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];
const PHASE_METRICS = ['DnsTime', 'ConnectTime', 'TlsTime', 'FirstByteTime', 'TransferTime'];

/**
 * A bad parameter or config, reported as one line that says how to fix it. The stack is cut to the message
 * because the CLI prints `error.stack` verbatim, and a trace into this file helps nobody.
 */
class CanaryDeployError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CanaryDeployError';
    this.stack = `${this.name}: ${message}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parameters

const paramHint = (name, example) =>
  `pass --param="${name}=${example}" or set params.<stage>.${name} in serverless.yml`;

/** A `${param:name}` value as a trimmed string ('' when unset or empty). */
async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, null`);
  return value == null ? '' : String(value).trim();
}

async function booleanParam(resolveVariable, name) {
  const value = (await param(resolveVariable, name)).toLowerCase();
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  throw new CanaryDeployError(`param ${name}: expected true or false, got "${value}"`);
}

/** A comma-separated list of AWS ids, each checked against `pattern`. */
async function idListParam(resolveVariable, name, pattern, example) {
  const ids = (await param(resolveVariable, name))
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const bad = ids.filter((id) => !pattern.test(id));
  if (bad.length > 0) {
    throw new CanaryDeployError(
      `param ${name}: ${bad.map((id) => `"${id}"`).join(', ')} not like ${example}; expected a comma-separated list`,
    );
  }
  return ids;
}

async function deliveryParam(resolveVariable) {
  const delivery = await param(resolveVariable, 'delivery');
  if (delivery === 'log' || delivery === 'direct') return delivery;
  throw new CanaryDeployError(
    `param delivery: expected "log" (the notifier sends alerts from the probe's log, the default) or "direct" (the probe calls CloudWatch, SNS and DynamoDB itself), got "${delivery}"`,
  );
}

/** The probe's schedule, checked, and its period in seconds: the alarms evaluate one run per period. */
async function scheduleParam(resolveVariable) {
  const rate = await param(resolveVariable, 'schedule');
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(rate);
  if (!match) {
    throw new CanaryDeployError(
      `param schedule: expected a rate() expression like rate(1 minute) or rate(5 minutes), got "${rate}" (the alarm periods are derived from the rate, which a cron() expression does not give)`,
    );
  }
  const count = Number(match[1]);
  const unit = match[2].replace(/s$/, '');
  if (count < 1 || (count === 1) !== (match[2] === unit)) {
    throw new CanaryDeployError(
      `param schedule: EventBridge accepts rate(1 ${unit}) and rate(<n> ${unit}s) for n > 1, got "${rate}"`,
    );
  }
  return { rate, periodSeconds: count * { minute: 60, hour: 3600, day: 86_400 }[unit] };
}

async function probeVpcParams(resolveVariable) {
  const subnetIds = await idListParam(
    resolveVariable,
    'subnetIds',
    /^subnet-[0-9a-f]{8,17}$/,
    'subnet-0123456789abcdef0',
  );
  const securityGroupIds = await idListParam(
    resolveVariable,
    'securityGroupIds',
    /^sg-[0-9a-f]{8,17}$/,
    'sg-0123456789abcdef0',
  );
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new CanaryDeployError(
      'params subnetIds and securityGroupIds are required: the probe runs inside the VPC it watches; pass --param="subnetIds=subnet-aaa,subnet-bbb" --param="securityGroupIds=sg-ccc", or set both under params.<stage> in serverless.yml',
    );
  }
  return { subnetIds, securityGroupIds };
}

/** The topic's key as an ARN (IAM needs the ARN; SNS accepts it too), or null for an unencrypted topic. */
async function topicKeyArn(resolveVariable) {
  const key = await param(resolveVariable, 'kmsKeyId');
  if (key === '') return null;
  if (KMS_KEY_ARN.test(key)) return key;
  if (KMS_KEY_ID.test(key))
    return { 'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${key}` };
  throw new CanaryDeployError(
    `param kmsKeyId: expected a key id (1234abcd-12ab-34cd-56ef-1234567890ab) or key ARN, got "${key}" (an alias cannot scope the functions' kms:GenerateDataKey and kms:Decrypt permissions)`,
  );
}

/**
 * The optional second topic for the self-monitoring alarms (`opsTopicArn`), checked: null when not given.
 * CloudWatch publishes an alarm's actions only to topics in the alarm's own Region (PutMetricAlarm refuses
 * others with "Invalid region ... specified"), and a FIFO topic needs a message group id no alarm sends.
 */
async function opsTopicArnParam(resolveVariable) {
  const arn = await param(resolveVariable, 'opsTopicArn');
  if (arn === '') return null;
  const example = 'arn:aws:sns:ap-northeast-1:111111111111:oncall-ops';
  const match = SNS_TOPIC_ARN.exec(arn);
  if (!match) {
    throw new CanaryDeployError(
      `param opsTopicArn: expected the ARN of an SNS topic like ${example}, got "${arn}" (the self-monitoring alarms notify it besides the alert topic; leave it empty for none)`,
    );
  }
  if (match[5]) {
    throw new CanaryDeployError(
      `param opsTopicArn: "${arn}" is a FIFO topic; CloudWatch alarms can only notify standard topics`,
    );
  }
  const region = await stackRegion(resolveVariable);
  if (match[2] !== region) {
    throw new CanaryDeployError(
      `param opsTopicArn: the topic is in ${match[2]} but the stack deploys to ${region}; CloudWatch alarms notify topics in their own Region only, so use a topic in ${region}`,
    );
  }
  return arn;
}

/** The Region the stack deploys to: `--region` if given, else the config's (as provider.region resolves). */
async function stackRegion(resolveVariable) {
  const option = await resolveVariable('opt:region, null');
  return option == null || option === '' ? (await loadConfig(resolveVariable)).config.region : String(option);
}

// ---------------------------------------------------------------------------------------------------------
// The config file

const loaded = new Map();

/** The config named by `${param:configPath}`, read once per path and checked; with its derived settings. */
async function loadConfig(resolveVariable) {
  const configPath = (await param(resolveVariable, 'configPath')) || 'canary.config.json';
  const file = path.resolve(SERVICE_DIR, configPath);
  if (!loaded.has(file)) loaded.set(file, readConfig(file, configPath));
  return loaded.get(file);
}

function readConfig(file, shown) {
  if (path.extname(file) !== '.json') {
    throw new CanaryDeployError(`${shown}: the deployed config must be a .json file (it is bundled as JSON)`);
  }
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    throw new CanaryDeployError(
      `${shown}: cannot read the canary config (${error.code ?? error.message}); copy examples/canary.config.json there and edit it, or ${paramHint('configPath', 'path/to/canary.config.json')}`,
    );
  }
  // The one validator (lib/config.ts, through tsx): the same messages and defaults as at cold start.
  const checked = childProcess.spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-config.ts', file], {
    cwd: SERVICE_DIR,
    encoding: 'utf8',
  });
  if (checked.status !== 0) {
    throw new CanaryDeployError(`${(checked.stderr || checked.error?.message || 'config check failed').trim()}`);
  }
  const { config, probeTimeoutSeconds } = JSON.parse(checked.stdout);
  if (config.tls?.caFile) {
    throw new CanaryDeployError(
      `${shown}: tls.caFile is for the CLI only: the file is not packaged, so the probe could not start; AWS endpoints need no extra CA`,
    );
  }
  return {
    config,
    probeTimeoutSeconds,
    namespace: config.metrics.namespace,
    detail: config.metrics.detail,
    failuresBeforeAlert: config.alerts.failuresBeforeAlert,
    targets: config.targets,
  };
}

// ---------------------------------------------------------------------------------------------------------
// CloudFormation helpers

const ref = (logicalId) => ({ Ref: logicalId });
const arnOf = (logicalId) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

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
  // State only: the composite NotifierNotRunningAlarm pages for it unless the probe is what stopped.
  NotifierHeartbeatAlarm: `\${AWS::StackName}-notifier-heartbeat`,
};
const targetAlarmName = (name) => `\${AWS::StackName}-target-${name}`;
const alarmArn = (alarmName) =>
  `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${alarmName}`;

// ---------------------------------------------------------------------------------------------------------
// Exports: values

/** provider.region: the config's region (a `--region` option still wins). */
exports.region = async ({ resolveVariable }) => (await loadConfig(resolveVariable)).config.region;

/** The metric namespace (config `metrics.namespace`, default CodeCommitCanary). */
exports.namespace = async ({ resolveVariable }) => (await loadConfig(resolveVariable)).namespace;

/**
 * The esbuild `define` value for `process.env.CANARY_CONFIG_JSON`: the config as a JSON string literal
 * (the replacement is an expression, so the JSON text is itself JSON-encoded once more).
 */
exports.configJsonLiteral = async ({ resolveVariable }) =>
  JSON.stringify(JSON.stringify((await loadConfig(resolveVariable)).config));

/** The probe's Lambda timeout (s), from lib/run-budget.ts: the same reserve the handler budgets with. */
exports.probeTimeout = async ({ resolveVariable }) =>
  (await loadConfig(resolveVariable)).probeTimeoutSeconds[await deliveryParam(resolveVariable)];

exports.delivery = async ({ resolveVariable }) => deliveryParam(resolveVariable);

exports.scheduleRate = async ({ resolveVariable }) => (await scheduleParam(resolveVariable)).rate;

/** Alarm period = schedule period: one probe run (and one notifier invocation) per period. */
exports.alarmPeriodSeconds = async ({ resolveVariable }) => {
  const { periodSeconds } = await scheduleParam(resolveVariable);
  const { failuresBeforeAlert } = await loadConfig(resolveVariable);
  const periods = Math.max(MIN_DATAPOINTS_TO_ALARM, failuresBeforeAlert);
  if (periodSeconds * periods > MAX_ALARM_WINDOW_SECONDS) {
    throw new CanaryDeployError(
      `param schedule: ${periods} periods of ${periodSeconds} s exceed CloudWatch's one-day alarm window; use a shorter rate or fewer alerts.failuresBeforeAlert`,
    );
  }
  return periodSeconds;
};

/**
 * M of N for a self-monitoring alarm: M datapoints must breach within the last N periods. M is one more than
 * the periods a harmless blip of `toleratedSeconds` can fill (at least 2: one datapoint never pages); N is
 * M + 2, so a fault that comes and goes (every other run) still pages. Both capped by the one-day window.
 *
 * @example
 * mOfN(60, 120)  // { DatapointsToAlarm: 3, EvaluationPeriods: 5 }: a 1-minute schedule, 2 minutes of lag tolerated
 * mOfN(300, 120) // { DatapointsToAlarm: 2, EvaluationPeriods: 4 }
 */
function mOfN(periodSeconds, toleratedSeconds, datapoints = 1 + Math.ceil(toleratedSeconds / periodSeconds)) {
  const maxPeriods = Math.floor(MAX_ALARM_WINDOW_SECONDS / periodSeconds);
  const evaluationPeriods = Math.min(Math.max(datapoints, MIN_DATAPOINTS_TO_ALARM) + 2, maxPeriods);
  return {
    DatapointsToAlarm: Math.min(Math.max(datapoints, MIN_DATAPOINTS_TO_ALARM), evaluationPeriods),
    EvaluationPeriods: evaluationPeriods,
  };
}

/**
 * Warm-up of a heartbeat alarm (missing data = breaching), in minutes: long enough for the first heartbeat
 * after a fresh deploy plus a full evaluation window of real datapoints. The alarm ends it early as soon as
 * its window is filled with data, so a healthy stack pays nothing for a generous value; a probe that never
 * starts pages when it ends.
 */
const warmUpMinutes = (periodSeconds, evaluationPeriods) =>
  Math.min(
    MAX_WARM_UP_MINUTES,
    Math.ceil((FIRST_HEARTBEAT_ALLOWANCE_SECONDS + (evaluationPeriods + 1) * periodSeconds) / 60),
  );

/**
 * functions.probe.maximumEventAge (the EventInvokeConfig's MaximumEventAgeInSeconds): one schedule period.
 * A run that waited in Lambda's asynchronous queue longer (throttled, the function being updated) would
 * only probe late, next to the run of its own period: Lambda drops it instead.
 */
exports.probeMaximumEventAge = async ({ resolveVariable }) =>
  Math.min(MAX_LAMBDA_EVENT_AGE_SECONDS, (await scheduleParam(resolveVariable)).periodSeconds);

/**
 * The schedule rule's one target with a RetryPolicy (resources.extensions; osls's `schedule` event has no
 * retry setting): EventBridge keeps an undelivered run for at most one period and does not retry it. Its
 * default is to retry for 24 hours (185 attempts), which would start runs of long-gone periods.
 */
exports.probeScheduleTargets = async ({ resolveVariable }) => [
  {
    Arn: arnOf('ProbeLambdaFunction'),
    Id: 'probeSchedule',
    RetryPolicy: {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: (await scheduleParam(resolveVariable)).periodSeconds,
    },
  },
];

/** The optional second topic's ARN, checked (an empty list when not given). */
exports.opsTopicArns = async ({ resolveVariable }) => {
  const arn = await opsTopicArnParam(resolveVariable);
  return arn ? [arn] : [];
};

/** The probe's own environment (on top of provider.environment): the alert path's names in direct mode only. */
exports.probeEnvironment = async ({ resolveVariable }) =>
  (await deliveryParam(resolveVariable)) === 'direct'
    ? { CANARY_TABLE: ref('IncidentTable'), CANARY_TOPIC_ARN: ref('AlertTopic') }
    : {};

/** functions.probe.vpc */
exports.probeVpc = async ({ resolveVariable }) => probeVpcParams(resolveVariable);

/** The target roles the probe may assume, from the config: the only resources of its sts:AssumeRole. */
exports.targetRoleArns = async ({ resolveVariable }) => {
  const { targets } = await loadConfig(resolveVariable);
  return [...new Set(targets.map((target) => target.roleArn))].sort();
};

/**
 * The probe role's statements. Always: assume the configured target roles, write its own log, attach to
 * the VPC. In direct mode also what the probe then calls itself: PutMetricData (namespace-bound), Publish
 * on the alert topic, the incident table's item actions, and the topic key when the topic is encrypted.
 *
 * Two statements need Resource "*" because AWS offers nothing narrower:
 * - cloudwatch:PutMetricData has no resource type; the cloudwatch:namespace condition is the scope.
 * - the ENI actions: Lambda creates and deletes the function's network interfaces with this role, and
 *   ec2:Describe* has no resource-level permissions (the managed AWSLambdaENIManagementAccess policy
 *   grants the same six actions on "*"). AWSLambdaVPCAccessExecutionRole is not used: it adds logs
 *   actions on every log group.
 */
exports.probePolicyStatements = async ({ resolveVariable }) => {
  const { targets, namespace } = await loadConfig(resolveVariable);
  const delivery = await deliveryParam(resolveVariable);
  const keyArn = await topicKeyArn(resolveVariable);
  const statements = [
    {
      Sid: 'AssumeTargetRoles',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: [...new Set(targets.map((target) => target.roleArn))].sort(),
    },
    {
      Sid: 'WriteOwnLog',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arnOf('ProbeLogGroup'),
    },
    { Sid: 'AttachToVpc', Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' },
  ];
  if (delivery === 'direct') {
    statements.push(
      {
        Sid: 'PutMetricDataInOwnNamespace',
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': namespace } },
      },
      { Sid: 'PublishAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: ref('AlertTopic') },
      { Sid: 'KeepIncidentState', Effect: 'Allow', Action: INCIDENT_TABLE_ACTIONS, Resource: arnOf('IncidentTable') },
    );
    if (keyArn) statements.push({ Sid: 'UseTopicKey', Effect: 'Allow', Action: TOPIC_KEY_ACTIONS, Resource: keyArn });
  }
  return statements;
};

/**
 * The notifier role's statements: its own log, the incident table's items, Publish, the topic key if any,
 * and SendMessage to its on-failure queue: Lambda delivers a failed asynchronous event to the destination
 * with the function's own role.
 */
exports.notifierPolicyStatements = async ({ resolveVariable }) => {
  const keyArn = await topicKeyArn(resolveVariable);
  const statements = [
    {
      Sid: 'WriteOwnLog',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arnOf('NotifyLogGroup'),
    },
    { Sid: 'KeepIncidentState', Effect: 'Allow', Action: INCIDENT_TABLE_ACTIONS, Resource: arnOf('IncidentTable') },
    { Sid: 'PublishAlerts', Effect: 'Allow', Action: 'sns:Publish', Resource: ref('AlertTopic') },
    {
      Sid: 'KeepFailedEvents',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: arnOf('NotifierFailedEventsQueue'),
    },
  ];
  if (keyArn) statements.push({ Sid: 'UseTopicKey', Effect: 'Allow', Action: TOPIC_KEY_ACTIONS, Resource: keyArn });
  return statements;
};

/**
 * The roles the topic policy lets publish. The probe only in direct mode: within one account a resource
 * policy alone grants access, so listing the probe in log mode would undo its least privilege.
 */
exports.topicPublisherRoleArns = async ({ resolveVariable }) => {
  const delivery = await deliveryParam(resolveVariable);
  return delivery === 'direct' ? [arnOf('NotifierRole'), arnOf('ProbeRole')] : [arnOf('NotifierRole')];
};

/**
 * AlertTopic's properties: encrypted when kmsKeyId is set. The key policy must then let
 * cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*), or the alarms cannot publish.
 */
exports.alertTopicProperties = async ({ resolveVariable }) => {
  const keyArn = await topicKeyArn(resolveVariable);
  return { DisplayName: 'CodeCommit canary', ...(keyArn ? { KmsMasterKeyId: keyArn } : {}) };
};

/** Dashboard body: heartbeat and alarm states, then one row per target (success, duration, phases). */
exports.dashboardBody = async ({ resolveVariable }) => {
  const { targets, namespace, detail } = await loadConfig(resolveVariable);
  const { periodSeconds } = await scheduleParam(resolveVariable);
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
    metricWidget(12, 'Notifier: runs, pages still owed, failed events', 'Sum', [
      [namespace, 'NotifierHeartbeat', 'Stack', stack, { label: 'runs (NotifierHeartbeat)' }],
      [namespace, 'NotificationsOwed', 'Stack', stack, { label: 'owed after the run (max)', stat: 'Maximum' }],
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
  // Names and the namespace cannot contain "$" (checked above), so the only ${...} are the pseudo parameters
  // and the two references above (the notifier's function and failed-events queue).
  return { 'Fn::Sub': JSON.stringify({ widgets }) };
};

// ---------------------------------------------------------------------------------------------------------
// Exports: resources fragments (items of serverless.yml's `resources` list; `{}` when not wanted)

/**
 * One alarm per target on Success Step=git, the end-to-end signal (0 also when git was skipped because
 * sts failed). It opens after as many failed periods as the notifier needs failed runs to open an incident.
 * Alarm actions only when pageOnTargetAlarms is true: by default the notifier pages, the alarms show state,
 * and one outage does not page twice. Missing data keeps the alarm out of ALARM: a stopped probe is the
 * heartbeat alarm's page.
 */
exports.targetAlarms = async ({ resolveVariable }) => {
  const { targets, namespace, failuresBeforeAlert } = await loadConfig(resolveVariable);
  const periodSeconds = await exports.alarmPeriodSeconds({ resolveVariable });
  const page = await booleanParam(resolveVariable, 'pageOnTargetAlarms');
  const actions = page ? { AlarmActions: [ref('AlertTopic')], OKActions: [ref('AlertTopic')] } : {};
  const Resources = {};
  for (const target of targets) {
    Resources[targetLogicalId('TargetAlarm', target.name)] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: { 'Fn::Sub': targetAlarmName(target.name) },
        AlarmDescription: `CodeCommit canary: target ${target.name} failed end to end (Success, Step=git) in ${failuresBeforeAlert} consecutive runs. ${page ? 'Pages (pageOnTargetAlarms=true).' : 'State only; the notifier sends the alerts.'}`,
        Namespace: namespace,
        MetricName: 'Success',
        Dimensions: [
          { Name: 'Target', Value: target.name },
          { Name: 'Step', Value: 'git' },
        ],
        Statistic: 'Minimum',
        Period: periodSeconds,
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
};

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
 */
exports.selfMonitoringAlarms = async ({ resolveVariable }) => {
  const { namespace } = await loadConfig(resolveVariable);
  const periodSeconds = await exports.alarmPeriodSeconds({ resolveVariable });
  const opsTopic = await opsTopicArnParam(resolveVariable);
  const topics = [ref('AlertTopic'), ...(opsTopic ? [opsTopic] : [])];
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
  };
  return { Resources };
};

/** The optional email subscription to the alert topic (confirmed by the recipient). */
exports.alertEmailSubscription = async ({ resolveVariable }) => {
  const email = await param(resolveVariable, 'alertEmail');
  if (email === '') return {};
  if (!EMAIL.test(email)) throw new CanaryDeployError(`param alertEmail: expected an email address, got "${email}"`);
  return {
    Resources: {
      AlertEmailSubscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: ref('AlertTopic'), Protocol: 'email', Endpoint: email },
      },
    },
  };
};

/**
 * Optional consumer-side VPC endpoints (createVpcEndpoints=true): the two the probe tests, sts and
 * git-codecommit, and in direct mode the ones it then reports through: monitoring, sns (interface) and
 * dynamodb (gateway, on routeTableIds). Interface endpoints go into the probe's subnets (one per AZ) with
 * private DNS (the VPC needs DNS hostnames and support enabled), behind a security group that admits 443
 * from each of the probe's security groups. Endpoint policies stay the AWS default (full access): other
 * workloads in the VPC resolve the same private DNS names.
 */
exports.vpcEndpoints = async ({ resolveVariable }) => {
  if (!(await booleanParam(resolveVariable, 'createVpcEndpoints'))) return {};
  const delivery = await deliveryParam(resolveVariable);
  const { subnetIds, securityGroupIds } = await probeVpcParams(resolveVariable);
  const vpcIds = await idListParam(resolveVariable, 'vpcId', /^vpc-[0-9a-f]{8,17}$/, 'vpc-0123456789abcdef0');
  if (vpcIds.length !== 1) {
    throw new CanaryDeployError(
      `param vpcId: createVpcEndpoints=true needs the probe's VPC; ${paramHint('vpcId', 'vpc-0123456789abcdef0')}`,
    );
  }
  const routeTableIds =
    delivery === 'direct'
      ? await idListParam(resolveVariable, 'routeTableIds', /^rtb-[0-9a-f]{8,17}$/, 'rtb-0123456789abcdef0')
      : [];
  if (delivery === 'direct' && routeTableIds.length === 0) {
    throw new CanaryDeployError(
      `param routeTableIds: createVpcEndpoints=true with delivery=direct adds a DynamoDB gateway endpoint on the probe subnets' route tables; ${paramHint('routeTableIds', 'rtb-aaa,rtb-bbb')}`,
    );
  }

  const interfaceEndpoint = (service) => ({
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      VpcId: vpcIds[0],
      SubnetIds: subnetIds,
      SecurityGroupIds: [ref('VpcEndpointSecurityGroup')],
      PrivateDnsEnabled: true,
    },
  });
  const Resources = {
    VpcEndpointSecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'CodeCommit canary VPC endpoints: HTTPS from the probe',
        VpcId: vpcIds[0],
        SecurityGroupIngress: securityGroupIds.map((groupId) => ({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: groupId,
          Description: 'HTTPS from the canary probe',
        })),
      },
    },
    StsVpcEndpoint: interfaceEndpoint('sts'),
    GitCodeCommitVpcEndpoint: interfaceEndpoint('git-codecommit'),
  };
  if (delivery === 'direct') {
    Resources.MonitoringVpcEndpoint = interfaceEndpoint('monitoring');
    Resources.SnsVpcEndpoint = interfaceEndpoint('sns');
    Resources.DynamoDbVpcEndpoint = {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.dynamodb` },
        VpcId: vpcIds[0],
        RouteTableIds: routeTableIds,
      },
    };
  }
  return { Resources };
};
