import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE } from '../lib/alerting/history.ts';
import { parseConfig } from '../lib/config/config.ts';
import { METRIC_CATALOGUE } from '../lib/metrics/catalogue.ts';
import { FINDINGS_RECORD_TYPE, RESULT_RECORD_TYPE } from '../lib/metrics/log-records.ts';
import { probeTimeoutSeconds } from '../lib/run/budget.ts';
// @ts-expect-error: a plain .mjs helper shared with the benchmarks
import { ensureNode24 } from '../scripts/node24.mjs';
import { SELF_MONITORING_PAGES } from './infra/modules.ts';
import { cfnLint } from './support/cfn-lint.ts';

/**
 * `serverless package` (osls) of the real serverless.yml, offline and without AWS credentials, twice:
 * the defaults (log delivery) and every option switched on (direct delivery, VPC endpoints, KMS, email,
 * paging target alarms, a second topic for the self-monitoring alarms, a 5-minute schedule, 3 samples per
 * run). Then cfn-lint, and assertions on what the templates grant and how the alert path watches itself.
 * The end-to-end check: infra/'s parts and every parameter message are unit-tested in test/infra/.
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVERLESS = join(ROOT, 'node_modules/osls/bin/serverless.js');
const EXAMPLE_CONFIG = 'examples/canary.config.json';
const example = JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8')) as {
  targets: { name: string; roleArn: string }[];
  metrics: { namespace: string };
};
const ROLE_ARNS = [...new Set(example.targets.map((t) => t.roleArn))].sort();
const TARGET_NAMES = example.targets.map((t) => t.name);
/** The outbox (lib) reads, writes and scans the incident table: the notifier always, the probe in direct mode. */
const INCIDENT_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'];
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const SECURITY_GROUPS = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
const KMS_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const OPS_TOPIC_ARN = 'arn:aws:sns:ap-northeast-1:333333333333:oncall-ops';
/** Emitted by the notifier per invocation (EMF, dimension Stack): the contract its alarms are built on. */
const NOTIFIER_METRICS = ['NotifierHeartbeat', 'NotificationsOwed'];
/** cfn-lint's bundled schemas predate CloudWatch alarm warm-up: the override adds exactly that property. */
const CFN_LINT_SPEC = join(ROOT, 'infra/cfn-lint-spec.json');
/** What osls itself generates and cfn-lint warns about: a DependsOn next to the GetAtt of the same role. */
const KNOWN_WARNINGS = [
  'W3005 Resources/ProbeLambdaFunction/DependsOn',
  'W3005 Resources/NotifyLambdaFunction/DependsOn',
];

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
}
interface Packaged {
  dir: string;
  template: Template;
  templateFile: string;
  seconds: number;
}

/** Only the CLI's own needs: no AWS_* variable, so nothing can reach AWS, and no metadata-endpoint probing. */
const cliEnv = (): NodeJS.ProcessEnv => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true' };
};

let workDir: string;
let logMode: Packaged;
let directMode: Packaged;
/** A China and a GovCloud region: the example config packaged there too. */
const PARTITION_REGIONS = [
  ['cn-north-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
] as const;
const partitionPackages = new Map<string, Packaged>();
/** The example config with `schedule.samplesPerRun: 3`: what direct mode is packaged with. */
let directConfigFile: string;

/** `serverless package --stage test` into `dir`; rejects (with the CLI's stdout and stderr) when it fails. */
const runPackage = (dir: string, params: Record<string, string>) =>
  run(
    process.execPath,
    [
      SERVERLESS,
      'package',
      '--stage',
      'test',
      '--package',
      dir,
      ...Object.entries({ configPath: EXAMPLE_CONFIG, ...params }).map(([key, value]) => `--param=${key}=${value}`),
    ],
    // osls prints a failed build and then never exits (esbuild's service stays up): hence the kill.
    { cwd: ROOT, env: cliEnv(), timeout: 45_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
  );

/** One `serverless package --stage test` into its own directory. Sequential: serverless-esbuild shares .esbuild/. */
async function slsPackage(name: string, params: Record<string, string>): Promise<Packaged> {
  const dir = join(workDir, name);
  const started = performance.now();
  await runPackage(dir, params);
  const templateFile = join(dir, 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Template;
  return { dir, template, templateFile, seconds: (performance.now() - started) / 1000 };
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'canary-sls-'));
  directConfigFile = join(workDir, 'direct.config.json');
  writeFileSync(directConfigFile, JSON.stringify({ ...example, schedule: { samplesPerRun: 3, intervalSeconds: 20 } }));
  const vpc = { subnetIds: SUBNETS.join(','), securityGroupIds: SECURITY_GROUPS.join(',') };
  logMode = await slsPackage('log', vpc);
  directMode = await slsPackage('direct', {
    ...vpc,
    configPath: directConfigFile,
    opsTopicArn: OPS_TOPIC_ARN,
    delivery: 'direct',
    createVpcEndpoints: 'true',
    vpcId: 'vpc-0123456789abcdef0',
    routeTableIds: 'rtb-0123456789abcdef0',
    kmsKeyId: KMS_KEY_ID,
    alertEmail: 'oncall@example.com',
    pageOnTargetAlarms: 'true',
    schedule: 'rate(5 minutes)',
  });
  // The example config moved to China and to GovCloud: partition-aware names, ARNs and console URLs.
  for (const [region, partition] of PARTITION_REGIONS) {
    const file = join(workDir, `${region}.config.json`);
    const targets = example.targets.map(
      ({ region: _, url, ...t }: { region?: string; url?: string; roleArn: string }) => ({
        ...t,
        ...(url ? { url: `codecommit://${url.split('://').at(-1)}` } : {}),
        roleArn: t.roleArn.replace('arn:aws:', `arn:${partition}:`),
      }),
    );
    writeFileSync(file, JSON.stringify({ ...example, region, targets }));
    partitionPackages.set(
      region,
      await slsPackage(region, {
        ...vpc,
        configPath: file,
        delivery: 'direct',
        createVpcEndpoints: 'true',
        vpcId: 'vpc-0123456789abcdef0',
        routeTableIds: 'rtb-0123456789abcdef0',
        privateDns: 'false',
        gitFipsEndpoint: String(partition === 'aws-us-gov'),
      }),
    );
  }
}, 300_000); // four packages, one after the other (up to 45 s each on a loaded machine)
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// --- helpers over a template ---------------------------------------------------------------------------

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const actionsOf = (statement: Statement): string[] => asList(statement.Action);
const resourcesOfType = (template: Template, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
const resource = (template: Template, logicalId: string): Resource => {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
};
const props = <T>(template: Template, logicalId: string, property: string): T =>
  resource(template, logicalId).Properties[property] as T;

/** The statements of one role's inline policies. */
function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = props<{ PolicyDocument: { Statement: Statement[] } }[]>(template, roleId, 'Policies');
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** Every statement of every policy in the template, with the resource it belongs to. */
function allStatements(template: Template): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  for (const [owner, { Type, Properties }] of Object.entries(template.Resources)) {
    const documents: unknown[] = [];
    if (Type === 'AWS::IAM::Role') {
      documents.push(Properties.AssumeRolePolicyDocument);
      for (const policy of asList(Properties.Policies as { PolicyDocument: unknown }[])) {
        documents.push(policy.PolicyDocument);
      }
    }
    if ('PolicyDocument' in Properties) documents.push(Properties.PolicyDocument);
    for (const document of documents) {
      for (const statement of asList((document as { Statement: Statement | Statement[] }).Statement)) {
        found.push({ owner, statement });
      }
    }
  }
  return found;
}

