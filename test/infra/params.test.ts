import { describe, expect, it } from 'vitest';
import { params, shared } from './modules.ts';

/** infra/params.cjs: every deploy parameter, checked, and refused with a message that names it and the fix. */

const OPS_TOPIC_EXAMPLE = 'arn:aws:sns:ap-northeast-1:111111111111:oncall-ops';

describe('delivery and schedule', () => {
  it('accepts only the two delivery modes', () => {
    expect(params.parseDelivery('log')).toBe('log');
    expect(params.parseDelivery('direct')).toBe('direct');
    for (const bad of ['', 'sns', 'LOG']) {
      expect(() => params.parseDelivery(bad)).toThrow(
        `param delivery: expected "log" (the notifier sends alerts from the probe's log, the default) or "direct" (the probe calls CloudWatch, SNS and DynamoDB itself), got "${bad}"`,
      );
    }
  });

  it('derives the schedule period from rate() in minutes, hours and days', () => {
    for (const [rate, periodSeconds] of [
      ['rate(1 minute)', 60],
      ['rate(5 minutes)', 300],
      ['rate(1 hour)', 3600],
      ['rate(12 hours)', 43_200],
      ['rate(1 day)', 86_400],
      ['rate(2 days)', 172_800],
    ] as const) {
      expect(params.parseSchedule(rate)).toEqual({ rate, periodSeconds });
    }
  });

  it('refuses cron() (no period to derive the alarms from) and rates EventBridge refuses', () => {
    for (const bad of ['cron(* * * * ? *)', '', 'rate(1  minute)', 'rate(5 seconds)']) {
      expect(() => params.parseSchedule(bad)).toThrow(`expected a rate() expression like rate(1 minute)`);
    }
    for (const [bad, unit] of [
      ['rate(1 minutes)', 'minute'],
      ['rate(2 minute)', 'minute'],
      ['rate(0 minutes)', 'minute'],
      ['rate(1 days)', 'day'],
    ] as const) {
      expect(() => params.parseSchedule(bad)).toThrow(
        `param schedule: EventBridge accepts rate(1 ${unit}) and rate(<n> ${unit}s) for n > 1, got "${bad}"`,
      );
    }
  });
});

