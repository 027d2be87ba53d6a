import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { probeTimeoutSeconds } from '../../lib/run/budget.ts';
import { type Fragment, fromConfig } from './modules.ts';

/**
 * infra/from-config.cjs, the entry points serverless.yml calls: each reads only the inputs it needs, in an
 * order that decides which problem is reported first, and hands them to the file that does the job.
 */

const EXAMPLE_CONFIG = 'examples/canary.config.json';
const VPC = { subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' };
const MISSING_CONFIG = 'nope.json: cannot read the canary config (ENOENT)';

/** Calls one export with `${param:...}` values (and `${opt:region}` as `--region`); nothing else is expected. */
const resolveWith = (exportName: string, params: Record<string, unknown>, options: { region?: string } = {}) => {
  const resolve = fromConfig[exportName];
  if (!resolve) throw new Error(`no export ${exportName}`);
  return resolve({
    resolveVariable: async (variable) => {
      if (variable === 'opt:region, null') return options.region ?? null;
      const name = /^param:(\w+), null$/.exec(variable)?.[1];
      if (!name) throw new Error(`unexpected variable ${variable}`);
      return params[name] ?? null;
    },
  });
};

it('exports exactly the resolvers serverless.yml refers to', () => {
  const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
  const used = [...yml.matchAll(/\$\{file\(\.\/infra\/from-config\.cjs\):(\w+)\}/g)].map((m) => m[1]);
  expect(Object.keys(fromConfig).sort()).toEqual([...new Set(used)].sort());
});

it('reads the config only in the resolvers that need it', async () => {
  const params = {
    ...VPC,
    configPath: 'nope.json',
    delivery: 'log',
    schedule: 'rate(1 minute)',
    createVpcEndpoints: 'true',
    vpcId: 'vpc-0123456789abcdef0',
  };
  const needsConfig = [
    'region',
    'configJsonLiteral',
    'probeTimeout',
    'probePolicyStatements',
    'dashboardBody',
    'targetAlarms',
    'selfMonitoringAlarms',
    'vpcEndpointPolicies',
    // The endpoint service names follow the stack Region's partition (`cn.com.amazonaws.` for some in China).
    'vpcEndpoints',
  ];
  for (const name of Object.keys(fromConfig)) {
    const outcome = await resolveWith(name, params).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    expect([name, outcome]).toEqual([
      name,
      needsConfig.includes(name) ? expect.stringContaining(MISSING_CONFIG) : 'resolved',
    ]);
  }
});

describe('the order of checks: the first problem is the one reported', () => {
  const config = { configPath: EXAMPLE_CONFIG };

  it('self-monitoring alarms: the config, then the schedule and its alarm window, then opsTopicArn', async () => {
    const badOps = { opsTopicArn: 'oncall-ops' };
    await expect(
      resolveWith('selfMonitoringAlarms', { configPath: 'nope.json', schedule: 'x', ...badOps }),
    ).rejects.toThrow(MISSING_CONFIG);
    await expect(resolveWith('selfMonitoringAlarms', { ...config, schedule: 'x', ...badOps })).rejects.toThrow(
      'param schedule: expected a rate() expression',
    );
    await expect(
      resolveWith('selfMonitoringAlarms', { ...config, schedule: 'rate(1 day)', ...badOps }),
    ).rejects.toThrow("param schedule: 2 periods of 86400 s exceed CloudWatch's one-day alarm window");
    await expect(
      resolveWith('selfMonitoringAlarms', { ...config, schedule: 'rate(1 hour)', ...badOps }),
    ).rejects.toThrow('param opsTopicArn: expected the ARN of an SNS topic');
  });

  it('target alarms: the one-day window counts the config’s failuresBeforeAlert', async () => {
    await expect(resolveWith('targetAlarms', { ...config, schedule: 'rate(1 day)' })).rejects.toThrow(
      'param schedule: 2 periods of 86400 s exceed',
    );
    await expect(
      resolveWith('targetAlarms', { ...config, schedule: 'rate(12 hours)', pageOnTargetAlarms: 'maybe' }),
    ).rejects.toThrow('param pageOnTargetAlarms: expected true or false, got "maybe"');
  });

  it('VPC endpoints: nothing else is read unless createVpcEndpoints is true; route tables in direct mode only', async () => {
    const bad = { subnetIds: 'x', vpcId: 'y', routeTableIds: 'z', delivery: 'sns' };
    await expect(resolveWith('vpcEndpoints', { ...bad, createVpcEndpoints: false })).resolves.toEqual({});
    const endpoints = {
      ...VPC,
      configPath: EXAMPLE_CONFIG,
      createVpcEndpoints: 'true',
      vpcId: 'vpc-0123456789abcdef0',
      routeTableIds: 'z',
    };
    const logMode = (await resolveWith('vpcEndpoints', { ...endpoints, delivery: 'log' })) as Fragment;
    expect(Object.keys(logMode.Resources ?? {})).toEqual([
      'VpcEndpointSecurityGroup',
      'StsVpcEndpoint',
      'GitCodeCommitVpcEndpoint',
    ]);
    await expect(resolveWith('vpcEndpoints', { ...endpoints, delivery: 'direct' })).rejects.toThrow(
      'param routeTableIds: "z" not like rtb-0123456789abcdef0',
    );
    await expect(resolveWith('vpcEndpoints', { ...endpoints, vpcId: '', delivery: 'direct' })).rejects.toThrow(
      "param vpcId: createVpcEndpoints=true needs the probe's VPC",
    );
  });
});

describe('wiring', () => {
  const config = { configPath: EXAMPLE_CONFIG, schedule: 'rate(1 minute)' };
  const actionsOf = async (params: Record<string, unknown>, options: { region?: string } = {}) => {
    const { Resources } = (await resolveWith('selfMonitoringAlarms', { ...config, ...params }, options)) as Fragment;
    return Resources?.ProbeNotRunningAlarm?.Properties.AlarmActions;
  };

  it('checks opsTopicArn against the stack’s Region: `--region` when given, else the config’s', async () => {
    const cnTopic = 'arn:aws-cn:sns:cn-north-1:111111111111:ops';
    await expect(actionsOf({ opsTopicArn: cnTopic }, { region: 'cn-north-1' })).resolves.toEqual([
      { Ref: 'AlertTopic' },
      cnTopic,
    ]);
    await expect(actionsOf({ opsTopicArn: cnTopic })).rejects.toThrow(
      'param opsTopicArn: the topic is in cn-north-1 but the stack deploys to ap-northeast-1',
    );
    await expect(actionsOf({ opsTopicArn: '' })).resolves.toEqual([{ Ref: 'AlertTopic' }]);
  });

  it('packages the probe timeout lib/run/budget.ts gives the delivery mode', async () => {
    const parsed = parseConfig(JSON.parse(readFileSync(new URL(`../../${EXAMPLE_CONFIG}`, import.meta.url), 'utf8')));
    for (const delivery of ['log', 'direct'] as const) {
      await expect(resolveWith('probeTimeout', { ...config, delivery })).resolves.toBe(
        probeTimeoutSeconds(parsed, delivery),
      );
    }
  });

  it('reads the YAML default `pageOnTargetAlarms: false` as false', async () => {
    const { Resources } = (await resolveWith('targetAlarms', { ...config, pageOnTargetAlarms: false })) as Fragment;
    expect(Object.values(Resources ?? {}).some((alarm) => 'AlarmActions' in alarm.Properties)).toBe(false);
  });
});