const lambda = (template: Template, fn: 'Probe' | 'Notify') => resource(template, `${fn}LambdaFunction`).Properties;
const environment = (template: Template, fn: 'Probe' | 'Notify') =>
  (lambda(template, fn).Environment as { Variables: Record<string, unknown> }).Variables;

/** (namespace, metric, dimension names) of every alarm and dashboard graph. */
function metricsUsed(template: Template): { namespace: string; name: string; dimensions: string[] }[] {
  const used: { namespace: string; name: string; dimensions: string[] }[] = [];
  type Metric = { Namespace: string; MetricName: string; Dimensions: { Name: string }[] };
  for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
    // A metric-math alarm lists its metrics; a plain one names its one metric.
    const metrics = alarm.Properties.Metrics
      ? (alarm.Properties.Metrics as { MetricStat?: { Metric: Metric } }[]).flatMap((m) =>
          m.MetricStat ? [m.MetricStat.Metric] : [],
        )
      : [alarm.Properties as unknown as Metric];
    for (const metric of metrics) {
      used.push({
        namespace: metric.Namespace,
        name: metric.MetricName,
        dimensions: metric.Dimensions.map((d) => d.Name),
      });
    }
  }
  const body = props<{ 'Fn::Sub': string }>(template, 'Dashboard', 'DashboardBody')['Fn::Sub'];
  const { widgets } = JSON.parse(body) as { widgets: { type: string; properties: { metrics?: unknown[][] } }[] };
  for (const widget of widgets) {
    for (const metric of widget.properties.metrics ?? []) {
      const plain = metric.filter((part): part is string => typeof part === 'string');
      used.push({
        namespace: plain[0] as string,
        name: plain[1] as string,
        dimensions: plain.slice(2).filter((_, index) => index % 2 === 0),
      });
    }
  }
  return used;
}

async function extractZip(zipFile: string): Promise<string> {
  const dir = mkdtempSync(join(workDir, 'zip-'));
  await run('unzip', ['-q', zipFile, '-d', dir]);
  return dir;
}

// --- the package itself ----------------------------------------------------------------------------------

