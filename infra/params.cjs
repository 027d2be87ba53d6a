'use strict';

/**
 * The deploy parameters (`--param="name=value"` or `params.<stage>` in serverless.yml): each checked, and
 * refused with one line that names the parameter and says how to fix it.
 *
 * The parse functions are pure: a parameter's text in (trimmed, '' when unset), its value or a
 * CanaryDeployError out. paramReader puts them behind serverless's resolveVariable for infra/from-config.cjs,
 * reading a parameter only when a resolver asks for it.
 */

const { CanaryDeployError } = require('./shared.cjs');

const KMS_KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_ARN = /^arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** An SNS topic ARN in any partition (aws, aws-cn, aws-us-gov, aws-iso-b, ...): partition, region, account, name. */
const SNS_TOPIC_ARN = /^arn:(aws(?:-[a-z]+)*):sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8,17}$/;

const paramHint = (name, example) =>
  `pass --param="${name}=${example}" or set params.<stage>.${name} in serverless.yml`;

function parseBoolean(name, text) {
  const value = text.toLowerCase();
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  throw new CanaryDeployError(`param ${name}: expected true or false, got "${value}"`);
}

/** A comma-separated list of AWS ids, each checked against `pattern`. */
function parseIdList(name, text, pattern, example) {
  const ids = text
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

function parseDelivery(text) {
  if (text === 'log' || text === 'direct') return text;
  throw new CanaryDeployError(
    `param delivery: expected "log" (the notifier sends alerts from the probe's log, the default) or "direct" (the probe calls CloudWatch, SNS and DynamoDB itself), got "${text}"`,
  );
}

/** The probe's schedule, checked, and its period in seconds: the alarms evaluate one run per period. */
function parseSchedule(rate) {
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

/** functions.probe.vpc: both lists are required, the probe runs inside the VPC it watches. */
function parseProbeVpc(subnetIdsText, securityGroupIdsText) {
  const subnetIds = parseIdList('subnetIds', subnetIdsText, SUBNET_ID, 'subnet-0123456789abcdef0');
  const securityGroupIds = parseIdList(
    'securityGroupIds',
    securityGroupIdsText,
    SECURITY_GROUP_ID,
    'sg-0123456789abcdef0',
  );
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new CanaryDeployError(
      'params subnetIds and securityGroupIds are required: the probe runs inside the VPC it watches; pass --param="subnetIds=subnet-aaa,subnet-bbb" --param="securityGroupIds=sg-ccc", or set both under params.<stage> in serverless.yml',
    );
  }
  return { subnetIds, securityGroupIds };
}

/** The topic's key (`kmsKeyId`) as an ARN (IAM needs the ARN; SNS accepts it too), or null for an unencrypted topic. */
function parseTopicKeyArn(key) {
  if (key === '') return null;
  if (KMS_KEY_ARN.test(key)) return key;
  if (KMS_KEY_ID.test(key))
    return { 'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${key}` };
  throw new CanaryDeployError(
    `param kmsKeyId: expected a key id (1234abcd-12ab-34cd-56ef-1234567890ab) or key ARN, got "${key}" (an alias cannot scope the functions' kms:GenerateDataKey and kms:Decrypt permissions)`,
  );
}

/**
 * The optional second topic for the self-monitoring alarms (`opsTopicArn`), checked: `{ arn, region }`, or
 * null when not given. A FIFO topic needs a message group id no alarm sends. Its Region is checked against
 * the stack's by opsTopicInRegion (the stack's Region may need the config, read only for a well-formed ARN).
 */
function parseOpsTopicArn(arn) {
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
  return { arn, region: match[2] };
}

/**
 * The ops topic's ARN when it is in the stack's Region: CloudWatch publishes an alarm's actions only to topics
 * in the alarm's own Region (PutMetricAlarm refuses others with "Invalid region ... specified").
 */
function opsTopicInRegion({ arn, region }, stackRegion) {
  if (region !== stackRegion) {
    throw new CanaryDeployError(
      `param opsTopicArn: the topic is in ${region} but the stack deploys to ${stackRegion}; CloudWatch alarms notify topics in their own Region only, so use a topic in ${stackRegion}`,
    );
  }
  return arn;
}

/** The address to subscribe to the alert topic (`alertEmail`), or null for none. */
function parseAlertEmail(email) {
  if (email === '') return null;
  if (!EMAIL.test(email)) throw new CanaryDeployError(`param alertEmail: expected an email address, got "${email}"`);
  return email;
}

/** The probe's VPC (`vpcId`), which createVpcEndpoints=true needs. */
function parseVpcId(text) {
  const vpcIds = parseIdList('vpcId', text, VPC_ID, 'vpc-0123456789abcdef0');
  if (vpcIds.length !== 1) {
    throw new CanaryDeployError(
      `param vpcId: createVpcEndpoints=true needs the probe's VPC; ${paramHint('vpcId', 'vpc-0123456789abcdef0')}`,
    );
  }
  return vpcIds[0];
}

/** The route tables for the DynamoDB gateway endpoint (`routeTableIds`): read for createVpcEndpoints in direct mode only. */
function parseRouteTableIds(text) {
  const routeTableIds = parseIdList('routeTableIds', text, ROUTE_TABLE_ID, 'rtb-0123456789abcdef0');
  if (routeTableIds.length === 0) {
    throw new CanaryDeployError(
      `param routeTableIds: createVpcEndpoints=true with delivery=direct adds a DynamoDB gateway endpoint on the probe subnets' route tables; ${paramHint('routeTableIds', 'rtb-aaa,rtb-bbb')}`,
    );
  }
  return routeTableIds;
}

/** A `${param:name}` value as a trimmed string ('' when unset or empty). */
async function readParam(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, null`);
  return value == null ? '' : String(value).trim();
}

/** The parameters through `resolveVariable`, each read and checked when asked for. */
function paramReader(resolveVariable) {
  const text = (name) => readParam(resolveVariable, name);
  return {
    text,
    boolean: async (name) => parseBoolean(name, await text(name)),
    delivery: async () => parseDelivery(await text('delivery')),
    schedule: async () => parseSchedule(await text('schedule')),
    probeVpc: async () => parseProbeVpc(await text('subnetIds'), await text('securityGroupIds')),
    topicKeyArn: async () => parseTopicKeyArn(await text('kmsKeyId')),
    opsTopicArn: async () => parseOpsTopicArn(await text('opsTopicArn')),
    alertEmail: async () => parseAlertEmail(await text('alertEmail')),
    vpcId: async () => parseVpcId(await text('vpcId')),
    routeTableIds: async () => parseRouteTableIds(await text('routeTableIds')),
  };
}

module.exports = {
  paramHint,
  parseBoolean,
  parseIdList,
  parseDelivery,
  parseSchedule,
  parseProbeVpc,
  parseTopicKeyArn,
  parseOpsTopicArn,
  opsTopicInRegion,
  parseAlertEmail,
  parseVpcId,
  parseRouteTableIds,
  readParam,
  paramReader,
};
