'use strict';

/**
 * Who may do what: the probe's and the notifier's role statements per delivery mode, the roles the alert
 * topic's policy lets publish, the topic's key, and the optional email subscription. Pure: the config's
 * targets and namespace, the delivery mode and the topic key (as infra/params.cjs checked them) in,
 * CloudFormation values out.
 */

const { ref, arnOf } = require('./shared.cjs');

/** The actions Lambda performs with a VPC function's role to attach it to the VPC (AWSLambdaENIManagementAccess). */
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
/**
 * Item actions on the incident table; Scan for the outbox (notifications still owed, across all targets). The
 * state change and its incident history item are one TransactWriteItems, whose Puts IAM checks as PutItem.
 */
const INCIDENT_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'];
/** The probe function's ARN as Lambda puts it in lambda:SourceFunctionArn (osls names it <stack>-probe). */
const PROBE_FUNCTION_ARN = {
  'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-probe',
};
/** What a publisher needs on a customer managed key to publish to a topic encrypted with it. */
const TOPIC_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/**
 * The probe role's statements. Always: assume the configured target roles (the only resources of its
 * sts:AssumeRole), write its own log, attach to the VPC. In direct mode also what the probe then calls
 * itself: PutMetricData (namespace-bound), Publish on the alert topic, the incident table's item actions,
 * and the topic key when the topic is encrypted.
 *
 * Two statements need Resource "*" because AWS offers nothing narrower:
 * - cloudwatch:PutMetricData has no resource type; the cloudwatch:namespace condition is the scope.
 * - the ENI actions: Lambda creates and deletes the function's network interfaces with this role, and
 *   ec2:Describe* has no resource-level permissions (the managed AWSLambdaENIManagementAccess policy
 *   grants the same six actions on "*"). AWSLambdaVPCAccessExecutionRole is not used: it adds logs
 *   actions on every log group.
 */
function probePolicyStatements({ targets, namespace, delivery, keyArn }) {
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
    // Lambda attaches the function with these actions from outside the function, without the source function
    // ARN; a call from the function's own code (which parses what servers send) carries it and is denied.
    {
      Sid: 'DenyVpcActionsToFunctionCode',
      Effect: 'Deny',
      Action: ENI_ACTIONS,
      Resource: '*',
      Condition: { ArnEquals: { 'lambda:SourceFunctionArn': PROBE_FUNCTION_ARN } },
    },
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
}

/**
 * The notifier role's statements: its own log, the incident table's items, Publish, the topic key if any,
 * and SendMessage to its on-failure queue: Lambda delivers a failed asynchronous event to the destination
 * with the function's own role.
 */
function notifierPolicyStatements({ keyArn }) {
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
}

/**
 * The roles the topic policy lets publish. The probe only in direct mode: within one account a resource
 * policy alone grants access, so listing the probe in log mode would undo its least privilege.
 */
const topicPublisherRoleArns = (delivery) =>
  delivery === 'direct' ? [arnOf('NotifierRole'), arnOf('ProbeRole')] : [arnOf('NotifierRole')];

/**
 * AlertTopic's properties: encrypted when kmsKeyId is set. The key policy must then let
 * cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*), or the alarms cannot publish.
 */
const alertTopicProperties = (keyArn) => ({
  DisplayName: 'CodeCommit canary',
  ...(keyArn ? { KmsMasterKeyId: keyArn } : {}),
});

/** The optional email subscription to the alert topic (confirmed by the recipient): a resources fragment. */
const alertEmailSubscription = (email) =>
  email
    ? {
        Resources: {
          AlertEmailSubscription: {
            Type: 'AWS::SNS::Subscription',
            Properties: { TopicArn: ref('AlertTopic'), Protocol: 'email', Endpoint: email },
          },
        },
      }
    : {};

module.exports = {
  ENI_ACTIONS,
  INCIDENT_TABLE_ACTIONS,
  PROBE_FUNCTION_ARN,
  probePolicyStatements,
  notifierPolicyStatements,
  topicPublisherRoleArns,
  alertTopicProperties,
  alertEmailSubscription,
};