describe('serverless package (osls, offline, no AWS credentials)', () => {
  it('produces a template cfn-lint finds no errors in, and only the known osls warnings', async () => {
    // Act: the JSON report is the verdict; a cfn-lint that crashed or wrote no report rejects.
    const matches = await cfnLint([logMode.templateFile, directMode.templateFile], ['--override-spec', CFN_LINT_SPEC]);

    // Assess
    const where = (m: (typeof matches)[number]) => `${m.Rule.Id} ${m.Location.Path.slice(0, 3).join('/')}`;
    expect(matches.filter((m) => m.Level === 'Error').map((m) => `${where(m)}: ${m.Message}`)).toEqual([]);
    expect(matches.filter((m) => !KNOWN_WARNINGS.includes(where(m))).map((m) => `${where(m)}: ${m.Message}`)).toEqual(
      [],
    );
  });

  it('lints with an override that only teaches cfn-lint the alarm warm-up property (newer than its schemas)', () => {
    const spec = JSON.parse(readFileSync(CFN_LINT_SPEC, 'utf8')) as {
      Patches: Record<string, { op: string; path: string }[]>;
    };
    expect(Object.keys(spec)).toEqual(['Patches']);
    expect(Object.keys(spec.Patches)).toEqual(['AWS::CloudWatch::Alarm']);
    expect(spec.Patches['AWS::CloudWatch::Alarm']?.map(({ op, path }) => `${op} ${path}`)).toEqual([
      'add /definitions/WarmUpConfiguration',
      'add /properties/WarmUpConfiguration',
    ]);
  });

  it('refuses a bad opsTopicArn: the package exits non-zero with a message naming the parameter', async () => {
    // Act
    const failed = await runPackage(join(workDir, 'bad-ops-topic'), {
      subnetIds: SUBNETS[0] as string,
      securityGroupIds: SECURITY_GROUPS[0] as string,
      opsTopicArn: 'arn:aws:sns:ap-northeast-1:oncall-ops',
    }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: unknown; stdout?: string; stderr?: string }) => ({
        code: error.code,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );

    // Assess: a clean exit code (not the timeout's kill) and the one-line message.
    expect(typeof failed.code === 'number' && failed.code > 0).toBe(true);
    expect(failed.output).toContain(
      'param opsTopicArn: expected the ARN of an SNS topic like arn:aws:sns:ap-northeast-1:111111111111:oncall-ops, got "arn:aws:sns:ap-northeast-1:oncall-ops"',
    );
  });

  it('packages quickly enough to run on every test run', () => {
    expect(logMode.seconds + directMode.seconds).toBeLessThan(40);
  });

  it('runs both functions on nodejs24.x, arm64', () => {
    for (const fn of ['Probe', 'Notify'] as const) {
      expect(lambda(logMode.template, fn)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    }
  });

  it('bundles the config into the probe: the zip holds it, as an ES module Node 24 loads like Lambda does', async () => {
    // Prepare
    // Bundled as lib/config/config.ts validated it: the example's values with every default applied.
    const bundledConfig = JSON.stringify(parseConfig(JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8'))));
    const dir = await extractZip(join(logMode.dir, 'probe.zip'));

    // Act: import the handler the way the runtime does, with syntax detection off so only package.json decides.
    const node24 = ensureNode24() as string;
    const loaded = await run(
      node24,
      [
        '--no-experimental-detect-module',
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(dir, 'handlers/probe.js'))}); process.stdout.write(typeof m.handler);`,
      ],
      { env: { PATH: process.env.PATH, CANARY_DELIVERY: 'log', CANARY_STACK: 'codecommit-canary-test' } },
    );

    // Assess
    expect(readFileSync(join(dir, 'handlers/probe.js'), 'utf8')).toContain(bundledConfig);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type).toBe('module');
    expect(loaded.stdout).toBe('function');
    expect(lambda(logMode.template, 'Probe').Handler).toBe('handlers/probe.handler');
  });

  it('ships only the environment’s credential provider in both functions: no SSO, INI, process or metadata chain', async () => {
    for (const fn of ['probe', 'notify']) {
      const dir = await extractZip(join(logMode.dir, `${fn}.zip`));
      const bundle = readFileSync(join(dir, `handlers/${fn}.js`), 'utf8');
      // Strings of the providers the default chain holds: fromSSO, credential_process, web identity, containers.
      for (const marker of ['fromSSO', 'credential_process', 'fromTokenFile', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
        expect([fn, marker, bundle.includes(marker)]).toEqual([fn, marker, false]);
      }
      expect(bundle).toContain('AWS_SECRET_ACCESS_KEY');
    }
  });

  it('bundles the config into the notifier too (it needs the alert settings)', async () => {
    const dir = await extractZip(join(logMode.dir, 'notify.zip'));
    const bundle = readFileSync(join(dir, 'handlers/notify.js'), 'utf8');
    expect(bundle).toContain(JSON.stringify(parseConfig(JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8')))));
  });

  it('ships an example config the probe itself accepts', () => {
    expect(() =>
      parseConfig(JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8')), EXAMPLE_CONFIG),
    ).not.toThrow();
  });
});

// --- least privilege ---------------------------------------------------------------------------------

describe('IAM: least privilege per function', () => {
  it('lets the probe assume exactly the config’s target roles, and nothing else may', () => {
    for (const { template } of [logMode, directMode]) {
      const assume = allStatements(template).filter(({ statement }) =>
        actionsOf(statement).some((action) => action.startsWith('sts:')),
      );
      const outsideTrustPolicies = assume.filter(({ statement }) => statement.Principal === undefined);
      expect(outsideTrustPolicies).toEqual([
        {
          owner: 'ProbeRole',
          statement: expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE_ARNS }),
        },
      ]);
    }
  });

  it('allows no wildcard action; "*" resources only where AWS has nothing narrower', () => {
    for (const { template } of [logMode, directMode]) {
      const allows = allStatements(template).filter(({ statement }) => statement.Effect === 'Allow');
      expect(allows.flatMap(({ statement }) => actionsOf(statement)).filter((a) => a.includes('*'))).toEqual([]);
      const starResources = allows
        .filter(({ statement }) => asList(statement.Resource).includes('*'))
        .map(({ owner, statement }) => `${owner}/${statement.Sid}`);
      const documented = [
        'ProbeRole/AttachToVpc',
        'ProbeRole/PutMetricDataInOwnNamespace',
        'MonitoringVpcEndpoint/ProbePutsMetricData',
      ];
      expect(starResources.filter((owner) => !documented.includes(owner))).toEqual([]);
    }
  });

  it('gives the VPC probe only the ENI actions Lambda needs to attach it', () => {
    const attach = roleStatements(logMode.template, 'ProbeRole').find((s) => s.Sid === 'AttachToVpc');
    expect(actionsOf(attach as Statement).sort()).toEqual([
      'ec2:AssignPrivateIpAddresses',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:UnassignPrivateIpAddresses',
    ]);
  });

  it('log mode: the probe can assume roles, write its log and attach to the VPC, nothing more', () => {
    const actions = roleStatements(logMode.template, 'ProbeRole').flatMap(actionsOf);
    expect(actions.filter((a) => !a.startsWith('ec2:'))).toEqual([
      'sts:AssumeRole',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(
      allStatements(logMode.template).some(({ statement }) =>
        actionsOf(statement).includes('cloudwatch:PutMetricData'),
      ),
    ).toBe(false);
  });

  it('direct mode: PutMetricData only under the namespace condition; Publish on the topic; items of the table', () => {
    const statements = roleStatements(directMode.template, 'ProbeRole');
    const putMetricData = allStatements(directMode.template).filter(
      ({ owner, statement }) => owner === 'ProbeRole' && actionsOf(statement).includes('cloudwatch:PutMetricData'),
    );
    expect(putMetricData).toEqual([
      {
        owner: 'ProbeRole',
        statement: {
          Sid: 'PutMetricDataInOwnNamespace',
          Effect: 'Allow',
          Action: 'cloudwatch:PutMetricData',
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': example.metrics.namespace } },
        },
      },
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: 'AlertTopic' } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: INCIDENT_TABLE_ACTIONS,
        Resource: { 'Fn::GetAtt': ['IncidentTable', 'Arn'] },
      }),
    );
  });

  it('the notifier: its log, the table’s items, Publish, its on-failure queue (and the topic key when set)', () => {
    const logOnly = roleStatements(logMode.template, 'NotifierRole');
    expect(logOnly.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': ['NotifyLogGroup', 'Arn'] }],
      [INCIDENT_TABLE_ACTIONS, { 'Fn::GetAtt': ['IncidentTable', 'Arn'] }],
      [['sns:Publish'], { Ref: 'AlertTopic' }],
      [['sqs:SendMessage'], { 'Fn::GetAtt': ['NotifierFailedEventsQueue', 'Arn'] }],
    ]);
    const withKey = roleStatements(directMode.template, 'NotifierRole').find((s) => s.Sid === 'UseTopicKey');
    expect(withKey?.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(JSON.stringify(withKey?.Resource)).toContain(`key/${KMS_KEY_ID}`);
  });

  it('the topic policy lets the probe publish only in direct mode, this stack’s alarms only, and only over TLS', () => {
    const publishers = (template: Template) => {
      const statements = props<{ Statement: Statement[] }>(template, 'AlertTopicPolicy', 'PolicyDocument').Statement;
      return statements.map((s) => ({ effect: s.Effect, principal: s.Principal, condition: s.Condition }));
    };
    const cloudWatch = {
      effect: 'Allow',
      principal: { Service: 'cloudwatch.amazonaws.com' },
      condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: {
          'aws:SourceArn': {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
            'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-*',
          },
        },
      },
    };
    const insecure = { effect: 'Deny', principal: '*', condition: { Bool: { 'aws:SecureTransport': 'false' } } };
    expect(publishers(logMode.template)).toEqual([
      { effect: 'Allow', principal: { AWS: [{ 'Fn::GetAtt': ['NotifierRole', 'Arn'] }] }, condition: undefined },
      cloudWatch,
      insecure,
    ]);
    // Every alarm that notifies the topic is named <stack>-…, so the SourceArn pattern admits all of them.
    for (const { template } of [logMode, directMode]) {
      const alarms = [
        ...resourcesOfType(template, 'AWS::CloudWatch::Alarm'),
        ...resourcesOfType(template, 'AWS::CloudWatch::CompositeAlarm'),
      ];
      expect(alarms.length).toBeGreaterThan(5);
      for (const [id, alarm] of alarms) {
        expect([id, JSON.stringify(alarm.Properties.AlarmName)]).toEqual([
          id,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
          expect.stringContaining('${AWS::StackName}-'),
        ]);
      }
    }
    expect(publishers(directMode.template)[0]?.principal).toEqual({
      AWS: [{ 'Fn::GetAtt': ['NotifierRole', 'Arn'] }, { 'Fn::GetAtt': ['ProbeRole', 'Arn'] }],
    });
  });

  it('gives each function its own role', () => {
    expect(lambda(logMode.template, 'Probe').Role).toEqual({ 'Fn::GetAtt': ['ProbeRole', 'Arn'] });
    expect(lambda(logMode.template, 'Notify').Role).toEqual({ 'Fn::GetAtt': ['NotifierRole', 'Arn'] });
    expect(resourcesOfType(logMode.template, 'AWS::IAM::Role').map(([id]) => id)).toEqual([
      'ProbeRole',
      'NotifierRole',
    ]);
  });
});

// --- what the code sends against what the template grants -------------------------------------------------

/** The IAM action each SDK command our code constructs needs (null: none, GetCallerIdentity needs no permission). */
const ACTION_OF_COMMAND: Record<string, string | null> = {
  AssumeRoleCommand: 'sts:AssumeRole',
  GetCallerIdentityCommand: null,
  PutMetricDataCommand: 'cloudwatch:PutMetricData',
  PublishCommand: 'sns:Publish',
  GetItemCommand: 'dynamodb:GetItem',
  PutItemCommand: 'dynamodb:PutItem',
  // IAM checks each Put inside a transaction as PutItem (DynamoDB developer guide, "Using IAM with DynamoDB
  // transactions"); the project's transactions hold Puts only (lib/alerting/versioned-table.ts).
  TransactWriteItemsCommand: 'dynamodb:PutItem',
  ScanCommand: 'dynamodb:Scan',
};
/** Granted for what Lambda or a service does with the role, not the code: logs shipping, VPC attach, the
 * on-failure destination, the topic key SNS uses on the publisher's behalf. */
const NOT_SENT_BY_CODE =
  /^(logs:CreateLogStream|logs:PutLogEvents|ec2:.*|sqs:SendMessage|kms:GenerateDataKey|kms:Decrypt)$/;
/** Commands the probe sends only with CANARY_DELIVERY=direct (handlers/probe.ts builds those sinks only then). */
const DIRECT_ONLY = [
  'cloudwatch:PutMetricData',
  'sns:Publish',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Scan',
];

/** The IAM actions of every SDK command constructed in the project's own files a handler's bundle includes. */
async function actionsSentBy(handler: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(ROOT, handler)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  // What survives tree shaking, in the project's own modules (esbuild heads each module's code with a
  // `// <path>` line): a command class in a shared module that this function never uses is gone.
  const output = result.outputFiles.map((file) => file.text).join('\n');
  const own = output
    .split(/^(?=\/\/ \S+\.(?:ts|js|mjs|cjs)$)/m)
    .filter((section) => /^\/\/ (lib|handlers)\//.test(section))
    .join('\n');
  expect(own).toContain('// handlers/');
  const commands = new Set([...own.matchAll(/new (?:[\w$]+\.)?(\w+Command)\(/g)].map((m) => m[1] as string));
  // The probe's STS calls are its own wire requests (lib/steps/sts-wire.ts), named by their query action.
  for (const [, action] of own.matchAll(/stsQueryBody\(\s*"(\w+)"/g)) commands.add(`${action}Command`);
  const unknown = [...commands].filter((command) => !(command in ACTION_OF_COMMAND));
  expect(unknown, 'a new SDK command: add its IAM action to ACTION_OF_COMMAND and the template').toEqual([]);
  return [...new Set([...commands].flatMap((command) => ACTION_OF_COMMAND[command] ?? []))].sort();
}

/** The actions a role's Allow statements grant, without those Lambda or a service uses on its behalf. */
const grantedToCode = (template: Template, roleId: string) =>
  [
    ...new Set(
      roleStatements(template, roleId)
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap(actionsOf)
        .filter((action) => !NOT_SENT_BY_CODE.test(action)),
    ),
  ].sort();

describe('least privilege, both ways: the SDK commands each function can send against its role', () => {
  it('the probe: every action it sends is granted, and nothing else; in log mode only AssumeRole', async () => {
    const sent = await actionsSentBy('handlers/probe.ts');
    expect(sent).toEqual(expect.arrayContaining(DIRECT_ONLY));
    expect(grantedToCode(directMode.template, 'ProbeRole')).toEqual(sent);
    expect(grantedToCode(logMode.template, 'ProbeRole')).toEqual(
      sent.filter((action) => !DIRECT_ONLY.includes(action)),
    );
  });

  it('the notifier: every action it sends is granted, and nothing else', async () => {
    const sent = await actionsSentBy('handlers/notify.ts');
    for (const { template } of [logMode, directMode]) expect(grantedToCode(template, 'NotifierRole')).toEqual(sent);
  });

  it('grants nothing the code does not send on the runtime’s behalf beyond the documented few', () => {
    for (const { template } of [logMode, directMode]) {
      for (const role of ['ProbeRole', 'NotifierRole']) {
        const runtime = roleStatements(template, role)
          .filter((statement) => statement.Effect === 'Allow')
          .flatMap(actionsOf)
          .filter((action) => NOT_SENT_BY_CODE.test(action));
        expect(runtime.every((action) => role === 'ProbeRole' || !action.startsWith('ec2:'))).toBe(true);
      }
    }
  });
});

// --- hardening -------------------------------------------------------------------------------------------

describe('stack hardening', () => {
  it('denies the VPC actions to the probe’s own code (lambda:SourceFunctionArn)', () => {
    const deny = roleStatements(logMode.template, 'ProbeRole').find((s) => s.Effect === 'Deny');
    const attach = roleStatements(logMode.template, 'ProbeRole').find((s) => s.Sid === 'AttachToVpc');
    expect([...asList(deny?.Action)].sort()).toEqual([...asList(attach?.Action)].sort());
    expect(deny?.Condition).toEqual({
      ArnEquals: {
        'lambda:SourceFunctionArn': {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
          'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-probe',
        },
      },
    });
    // The function really is named <stack>-probe.
    expect(lambda(logMode.template, 'Probe').FunctionName).toBe('codecommit-canary-test-probe');
  });

  it('puts a data protection policy on both log groups: secret keys and Basic usernames audited and masked', () => {
    for (const { template } of [logMode, directMode]) {
      for (const group of ['ProbeLogGroup', 'NotifyLogGroup']) {
        const policy = props<{
          Version: string;
          Configuration: { CustomDataIdentifier: { Name: string; Regex: string }[] };
          Statement: { DataIdentifier: unknown[]; Operation: Record<string, unknown> }[];
        }>(template, group, 'DataProtectionPolicy');
        expect(policy.Version).toBe('2021-06-01');
        const [custom] = policy.Configuration.CustomDataIdentifier;
        expect(policy.Statement.map((s) => Object.keys(s.Operation)[0])).toEqual(['Audit', 'Deidentify']);
        for (const statement of policy.Statement) {
          expect(statement.DataIdentifier).toEqual([
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
            { 'Fn::Sub': 'arn:${AWS::Partition}:dataprotection::aws:data-identifier/AwsSecretKey' },
            custom?.Name,
          ]);
        }
        // The tripwire fires on a CodeCommit Basic username, raw or URL-encoded, and on nothing the canary logs.
        const regex = new RegExp(custom?.Regex ?? '$^');
        expect(regex.test('ASIAEXAMPLE123456789%IQoJb3JpZ2luX2VjEJr')).toBe(true);
        expect(regex.test('https://ASIAEXAMPLE123456789%25IQoJb3JpZ2luX2VjEJr@git-codecommit')).toBe(true);
        expect(regex.test('arn:aws:iam::111111111111:role/SwitchRole ASIA')).toBe(false);
        expect(custom?.Regex.length).toBeLessThanOrEqual(200);
        expect(custom?.Regex).toMatch(/^[\w#=@/;,\- ^$?[\]{}|\\*+.]+$/);
      }
    }
  });

  it('limits the endpoints it creates to what the canary sends through them', () => {
    const policyOf = (id: string) =>
      props<{ Statement: Statement[] }>(directMode.template, id, 'PolicyDocument').Statement;
    const probeRole = { AWS: { 'Fn::GetAtt': ['ProbeRole', 'Arn'] } };
    expect(policyOf('StsVpcEndpoint')).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: probeRole, Action: 'sts:AssumeRole', Resource: ROLE_ARNS }),
    ]);
    expect(policyOf('GitCodeCommitVpcEndpoint')).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { AWS: ROLE_ARNS }, Action: 'codecommit:GitPull' }),
    ]);
    const repositories = asList(policyOf('GitCodeCommitVpcEndpoint')[0]?.Resource) as string[];
    expect(repositories.length).toBeGreaterThan(0);
    for (const arn of repositories) expect(arn).toMatch(/^arn:aws:codecommit:[a-z0-9-]+:\d{12}:[\w.-]+$/);
    expect(policyOf('SnsVpcEndpoint')[0]).toMatchObject({ Principal: probeRole, Action: 'sns:Publish' });
    expect(policyOf('MonitoringVpcEndpoint')[0]).toMatchObject({
      Principal: probeRole,
      Action: 'cloudwatch:PutMetricData',
    });
    expect(policyOf('DynamoDbVpcEndpoint')[0]).toMatchObject({ Principal: probeRole, Action: INCIDENT_TABLE_ACTIONS });
    // Every endpoint the stack creates has a policy, in every partition (GovCloud's package adds git-codecommit-fips).
    const packages = [directMode, ...partitionPackages.values()];
    expect(packages.some(({ template }) => 'GitCodeCommitFipsVpcEndpoint' in template.Resources)).toBe(true);
    for (const { template } of packages) {
      for (const [id, endpoint] of resourcesOfType(template, 'AWS::EC2::VPCEndpoint')) {
        expect([id, endpoint.Properties.PolicyDocument !== undefined]).toEqual([id, true]);
      }
    }
  });
});

// --- functions, events, resources ------------------------------------------------------------------------

describe('functions and their wiring', () => {
  it('runs the probe on the schedule parameter (default every minute) without async retries', () => {
    const schedule = (template: Template) =>
      resourcesOfType(template, 'AWS::Events::Rule').map(([, rule]) => [
        rule.Properties.ScheduleExpression,
        rule.Properties.Targets,
      ]);
    expect(schedule(logMode.template)).toEqual([
      ['rate(1 minute)', [expect.objectContaining({ Arn: { 'Fn::GetAtt': ['ProbeLambdaFunction', 'Arn'] } })]],
    ]);
    expect(schedule(directMode.template)[0]?.[0]).toBe('rate(5 minutes)');
    expect(props(logMode.template, 'ProbeLambdaEvConf', 'MaximumRetryAttempts')).toBe(0);
  });

  it('drops a run older than one schedule period and never retries it, in EventBridge and in Lambda', () => {
    for (const [{ template }, period] of [
      [logMode, 60],
      [directMode, 300],
    ] as const) {
      const [[, rule] = []] = resourcesOfType(template, 'AWS::Events::Rule');
      expect(rule?.Properties.Targets).toEqual([
        {
          Arn: { 'Fn::GetAtt': ['ProbeLambdaFunction', 'Arn'] },
          Id: 'probeSchedule',
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: period },
        },
      ]);
      expect(resource(template, 'ProbeLambdaEvConf').Properties).toMatchObject({
        FunctionName: { Ref: 'ProbeLambdaFunction' },
        MaximumEventAgeInSeconds: period,
        MaximumRetryAttempts: 0,
      });
    }
    // The rule still invokes the probe by the permission osls generates for it.
    expect(props(logMode.template, 'ProbeLambdaPermissionEventsRuleSchedule1', 'SourceArn')).toEqual({
      'Fn::GetAtt': ['ProbeEventsRuleSchedule1', 'Arn'],
    });
  });

  it('packages a direct-mode probe timeout that fits every sample and the reporting reserve (lib/run/budget.ts)', () => {
    // Prepare: the config direct mode was packaged with (3 samples per run), as the Lambda validates it.
    const config = parseConfig(JSON.parse(readFileSync(directConfigFile, 'utf8')));
    expect(config.schedule.samplesPerRun).toBe(3);

    // Assess
    const timeout = lambda(directMode.template, 'Probe').Timeout as number;
    expect(timeout).toBeGreaterThanOrEqual(probeTimeoutSeconds(config, 'direct'));
    expect(timeout).toBeGreaterThan(60);
    expect(lambda(logMode.template, 'Probe').Timeout).toBe(
      probeTimeoutSeconds(parseConfig(JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8'))), 'log'),
    );
  });

  it('reserves concurrency for the notifier and sends the events it gave up on to an encrypted queue', () => {
    for (const { template } of [logMode, directMode]) {
      expect(lambda(template, 'Notify').ReservedConcurrentExecutions).toBe(5);
      expect(lambda(template, 'Probe')).not.toHaveProperty('ReservedConcurrentExecutions');
      expect(resource(template, 'NotifyLambdaEvConf').Properties).toMatchObject({
        FunctionName: { Ref: 'NotifyLambdaFunction' },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['NotifierFailedEventsQueue', 'Arn'] } } },
      });
      expect(resource(template, 'NotifierFailedEventsQueue').Properties).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
      const queuePolicy = props<{ Statement: Statement[] }>(
        template,
        'NotifierFailedEventsQueuePolicy',
        'PolicyDocument',
      );
      expect(queuePolicy.Statement).toEqual([
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]);
      expect(template.Outputs.NotifierFailedEventsQueueUrl?.Value).toEqual({ Ref: 'NotifierFailedEventsQueue' });
    }
  });

  it('places the probe in the VPC and keeps the notifier out of it', () => {
    expect(lambda(logMode.template, 'Probe').VpcConfig).toEqual({
      SubnetIds: SUBNETS,
      SecurityGroupIds: SECURITY_GROUPS,
    });
    expect(lambda(logMode.template, 'Notify').VpcConfig).toBeUndefined();
  });

  it('tells each function the delivery mode and stack; the alert names only to those that send alerts', () => {
    expect(environment(logMode.template, 'Probe')).toMatchObject({
      CANARY_DELIVERY: 'log',
      CANARY_STACK: 'codecommit-canary-test',
    });
    expect(environment(logMode.template, 'Probe')).not.toHaveProperty('CANARY_TABLE');
    expect(environment(directMode.template, 'Probe')).toMatchObject({
      CANARY_DELIVERY: 'direct',
      CANARY_TABLE: { Ref: 'IncidentTable' },
      CANARY_TOPIC_ARN: { Ref: 'AlertTopic' },
    });
    expect(environment(logMode.template, 'Notify')).toMatchObject({
      CANARY_DELIVERY: 'log',
      CANARY_STACK: 'codecommit-canary-test',
      CANARY_TABLE: { Ref: 'IncidentTable' },
      CANARY_TOPIC_ARN: { Ref: 'AlertTopic' },
      // Where genuine records come from: the probe's log group (osls names it /aws/lambda/<stack>-probe).
      CANARY_PROBE_LOG_GROUP: { Ref: 'ProbeLogGroup' },
      CANARY_ACCOUNT: { Ref: 'AWS::AccountId' },
    });
    expect(props(logMode.template, 'ProbeLogGroup', 'LogGroupName')).toBe('/aws/lambda/codecommit-canary-test-probe');
  });

  it('subscribes the notifier to the probe log’s result and findings records', () => {
    const [[, filter] = []] = resourcesOfType(logMode.template, 'AWS::Logs::SubscriptionFilter');
    expect(filter?.Properties).toEqual({
      LogGroupName: { Ref: 'ProbeLogGroup' },
      FilterPattern: `{ $.type = "${RESULT_RECORD_TYPE}" || $.type = "${FINDINGS_RECORD_TYPE}" }`,
      DestinationArn: { 'Fn::GetAtt': ['NotifyLambdaFunction', 'Arn'] },
    });
    expect(filter?.DependsOn).toEqual(['NotifyInvokeFromProbeLogPermission']);
    expect(props(logMode.template, 'NotifyInvokeFromProbeLogPermission', 'Principal')).toBe('logs.amazonaws.com');
    expect(props(logMode.template, 'NotifyInvokeFromProbeLogPermission', 'SourceArn')).toEqual({
      'Fn::GetAtt': ['ProbeLogGroup', 'Arn'],
    });
  });

  it('keeps incident state in an on-demand table keyed by target, history expiring by TTL', () => {
    expect(resource(logMode.template, 'IncidentTable').Properties).toEqual({
      DeletionProtectionEnabled: true,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('encrypts the topic and subscribes the email address only when asked', () => {
    expect(resource(logMode.template, 'AlertTopic').Properties).not.toHaveProperty('KmsMasterKeyId');
    expect(JSON.stringify(props(directMode.template, 'AlertTopic', 'KmsMasterKeyId'))).toContain(`key/${KMS_KEY_ID}`);
    expect(resourcesOfType(logMode.template, 'AWS::SNS::Subscription')).toEqual([]);
    expect(resource(directMode.template, 'AlertEmailSubscription').Properties).toEqual({
      TopicArn: { Ref: 'AlertTopic' },
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('alarms and dashboard', () => {
  const alertTopic = [{ Ref: 'AlertTopic' }];
  const bothTopics = [{ Ref: 'AlertTopic' }, OPS_TOPIC_ARN];
  const targetAlarms = (template: Template) =>
    resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      (a.Properties.AlarmName as { 'Fn::Sub'?: string })['Fn::Sub']?.includes('-target-'),
    );
  /** An alarm on one of the stack's own metrics (its one dimension: the stack). */
  const onStackMetric = (MetricName: string) => ({
    Namespace: example.metrics.namespace,
    MetricName,
    Dimensions: [{ Name: 'Stack', Value: { Ref: 'AWS::StackName' } }],
  });
  /** A heartbeat alarm: below 1 is in alarm, and so is no data. */
  const heartbeatMissing = { Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' };
  /** A count alarm: anything above 0 is in alarm; no data is nothing to report. */
  const anyAboveZero = { Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' };

  it('pages when the probe stops: Heartbeat below 1 in 3 of 5 one-minute periods, missing data breaching', () => {
    expect(resource(logMode.template, 'ProbeNotRunningAlarm').Properties).toMatchObject({
      ...onStackMetric('Heartbeat'),
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ...heartbeatMissing,
      AlarmActions: alertTopic,
      OKActions: alertTopic,
    });
    // Sized from the schedule: on a 5-minute schedule one empty period is already 5 minutes of lag.
    expect(resource(directMode.template, 'ProbeNotRunningAlarm').Properties).toMatchObject({
      Period: 300,
      EvaluationPeriods: 4,
      DatapointsToAlarm: 2,
    });
  });

  it('does not page on a fresh deploy: the heartbeat alarms warm up until the first runs fill their window', () => {
    for (const { template } of [logMode, directMode]) {
      for (const id of ['ProbeNotRunningAlarm', 'NotifierHeartbeatAlarm']) {
        const { Period, EvaluationPeriods, WarmUpConfiguration } = resource(template, id).Properties as {
          Period: number;
          EvaluationPeriods: number;
          WarmUpConfiguration: {
            WarmUpPeriodDurationInMinutes: number;
            OnlyStartEvaluatingAfterWarmUpPeriodEnds: boolean;
          };
        };
        // Ten minutes for CloudFormation, the VPC function and the first EMF datapoint, then a full window.
        expect(WarmUpConfiguration.WarmUpPeriodDurationInMinutes * 60).toBeGreaterThanOrEqual(
          600 + EvaluationPeriods * Period,
        );
        expect(WarmUpConfiguration.WarmUpPeriodDurationInMinutes).toBeLessThanOrEqual(2880);
        // Ends as soon as real datapoints fill the window: a healthy stack is watched within minutes.
        expect(WarmUpConfiguration.OnlyStartEvaluatingAfterWarmUpPeriodEnds).toBe(false);
      }
    }
    expect(props(logMode.template, 'ProbeNotRunningAlarm', 'WarmUpConfiguration')).toEqual({
      WarmUpPeriodDurationInMinutes: 16,
      OnlyStartEvaluatingAfterWarmUpPeriodEnds: false,
    });
  });

  it('names each alarm after what broke: probe not running, notifier broken, target down', () => {
    const names = (template: Template) =>
      [
        ...resourcesOfType(template, 'AWS::CloudWatch::Alarm'),
        ...resourcesOfType(template, 'AWS::CloudWatch::CompositeAlarm'),
      ].map(([id, a]) => [id, (a.Properties.AlarmName as { 'Fn::Sub': string })['Fn::Sub']]);
    expect(Object.fromEntries(names(logMode.template))).toMatchObject({
      ProbeNotRunningAlarm: `\${AWS::StackName}-probe-not-running`,
      NotifierNotRunningAlarm: `\${AWS::StackName}-notifier-not-running`,
      NotifierHeartbeatAlarm: `\${AWS::StackName}-notifier-heartbeat`,
      NotifierErrorsAlarm: `\${AWS::StackName}-notifier-errors`,
      NotifierThrottledAlarm: `\${AWS::StackName}-notifier-throttled`,
      NotifierFailedEventsAlarm: `\${AWS::StackName}-notifier-failed-events`,
      NotifierPagesStuckAlarm: `\${AWS::StackName}-notifier-pages-stuck`,
      NotifierRecordsRejectedAlarm: `\${AWS::StackName}-notifier-records-rejected`,
    });
    expect(
      targetAlarms(logMode.template).map(([, a]) => (a.Properties.AlarmName as { 'Fn::Sub': string })['Fn::Sub']),
    ).toEqual(TARGET_NAMES.map((name) => `\${AWS::StackName}-target-${name}`));
  });

  it('pages the alert topic from every self-monitoring alarm, and the opsTopicArn topic too when given', () => {
    for (const [{ template }, topics] of [
      [logMode, alertTopic],
      [directMode, bothTopics],
    ] as const) {
      for (const id of SELF_MONITORING_PAGES) {
        const alarm = resource(template, id).Properties;
        expect([id, alarm.AlarmActions, alarm.OKActions]).toEqual([id, topics, topics]);
        // What broke, and the first thing to do.
        expect(alarm.AlarmDescription).toMatch(/^CodeCommit canary: .+ First: .+\(runbook: docs\/runbook\.md\)\.$/);
      }
      // The notifier's heartbeat only holds the state: the composite pages for it.
      expect(resource(template, 'NotifierHeartbeatAlarm').Properties).not.toHaveProperty('AlarmActions');
    }
    expect(JSON.stringify(logMode.template)).not.toContain('oncall-ops');
  });

  it('pages "notifier not running" only while the probe runs: a composite suppressed by probe-not-running', () => {
    expect(resource(logMode.template, 'NotifierNotRunningAlarm').Properties).toMatchObject({
      AlarmRule: { 'Fn::Sub': `ALARM("\${NotifierHeartbeatAlarm.Arn}")` },
      ActionsSuppressor: { 'Fn::GetAtt': ['ProbeNotRunningAlarm', 'Arn'] },
      ActionsSuppressorWaitPeriod: 120,
      ActionsSuppressorExtensionPeriod: 240,
    });
    expect(resource(logMode.template, 'NotifierHeartbeatAlarm').Properties).toMatchObject({
      ...onStackMetric('NotifierHeartbeat'),
      Statistic: 'Sum',
      Period: 60,
      ...heartbeatMissing,
      // Slower than the probe's 3 of 5: a stopped probe is in ALARM (and suppresses) first.
      DatapointsToAlarm: 4,
      EvaluationPeriods: 6,
    });
  });

  it('pages on notifier errors and throttles, but not on one failed event’s retries or one throttle', () => {
    for (const { template } of [logMode, directMode]) {
      for (const [id, metric] of [
        ['NotifierErrorsAlarm', 'Errors'],
        ['NotifierThrottledAlarm', 'Throttles'],
      ] as const) {
        expect(resource(template, id).Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'NotifyLambdaFunction' } }],
          Statistic: 'Sum',
          ...anyAboveZero,
        });
      }
      // One failed event: three attempts (Lambda retries twice); that one is the failed-events alarm's page.
      expect(props(template, 'NotifierErrorsAlarm', 'DatapointsToAlarm')).toBe(4);
    }
    expect(props(logMode.template, 'NotifierThrottledAlarm', 'DatapointsToAlarm')).toBe(3);
  });

  it('pages when events were given up on, and when pages stay owed over several notifier runs', () => {
    expect(resource(logMode.template, 'NotifierFailedEventsAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['NotifierFailedEventsQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      ...anyAboveZero,
      DatapointsToAlarm: 2,
    });
    expect(resource(logMode.template, 'NotifierPagesStuckAlarm').Properties).toMatchObject({
      ...onStackMetric('NotificationsOwed'),
      Statistic: 'Maximum',
      ...anyAboveZero,
      DatapointsToAlarm: 3,
      EvaluationPeriods: 5,
    });
  });

  it('never pages on one datapoint, evaluates per schedule period, and fits CloudWatch’s one-day window', () => {
    for (const [{ template }, period] of [
      [logMode, 60],
      [directMode, 300],
    ] as const) {
      for (const [id, { Properties }] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
        const { EvaluationPeriods, DatapointsToAlarm } = Properties as Record<string, number>;
        // A metric-math alarm's period is its metrics'; every one of them evaluates per schedule period.
        const periods = Properties.Metrics
          ? (Properties.Metrics as { MetricStat?: { Period: number } }[]).flatMap((m) =>
              m.MetricStat ? [m.MetricStat.Period] : [],
            )
          : [Properties.Period as number];
        const Period = periods[0] as number;
        expect([id, ...periods]).toEqual([id, ...periods.map(() => period)]);
        expect(DatapointsToAlarm).toBeGreaterThanOrEqual(2);
        expect(DatapointsToAlarm).toBeLessThanOrEqual(EvaluationPeriods as number);
        expect((Period as number) * (EvaluationPeriods as number)).toBeLessThanOrEqual(86_400);
      }
    }
  });

  it('has one end-to-end alarm per target, which pages only when pageOnTargetAlarms is set', () => {
    for (const { template } of [logMode, directMode]) {
      const alarms = targetAlarms(template);
      expect(alarms).toHaveLength(TARGET_NAMES.length);
      type Stat = { MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: string }[] } } };
      const metricsOf = (alarm: (typeof alarms)[number][1]) =>
        alarm.Properties.Metrics as (Stat & { Expression?: string })[];
      expect(alarms.map(([, alarm]) => metricsOf(alarm)[0]?.MetricStat?.Metric.Dimensions[0]?.Value)).toEqual(
        TARGET_NAMES,
      );
      for (const [, alarm] of alarms) {
        const metrics = metricsOf(alarm);
        expect(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.Dimensions[1]?.Value] : []))).toEqual([
          'sts',
          'git',
        ]);
        expect(metrics.every((m) => !m.MetricStat || m.MetricStat.Metric.MetricName === 'Success')).toBe(true);
        expect(metrics.at(-1)?.Expression).toBe('MIN([sts, git])');
        expect(alarm.Properties).toMatchObject({
          Threshold: 1,
          ComparisonOperator: 'LessThanThreshold',
          EvaluationPeriods: 2,
          DatapointsToAlarm: 2,
        });
      }
    }
    expect(targetAlarms(logMode.template).every(([, a]) => !('AlarmActions' in a.Properties))).toBe(true);
    expect(targetAlarms(directMode.template).every(([, a]) => a.Properties.OKActions !== undefined)).toBe(true);
  });

  it('graphs and alarms only on catalogued metrics, with their exact dimensions', () => {
    const catalogue = new Map(METRIC_CATALOGUE.map((m) => [m.name as string, [...m.dimensions]]));
    const used = metricsUsed(logMode.template).filter((m) => m.namespace === example.metrics.namespace);
    expect(used.length).toBeGreaterThan(TARGET_NAMES.length * 4);
    expect(used.map((m) => m.name)).toEqual(expect.arrayContaining(['Heartbeat', ...NOTIFIER_METRICS]));
    for (const { name, dimensions } of used) expect([name, dimensions]).toEqual([name, catalogue.get(name)]);
  });

  it('shows every alarm, the notifier and success and phase latency for every target on the dashboard', () => {
    const body = props<{ 'Fn::Sub': string }>(logMode.template, 'Dashboard', 'DashboardBody')['Fn::Sub'];
    const { widgets } = JSON.parse(body) as {
      widgets: { type: string; properties: { title: string; alarms?: string[] } }[];
    };
    const titles = widgets.map((w) => w.properties.title);
    for (const name of TARGET_NAMES) {
      expect(titles).toEqual(expect.arrayContaining([`${name}: success`, `${name}: git phases (ms)`]));
    }
    expect(titles).toEqual(
      expect.arrayContaining(['Notifier: runs, pages still owed, records rejected, failed events']),
    );
    const alarms = widgets.flatMap((w) => w.properties.alarms ?? []);
    for (const suffix of [
      'probe-not-running',
      'notifier-not-running',
      'notifier-errors',
      'notifier-pages-stuck',
      'notifier-records-rejected',
    ]) {
      expect(alarms).toContain(
        `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:\${AWS::StackName}-${suffix}`,
      );
    }
  });
});

describe('optional VPC endpoints', () => {
  it('are not created by default', () => {
    expect(resourcesOfType(logMode.template, 'AWS::EC2::VPCEndpoint')).toEqual([]);
  });

  it('cover what direct mode calls, behind a group that admits 443 from each probe security group', () => {
    // Service names are `com.amazonaws.${AWS::Region}.<service>` under Fn::Sub.
    const regional = /^com\.amazonaws\.\$\{AWS::Region\}\.([\w-]+)$/;
    const endpoints = resourcesOfType(directMode.template, 'AWS::EC2::VPCEndpoint').map(([, e]) => [
      regional.exec((e.Properties.ServiceName as { 'Fn::Sub': string })['Fn::Sub'])?.[1],
      e.Properties.VpcEndpointType,
      e.Properties.VpcId,
    ]);
    expect(endpoints).toEqual([
      ['sts', 'Interface', 'vpc-0123456789abcdef0'],
      ['git-codecommit', 'Interface', 'vpc-0123456789abcdef0'],
      ['monitoring', 'Interface', 'vpc-0123456789abcdef0'],
      ['sns', 'Interface', 'vpc-0123456789abcdef0'],
      ['dynamodb', 'Gateway', 'vpc-0123456789abcdef0'],
    ]);
    const ingress = props<{ FromPort: number; ToPort: number; SourceSecurityGroupId: string }[]>(
      directMode.template,
      'VpcEndpointSecurityGroup',
      'SecurityGroupIngress',
    );
    expect(ingress.map((rule) => [rule.FromPort, rule.ToPort, rule.SourceSecurityGroupId])).toEqual(
      SECURITY_GROUPS.map((group) => [443, 443, group]),
    );
  });
});

describe.each(PARTITION_REGIONS)('packaged for %s (%s)', (region, partition) => {
  const packaged = () => partitionPackages.get(region) as Packaged;

  it('cfn-lint finds no errors for that region, and only the known osls warnings', async () => {
    const matches = await cfnLint([packaged().templateFile], ['--regions', region, '--override-spec', CFN_LINT_SPEC]);
    const where = (m: (typeof matches)[number]) => `${m.Rule.Id} ${m.Location.Path.slice(0, 3).join('/')}`;
    expect(matches.filter((m) => m.Level === 'Error').map((m) => `${where(m)}: ${m.Message}`)).toEqual([]);
    expect(matches.filter((m) => !KNOWN_WARNINGS.includes(where(m))).map(where)).toEqual([]);
  });

  it('names nothing of another partition: ARNs through AWS::Partition, the console per partition, its endpoint services', () => {
    const text = readFileSync(packaged().templateFile, 'utf8');
    // The only literal ARNs are the config's own role ARNs, in this partition.
    expect([...new Set(text.match(/arn:aws[a-z-]*:/g))]).toEqual([`arn:${partition}:`]);
    expect(text).not.toContain('console.aws.amazon.com/cloudwatch');
    const template = packaged().template as Template & { Mappings: Record<string, Record<string, { Host: string }>> };
    expect(template.Outputs.DashboardUrl?.Value).toEqual({
      'Fn::Sub': [
        `https://\${Console}/cloudwatch/home?region=\${AWS::Region}#dashboards:name=\${AWS::StackName}`,
        { Console: { 'Fn::FindInMap': ['PartitionConsole', { Ref: 'AWS::Partition' }, 'Host'] } },
      ],
    });
    expect(template.Mappings.PartitionConsole?.[partition]?.Host).toBe(
      partition === 'aws-cn' ? 'console.amazonaws.cn' : 'console.amazonaws-us-gov.com',
    );
    const services = resourcesOfType(packaged().template, 'AWS::EC2::VPCEndpoint').map(([, e]) => [
      (e.Properties.ServiceName as { 'Fn::Sub': string })['Fn::Sub'],
      e.Properties.PrivateDnsEnabled,
    ]);
    const china = partition === 'aws-cn' ? 'cn.' : '';
    expect(services).toEqual([
      [`${china}com.amazonaws.\${AWS::Region}.sts`, false],
      [`com.amazonaws.\${AWS::Region}.git-codecommit`, false],
      ...(partition === 'aws-us-gov' ? [[`com.amazonaws.\${AWS::Region}.git-codecommit-fips`, false]] : []),
      [`${china}com.amazonaws.\${AWS::Region}.monitoring`, false],
      [`com.amazonaws.\${AWS::Region}.sns`, false],
      [`com.amazonaws.\${AWS::Region}.dynamodb`, undefined],
    ]);
  });
});
