import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSnsClient } from '../lib/alerts.ts';
import { createIncidentTableClient } from '../lib/incidents.ts';
// @ts-expect-error: a plain .mjs helper shared with the benchmarks
import { ensureNode24 } from '../scripts/node24.mjs';
import { FAKE_SOURCE_CREDENTIALS } from './support/moto.ts';
import { REGION, ROLE_ARN, type Sandbox, startSandbox } from './support/sandbox.ts';
import { assertNoSecrets, motoSecrets, OutputLog } from './support/secrets.ts';
import { createSqsClient, drainQueue, motoClientOptions, subscribeQueue } from './support/sqs.ts';

const execFileAsync = promisify(execFile);
/** Every bundle run's stdout and stderr, scanned for secrets by the last test. */
const outputs = new OutputLog();
const run = async (file: string, args: string[], options: { env: NodeJS.ProcessEnv }) =>
  outputs.record(`${file} ${args.join(' ').slice(0, 80)}`, await execFileAsync(file, args, options));
let node24: string;
let sandbox: Sandbox;
let configFile: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  node24 = ensureNode24();
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  sandbox = await startSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'canary-bundles-'));
  configFile = join(dir, 'canary.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      region: REGION,
      dns: { servers: [sandbox.dns.server] },
      endpoints: { sts: sandbox.stsEndpoint, git: sandbox.gitEndpoint },
      targets: [
        { name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN },
        { name: 'gone', repository: 'no_such_repo', roleArn: ROLE_ARN },
      ],
    }),
  );
  env = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: FAKE_SOURCE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_SOURCE_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    // Trust the test CA the way an operator would: at process start, not by turning verification off.
    NODE_EXTRA_CA_CERTS: sandbox.pki.caFile,
    CANARY_CONFIG: configFile,
  };
});
afterAll(async () => sandbox?.stop());

/** Imports a handler bundle in a fresh Node 24 process, invokes it once with the event, prints the result. */
const invoke = (bundle: string, event: unknown, extraEnv: NodeJS.ProcessEnv = {}) =>
  run(
    node24,
    [
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(`./dist/handlers/${bundle}`)});
       const result = await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 30000 });
       process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');`,
    ],
    { env: { ...env, ...extraEnv } },
  );

/** The probe's result lines as a CloudWatch Logs subscription delivers them (gzipped, base64). */
const asSubscriptionEvent = (probeStdout: string) => {
  const logEvents = probeStdout
    .split('\n')
    .filter((l) => l.includes('"codecommit-canary/result"'))
    .map((message, i) => ({ id: String(i), timestamp: Date.now(), message }));
  const payload = JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents });
  return { awslogs: { data: gzipSync(payload).toString('base64') } };
};

describe('the bundles run on Node 24 (the Lambda runtime)', () => {
  it('the CLI bundle probes the test servers', async () => {
    const out = await run(node24, ['dist/cli.js', 'probe', '--config', configFile, '--target', 'team-repo', '--json'], {
      env,
    });
    const report = JSON.parse(out.stdout);
    expect(report.ok).toBe(true);
    expect(report.targets[0].steps.git.head).toBe('refs/heads/develop');
  });

  it('the probe bundle writes result records and EMF, and returns its summary', async () => {
    const out = await invoke('probe.mjs', { source: 'aws.events' }, { CANARY_DELIVERY: 'log', CANARY_STACK: 'smoke' });
    const lines = out.stdout.split('\n').filter(Boolean);
    const result = JSON.parse(lines.find((l) => l.startsWith('RESULT '))?.slice(7) ?? '{}');
    expect(result).toMatchObject({ ok: false, targets: 2, failed: ['gone'] });
    const objects = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(objects.filter((o) => o.type === 'codecommit-canary/result')).toHaveLength(2);
    expect(objects.some((o) => o._aws && o.Heartbeat === 1 && o.Stack === 'smoke')).toBe(true);
    expect(out.stderr).toBe('');
  });

  it('the notify bundle turns an awslogs delivery into one SNS alert', async () => {
    const options = motoClientOptions(sandbox.moto, sandbox.pki);
    await createIncidentTableClient(options).send(
      new CreateTableCommand({
        TableName: 'smoke-incidents',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      }),
    );
    const sns = createSnsClient(options);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'smoke' }));
    const sqs = createSqsClient(options);
    const queueUrl = await subscribeQueue(sns, sqs, TopicArn as string, 'smoke');
    const notifyEnv = {
      CANARY_TABLE: 'smoke-incidents',
      CANARY_TOPIC_ARN: TopicArn,
      AWS_ENDPOINT_URL: sandbox.moto.url,
    };
    // failuresBeforeAlert is 2 (the default): the first run's records are below the threshold, the second's page.
    let out = { stdout: '' };
    for (let run = 0; run < 2; run++) {
      const probe = await invoke('probe.mjs', {}, { CANARY_STACK: 'smoke' });
      out = await invoke('notify.mjs', asSubscriptionEvent(probe.stdout), notifyEnv);
    }
    const result = JSON.parse(
      out.stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))
        ?.slice(7) ?? '{}',
    );
    expect(result.notifications.map((n: { target: string; state: string }) => [n.target, n.state])).toEqual([
      ['gone', 'ALARM'],
    ]);
    const received = await drainQueue(sqs, queueUrl);
    expect(received.map((m) => m.Subject)).toEqual([expect.stringMatching(/^\[ALARM\] gone: git /)]);
  });
});

describe('every bundle run above', () => {
  it('printed no secret: no source or assumed-role key or token, no git password, no signature', async () => {
    expect(Object.keys(outputs.channels).length).toBeGreaterThanOrEqual(10);
    assertNoSecrets(outputs.channels, await motoSecrets(sandbox.moto));
  });
});