describe('booleans and id lists', () => {
  it('reads true and false in any case, and unset as false', () => {
    expect(params.parseBoolean('pageOnTargetAlarms', 'TRUE')).toBe(true);
    expect(params.parseBoolean('pageOnTargetAlarms', 'False')).toBe(false);
    expect(params.parseBoolean('pageOnTargetAlarms', '')).toBe(false);
    expect(() => params.parseBoolean('createVpcEndpoints', 'Yes')).toThrow(
      'param createVpcEndpoints: expected true or false, got "yes"',
    );
  });

  it('requires the probe’s subnets and security groups, trimmed, empty items dropped', () => {
    expect(
      params.parseProbeVpc(' subnet-0123456789abcdef0 ,, subnet-0fedcba9876543210', 'sg-0123456789abcdef0,'),
    ).toEqual({
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(() => params.parseProbeVpc('subnet-0123456789abcdef0', '')).toThrow(
      /^params subnetIds and securityGroupIds are required: .*--param="securityGroupIds=sg-ccc"/,
    );
    expect(() => params.parseProbeVpc('', 'sg-0123456789abcdef0')).toThrow(
      /subnetIds and securityGroupIds are required/,
    );
  });

  it('names every malformed id, and checks the subnets first', () => {
    expect(() => params.parseProbeVpc('subnet-x,subnet-0123456789abcdef0,vpc-1', 'sg-y')).toThrow(
      'param subnetIds: "subnet-x", "vpc-1" not like subnet-0123456789abcdef0; expected a comma-separated list',
    );
    expect(() => params.parseProbeVpc('subnet-0123456789abcdef0', 'sg-y')).toThrow(
      'param securityGroupIds: "sg-y" not like sg-0123456789abcdef0',
    );
  });

  it('needs exactly one vpcId, and route tables for the DynamoDB gateway endpoint', () => {
    expect(params.parseVpcId('vpc-0123456789abcdef0')).toBe('vpc-0123456789abcdef0');
    for (const bad of ['', 'vpc-0123456789abcdef0,vpc-0fedcba9876543210']) {
      expect(() => params.parseVpcId(bad)).toThrow(
        `param vpcId: createVpcEndpoints=true needs the probe's VPC; pass --param="vpcId=vpc-0123456789abcdef0" or set params.<stage>.vpcId in serverless.yml`,
      );
    }
    expect(() => params.parseVpcId('vpc-x')).toThrow('param vpcId: "vpc-x" not like vpc-0123456789abcdef0');
    expect(params.parseRouteTableIds('rtb-0123456789abcdef0, rtb-0fedcba9876543210')).toEqual([
      'rtb-0123456789abcdef0',
      'rtb-0fedcba9876543210',
    ]);
    expect(() => params.parseRouteTableIds('')).toThrow(
      /^param routeTableIds: createVpcEndpoints=true with delivery=direct adds a DynamoDB gateway endpoint .*--param="routeTableIds=rtb-aaa,rtb-bbb"/,
    );
  });
});

describe('the alert topic’s key and subscribers', () => {
  it('takes a KMS key id or key ARN, as an ARN IAM can scope to', () => {
    expect(params.parseTopicKeyArn('')).toBeNull();
    expect(params.parseTopicKeyArn('1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    });
    expect(params.parseTopicKeyArn('mrk-0123456789abcdef0123456789abcdef')).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/mrk-0123456789abcdef0123456789abcdef`,
    });
    for (const arn of [
      'arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws-cn:kms:cn-north-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef',
    ]) {
      expect(params.parseTopicKeyArn(arn)).toBe(arn);
    }
  });

  it('refuses a KMS alias, which cannot scope the functions’ key permissions', () => {
    for (const bad of ['alias/aws/sns', 'arn:aws:kms:ap-northeast-1:111111111111:alias/ops', '1234abcd']) {
      expect(() => params.parseTopicKeyArn(bad)).toThrow(
        `param kmsKeyId: expected a key id (1234abcd-12ab-34cd-56ef-1234567890ab) or key ARN, got "${bad}" (an alias cannot scope the functions' kms:GenerateDataKey and kms:Decrypt permissions)`,
      );
    }
  });

  it('subscribes an email address, or none', () => {
    expect(params.parseAlertEmail('')).toBeNull();
    expect(params.parseAlertEmail('oncall@example.com')).toBe('oncall@example.com');
    expect(() => params.parseAlertEmail('oncall')).toThrow('param alertEmail: expected an email address, got "oncall"');
  });
});

describe('opsTopicArn', () => {
  it('accepts a standard SNS topic ARN in any partition, with its Region', () => {
    expect(params.parseOpsTopicArn('')).toBeNull();
    for (const [arn, region] of [
      [OPS_TOPIC_EXAMPLE, 'ap-northeast-1'],
      ['arn:aws-cn:sns:cn-north-1:111111111111:ops', 'cn-north-1'],
      ['arn:aws-us-gov:sns:us-gov-west-1:111111111111:ops_2', 'us-gov-west-1'],
      ['arn:aws-iso-b:sns:us-isob-east-1:111111111111:ops-3', 'us-isob-east-1'],
    ] as const) {
      expect(params.parseOpsTopicArn(arn)).toEqual({ arn, region });
      expect(params.opsTopicInRegion({ arn, region }, region)).toBe(arn);
    }
  });

  it('refuses what is not an SNS topic ARN, naming the parameter and an example', () => {
    for (const bad of [
      'oncall-ops',
      'arn:aws:sns:ap-northeast-1:oncall-ops',
      'arn:aws:sqs:ap-northeast-1:111111111111:oncall-ops',
      'arn:aws:sns:ap-northeast-1:1111:oncall-ops',
      'arn:aws:sns:ap-northeast-1:111111111111:oncall ops',
    ]) {
      expect(() => params.parseOpsTopicArn(bad)).toThrow(
        `param opsTopicArn: expected the ARN of an SNS topic like ${OPS_TOPIC_EXAMPLE}, got "${bad}" (the self-monitoring alarms notify it besides the alert topic; leave it empty for none)`,
      );
    }
  });

  it('refuses a FIFO topic and a topic outside the stack’s Region, which alarms cannot notify', () => {
    expect(() => params.parseOpsTopicArn('arn:aws:sns:ap-northeast-1:111111111111:ops.fifo')).toThrow(
      'param opsTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:ops.fifo" is a FIFO topic; CloudWatch alarms can only notify standard topics',
    );
    const elsewhere = params.parseOpsTopicArn('arn:aws:sns:us-east-1:111111111111:ops');
    expect(() => params.opsTopicInRegion(elsewhere as { arn: string; region: string }, 'ap-northeast-1')).toThrow(
      'param opsTopicArn: the topic is in us-east-1 but the stack deploys to ap-northeast-1; CloudWatch alarms notify topics in their own Region only, so use a topic in ap-northeast-1',
    );
  });
});

describe('reading parameters', () => {
  it('reads param:<name> as trimmed text, unset as empty, YAML booleans as text', async () => {
    const values: Record<string, unknown> = { delivery: ' direct ', pageOnTargetAlarms: false };
    const asked: string[] = [];
    const resolveVariable = async (variable: string) => {
      asked.push(variable);
      return values[/^param:(\w+), null$/.exec(variable)?.[1] ?? ''];
    };
    expect(await params.readParam(resolveVariable, 'delivery')).toBe('direct');
    expect(await params.readParam(resolveVariable, 'pageOnTargetAlarms')).toBe('false');
    expect(await params.readParam(resolveVariable, 'alertEmail')).toBe('');
    expect(asked).toEqual(['param:delivery, null', 'param:pageOnTargetAlarms, null', 'param:alertEmail, null']);
  });

  it('checks a parameter only when it is asked for', async () => {
    const reader = params.paramReader(async (variable) => (variable === 'param:delivery, null' ? 'direct' : 'bad'));
    expect(await reader.delivery?.()).toBe('direct');
    await expect(reader.schedule?.()).rejects.toThrow('param schedule: expected a rate() expression');
  });

  it('reports a problem as one line: the CLI prints the error’s stack, which is only the message', () => {
    const error = new shared.CanaryDeployError('param x: expected y');
    expect(error.stack).toBe('CanaryDeployError: param x: expected y');
    expect(error).toBeInstanceOf(Error);
  });
});
