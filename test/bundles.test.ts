import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertPlumbing } from '../harness/alert-path.ts';
import { FAKE_SOURCE_CREDENTIALS } from '../harness/moto.ts';
import { REGION, ROLE_ARN, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { assertNoSecrets, motoSecrets, OutputLog } from '../harness/secrets.ts';
import { parseConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { encodeSubscriptionEvent, probeLogGroupName } from '../lib/metrics/log-records.ts';
import { probeTimeoutSeconds } from '../lib/run/budget.ts';
import { startDnsServer } from '../lib/sandbox/dns.ts';
import { freePort } from '../lib/sandbox/listen.ts';
// @ts-expect-error: a plain .mjs helper shared with the benchmarks
import { ensureNode24 } from '../scripts/node24.mjs';
import { writeSwitchRoleProfile } from './support/aws-profile.ts';

const execFileAsync = promisify(execFile);
/** Every bundle run's stdout and stderr, scanned for secrets by the last test. */
const outputs = new OutputLog();
const run = async (file: string, args: string[], options: { env: NodeJS.ProcessEnv }) =>
  outputs.record(`${file} ${args.join(' ').slice(0, 80)}`, await execFileAsync(file, args, options));
let node24: string;
let sandbox: Sandbox;
let configFile: string;
/** The alert-path configs: target `flaky` failing (a repository that does not exist) or healthy; non-default alerts. */
let flakyFailing: string;
let flakyHealthy: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  node24 = ensureNode24();
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  sandbox = await startSandbox();
  configFile = sandbox.writeConfig({
    targets: [
      { name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN },
      { name: 'gone', repository: 'no_such_repo', roleArn: ROLE_ARN },
    ],
  });
  const flaky = (repository: string) =>
    sandbox.writeConfig({
      checks: { globalSts: false, path: false },
      // Not the defaults (2 and 60): the first failure pages, so a bundle that ignored them would stay silent.
      alerts: { failuresBeforeAlert: 1, renotifyMinutes: 600 },
      targets: [{ name: 'flaky', repository, roleArn: ROLE_ARN }],
    });
  flakyFailing = flaky('no_such_repo');
  flakyHealthy = flaky('test_repo');
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

/** A config file as the functions take it: checked by the schema and packaged (lib/config/packaged.ts) beside it. */
const packaged = (file: string): string => {
  const out = file.replace(/\.json$/, '.packaged.json');
  writeFileSync(out, packConfig(parseConfig(JSON.parse(readFileSync(file, 'utf8')), file)));
  return out;
};

/**
 * Imports a handler bundle in a fresh Node 24 process, invokes it once with the event, prints the result. The
 * config named by CANARY_CONFIG is packaged first, as `serverless package` does.
 */
const invoke = (bundle: string, event: unknown, extraEnv: NodeJS.ProcessEnv = {}, remainingMs = 30_000) =>
  invokeAsIs(
    bundle,
    event,
    { ...extraEnv, CANARY_CONFIG: packaged(extraEnv.CANARY_CONFIG ?? configFile) },
    remainingMs,
  );

const invokeAsIs = (bundle: string, event: unknown, extraEnv: NodeJS.ProcessEnv = {}, remainingMs = 30_000) =>
  run(
    node24,
    [
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(`./dist/handlers/${bundle}`)});
       const context = { getRemainingTimeInMillis: () => ${remainingMs}, invokedFunctionArn: ${JSON.stringify(FUNCTION_ARN)} };
       try {
         process.stdout.write('RESULT ' + JSON.stringify(await handler(${JSON.stringify(event)}, context)) + '\\n');
       } catch (error) {
         process.stdout.write('ERROR ' + error.message + '\\n');
       }`,
    ],
    { env: { ...env, ...extraEnv } },
  );

const ACCOUNT = '123456789012';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:smoke-notify`;

/** The probe's records as the stack's subscription delivers them from the probe's log group (gzipped, base64). */
const asSubscriptionEvent = (probeStdout: string) =>
  encodeSubscriptionEvent(probeStdout.split('\n'), {
    owner: ACCOUNT,
    logGroup: probeLogGroupName('smoke'),
    logStream: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
  });

/** The line `RESULT {...}` (or `ERROR ...`) a bundle invocation printed. */
const resultOf = (stdout: string) => {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('ERROR ')) ?? '';
  return line.startsWith('RESULT ') ? JSON.parse(line.slice(7)) : { error: line.slice(6) };
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

  it('the CLI bundle takes the target forms git and git-remote-codecommit take', async () => {
    // A bare-host CODE_COMMIT_ENDPOINT naming a vpce host of another region (signed for us-west-2, as the AWS CLI
    // helper signs), and the https remote form; the test git server checks the region each host names.
    const vpceWest = 'vpce-0b47ea360adebf88a-jkl88hez.git-codecommit.us-west-2.vpce.amazonaws.com';
    const west = 'git-codecommit.us-west-2.amazonaws.com';
    const dns = await startDnsServer({
      [vpceWest]: { a: ['127.0.0.1'] },
      [west]: { a: ['127.0.0.1'] },
      [new URL(sandbox.stsEndpoint).hostname]: { a: ['127.0.0.1'] },
    });
    try {
      const cliEnv = {
        ...env,
        ...writeSwitchRoleProfile(mkdtempSync(join(tmpdir(), 'canary-bundle-profile-'))),
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      };
      const common = ['--sts-endpoint', sandbox.stsEndpoint, '--dns-server', dns.server, '--json'];
      const [bare, remote] = await Promise.all([
        run(node24, ['dist/cli.js', 'probe', 'codecommit::us-east-1://switchrole@test_repo', ...common], {
          env: { ...cliEnv, CODE_COMMIT_ENDPOINT: `${vpceWest}:${sandbox.git.port}` },
        }),
        run(node24, ['dist/cli.js', 'probe', `https://${west}:${sandbox.git.port}/v1/repos/test_repo`, ...common], {
          env: { ...cliEnv, AWS_PROFILE: 'switchrole' },
        }),
      ]);
      expect(JSON.parse(bare.stdout).targets[0]).toMatchObject({
        region: 'us-east-1',
        ok: true,
        steps: { git: { ok: true, endpoint: `https://${vpceWest}:${sandbox.git.port}` } },
      });
      expect(JSON.parse(remote.stdout).targets[0]).toMatchObject({ region: 'us-west-2', ok: true });
    } finally {
      await dns.stop();
    }
  });

  it('both function bundles refuse a config that was not packaged, at cold start, naming the field', async () => {
    for (const bundle of ['probe.mjs', 'notify.mjs']) {
      const failed = await invokeAsIs(bundle, {}, { CANARY_DELIVERY: 'log', CANARY_CONFIG: configFile }).then(
        () => null,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect([bundle, failed?.code]).toEqual([bundle, 1]);
      expect(failed?.stderr).toContain(`${configFile}: invalid config\n  format: not a packaged config`);
    }
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

  /** A table, a topic and a queue subscribed to it, on moto; `sns` swaps SNS for a refused port (an outage). */
  async function alertPlumbing(name: string) {
    const plumbing = await startAlertPlumbing(sandbox.moto, sandbox.pki, name);
    const refused = `https://127.0.0.1:${await freePort()}`;
    return {
      env: (snsUp: boolean, config: string) => ({
        CANARY_TABLE: plumbing.tableName,
        CANARY_TOPIC_ARN: plumbing.topicArn,
        CANARY_STACK: 'smoke',
        CANARY_CONFIG: config,
        AWS_ENDPOINT_URL: sandbox.moto.url,
        ...(snsUp ? {} : { AWS_ENDPOINT_URL_SNS: refused }),
      }),
      received: async () =>
        (await plumbing.drain()).map((m) => [m.MessageAttributes?.state?.Value, m.MessageAttributes?.dedupKey?.Value]),
    };
  }

  /** An SNS outage over an incident's opening and its recovery: [snsUp, config] per run. */
  const outage = (): Array<[boolean, string]> => [
    [false, flakyFailing], // ALARM owed: SNS refuses
    [false, flakyFailing], // still owed
    [true, flakyFailing], // SNS back: the ALARM arrives
    [false, flakyHealthy], // RECOVERED owed
    [true, flakyHealthy], // SNS back: the RECOVERED arrives
  ];

  it('log mode: probe → subscription → notifier bundles through an SNS outage give one ALARM and one RECOVERED', async () => {
    // Prepare
    const plumbing = await alertPlumbing('smoke-log');
    const summaries = [];
    const received = [];
    // Act
    for (const [snsUp, config] of outage()) {
      const probe = await invoke(
        'probe.mjs',
        {},
        { CANARY_DELIVERY: 'log', CANARY_STACK: 'smoke', CANARY_CONFIG: config },
      );
      const notifier = await invoke('notify.mjs', asSubscriptionEvent(probe.stdout), plumbing.env(snsUp, config));
      summaries.push(resultOf(notifier.stdout));
      received.push(...(await plumbing.received()));
    }
    // Assess
    expect(summaries.map((s) => s.owed)).toEqual([1, 1, 0, 1, 0]);
    expect(summaries[0].notifications).toEqual([expect.objectContaining({ state: 'ALARM', delivered: false })]);
    expect(received.map(([state]) => state)).toEqual(['ALARM', 'RECOVERED']);
    expect(received[0]?.[1]).toMatch(/^flaky\/.+\/ALARM\//);
  });

  it('direct mode: the probe bundle alone through an SNS outage gives one ALARM and one RECOVERED', async () => {
    // Prepare
    const plumbing = await alertPlumbing('smoke-direct');
    const summaries = [];
    const received = [];
    // Act
    for (const [snsUp, config] of outage()) {
      const probe = await invoke('probe.mjs', {}, { ...plumbing.env(snsUp, config), CANARY_DELIVERY: 'direct' });
      summaries.push(resultOf(probe.stdout));
      received.push(...(await plumbing.received()));
    }
    // Assess
    expect(summaries.map((s) => s.alerts?.owed)).toEqual([1, 1, 0, 1, 0]);
    expect(received.map(([state]) => state)).toEqual(['ALARM', 'RECOVERED']);
  });

  it('direct mode with samplesPerRun 3: within the packaged timeout the probe bundle runs every sample', async () => {
    // Prepare: the timeout `serverless package` gives this config (lib/run/budget.ts), less a second of cold start
    const plumbing = await alertPlumbing('smoke-samples');
    // Long step deadlines (the steps themselves are quick here) put the timeout above Lambda's 60 s floor, so the
    // last sample's slot is tight against the reserve the handler keeps.
    const raw = {
      ...JSON.parse(readFileSync(flakyHealthy, 'utf8')),
      timeouts: { stsMs: 20_000, gitMs: 30_000 },
      schedule: { samplesPerRun: 3, intervalSeconds: 1 },
    };
    const file = join(dirname(flakyHealthy), 'samples.json');
    writeFileSync(file, JSON.stringify(raw));
    const timeoutMs = probeTimeoutSeconds(parseConfig(raw), 'direct') * 1000;
    // Act
    const probe = await invoke(
      'probe.mjs',
      {},
      { ...plumbing.env(true, file), CANARY_DELIVERY: 'direct' },
      timeoutMs - 1000,
    );
    // Assess
    const summary = resultOf(probe.stdout);
    expect(summary.samples).toHaveLength(3);
    expect(summary.samples.map((s: { ok: boolean }) => s.ok)).toEqual([true, true, true]);
  });

  it('log mode with zones, the fetch and assertions: the records carry them and the notifier bundle pages on them', async () => {
    // Prepare: HEAD of test_repo is develop, so the assertion on main fails (the path steps stay ok)
    const plumbing = await alertPlumbing('smoke-expect');
    const config = sandbox.writeConfig({
      checks: { globalSts: false, path: false },
      network: { zones: { '127.0.0.0/24': 'us-east-1a' } },
      fetch: { enabled: true },
      alerts: { failuresBeforeAlert: 1, renotifyMinutes: 600 },
      targets: [{ name: 'mirror', repository: 'test_repo', roleArn: ROLE_ARN, expect: { head: 'refs/heads/main' } }],
    });
    // Act
    const probe = await invoke(
      'probe.mjs',
      {},
      { CANARY_DELIVERY: 'log', CANARY_STACK: 'smoke', CANARY_CONFIG: config },
    );
    const notifier = await invoke('notify.mjs', asSubscriptionEvent(probe.stdout), plumbing.env(true, config));
    // Assess
    const record = probe.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((o) => o.type === 'codecommit-canary/result');
    const { steps } = record.result;
    expect(steps.git.paths).toEqual([expect.objectContaining({ address: '127.0.0.1', zone: 'us-east-1a', ok: true })]);
    expect(steps.sts).toMatchObject({ ok: true, degraded: false });
    expect(steps.fetch).toMatchObject({ ok: true, commit: steps.git.headSha });
    expect(steps.fetch.objects).toBeGreaterThan(0);
    expect(steps.expect.failure).toMatchObject({ kind: 'assertion', phase: 'body' });
    expect(resultOf(notifier.stdout)).toMatchObject({ records: 1, rejected: 0 });
    expect((await plumbing.received()).map(([state]) => state)).toEqual(['ALARM']);
  });

  it('the notifier bundle rejects a record from another log group, counts it, and pages nothing', async () => {
    const plumbing = await alertPlumbing('smoke-forged');
    const probe = await invoke(
      'probe.mjs',
      {},
      { CANARY_DELIVERY: 'log', CANARY_STACK: 'smoke', CANARY_CONFIG: flakyFailing },
    );
    const forged = encodeSubscriptionEvent(probe.stdout.split('\n'), {
      owner: ACCOUNT,
      logGroup: '/aws/lambda/someone-else',
      logStream: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
    });
    const notifier = await invoke('notify.mjs', forged, plumbing.env(true, flakyFailing));
    const summary = resultOf(notifier.stdout);
    expect(summary).toMatchObject({ records: 0, notifications: [] });
    expect(summary.rejected).toBeGreaterThan(0);
    expect(notifier.stdout).toContain('"type":"codecommit-canary/records-rejected"');
    expect(await plumbing.received()).toEqual([]);
  });
});

describe('every bundle run above', () => {
  it('printed no secret: no source or assumed-role key or token, no git password, no signature', async () => {
    expect(Object.keys(outputs.channels).length).toBeGreaterThanOrEqual(10);
    assertNoSecrets(outputs.channels, await motoSecrets(sandbox.moto));
  });
});
