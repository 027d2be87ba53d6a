import { describe, expect, it } from 'vitest';
import { type Delivery, iam, type KeyArn, type Statement, type Target } from './modules.ts';

/** infra/iam.cjs: what each function's role may do per delivery mode, and who may publish to the alert topic. */

const TARGETS: Target[] = [
  { name: 'b', roleArn: 'arn:aws:iam::222222222222:role/Reader' },
  { name: 'a', roleArn: 'arn:aws:iam::111111111111:role/SwitchRole' },
  { name: 'c', roleArn: 'arn:aws:iam::222222222222:role/Reader' },
];
const KEY: KeyArn = { 'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/k` };
const MODES: Delivery[] = ['log', 'direct'];

const probeStatements = (delivery: Delivery, keyArn: KeyArn = null) =>
  iam.probePolicyStatements({ targets: TARGETS, namespace: 'Canary', delivery, keyArn });
const sids = (statements: Statement[]) => statements.map((s) => s.Sid);
const actions = (statement: Statement) => [statement.Action].flat();

describe('the probe’s role', () => {
  it('log mode: assume the target roles, write its log, attach to the VPC; the topic key unused', () => {
    expect(sids(probeStatements('log', KEY))).toEqual([
      'AssumeTargetRoles',
      'WriteOwnLog',
      'AttachToVpc',
      'DenyVpcActionsToFunctionCode',
    ]);
  });

  it('denies the VPC actions to the function’s own code: the calls that carry its lambda:SourceFunctionArn', () => {
    for (const delivery of MODES) {
      const deny = probeStatements(delivery).find((s) => s.Effect === 'Deny');
      expect(deny).toEqual({
        Sid: 'DenyVpcActionsToFunctionCode',
        Effect: 'Deny',
        Action: iam.ENI_ACTIONS,
        Resource: '*',
        Condition: { ArnEquals: { 'lambda:SourceFunctionArn': iam.PROBE_FUNCTION_ARN } },
      });
      // The same actions Lambda is allowed to use for attaching the function.
      expect(probeStatements(delivery).find((s) => s.Sid === 'AttachToVpc')?.Action).toEqual(iam.ENI_ACTIONS);
    }
    expect(iam.PROBE_FUNCTION_ARN).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
      'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-probe',
    });
  });

  it('assumes exactly the configured roles, each once, in a stable order', () => {
    expect(probeStatements('log')[0]).toEqual({
      Sid: 'AssumeTargetRoles',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: ['arn:aws:iam::111111111111:role/SwitchRole', 'arn:aws:iam::222222222222:role/Reader'],
    });
  });

  it('direct mode: PutMetricData in its namespace, Publish, the table’s items, and the key when the topic has one', () => {
    const statements = probeStatements('direct', KEY);
    expect(sids(statements)).toEqual([
      'AssumeTargetRoles',
      'WriteOwnLog',
      'AttachToVpc',
      'DenyVpcActionsToFunctionCode',
      'PutMetricDataInOwnNamespace',
      'PublishAlerts',
      'KeepIncidentState',
      'UseTopicKey',
    ]);
    expect(statements[4]?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Canary' } });
    expect(statements.slice(5).map((s) => [actions(s), s.Resource])).toEqual([
      [['sns:Publish'], { Ref: 'AlertTopic' }],
      [iam.INCIDENT_TABLE_ACTIONS, { 'Fn::GetAtt': ['IncidentTable', 'Arn'] }],
      [['kms:GenerateDataKey', 'kms:Decrypt'], KEY],
    ]);
    expect(sids(probeStatements('direct'))).not.toContain('UseTopicKey');
  });
});

describe('the notifier’s role', () => {
  it('its log, the table’s items, Publish, its on-failure queue, and the topic key when set', () => {
    expect(iam.notifierPolicyStatements({ keyArn: null }).map((s) => [s.Sid, actions(s), s.Resource])).toEqual([
      ['WriteOwnLog', ['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': ['NotifyLogGroup', 'Arn'] }],
      ['KeepIncidentState', iam.INCIDENT_TABLE_ACTIONS, { 'Fn::GetAtt': ['IncidentTable', 'Arn'] }],
      ['PublishAlerts', ['sns:Publish'], { Ref: 'AlertTopic' }],
      ['KeepFailedEvents', ['sqs:SendMessage'], { 'Fn::GetAtt': ['NotifierFailedEventsQueue', 'Arn'] }],
    ]);
    expect(iam.notifierPolicyStatements({ keyArn: KEY }).at(-1)).toEqual({
      Sid: 'UseTopicKey',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: KEY,
    });
  });
});

it('allows no wildcard action in any mode; "*" resources only where AWS has nothing narrower', () => {
  for (const delivery of MODES) {
    const all = [...probeStatements(delivery, KEY), ...iam.notifierPolicyStatements({ keyArn: KEY })];
    expect(all.flatMap(actions).filter((action) => action.includes('*'))).toEqual([]);
    expect(all.filter((s) => s.Resource === '*' && s.Effect === 'Allow').map((s) => s.Sid)).toEqual(
      delivery === 'direct' ? ['AttachToVpc', 'PutMetricDataInOwnNamespace'] : ['AttachToVpc'],
    );
  }
});

describe('the alert topic', () => {
  it('lets the probe publish only in direct mode', () => {
    expect(iam.topicPublisherRoleArns('log')).toEqual([{ 'Fn::GetAtt': ['NotifierRole', 'Arn'] }]);
    expect(iam.topicPublisherRoleArns('direct')).toEqual([
      { 'Fn::GetAtt': ['NotifierRole', 'Arn'] },
      { 'Fn::GetAtt': ['ProbeRole', 'Arn'] },
    ]);
  });

  it('is encrypted only with a key, and mails only an address that was given', () => {
    expect(iam.alertTopicProperties(null)).toEqual({ DisplayName: 'CodeCommit canary' });
    expect(iam.alertTopicProperties(KEY)).toEqual({ DisplayName: 'CodeCommit canary', KmsMasterKeyId: KEY });
    expect(iam.alertEmailSubscription(null)).toEqual({});
    expect(iam.alertEmailSubscription('oncall@example.com')).toEqual({
      Resources: {
        AlertEmailSubscription: {
          Type: 'AWS::SNS::Subscription',
          Properties: { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
        },
      },
    });
  });
});
