import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SOURCE_CREDENTIALS } from '../harness/moto.ts';
import { REGION, ROLE_ARN, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { assertNoSecrets, motoSecrets, OutputLog } from '../harness/secrets.ts';
import { addressSet } from '../lib/sandbox/address-set.ts';
import { writeSwitchRoleProfile } from './support/aws-profile.ts';
import { runCli as runCliProcess } from './support/run-cli.ts';

/** Every CLI run's stdout and stderr, scanned for secrets by the last test. */
const outputs = new OutputLog();
const runCli: typeof runCliProcess = async (args, ...rest) =>
  outputs.record(`codecommit-canary ${args.join(' ')}`, await runCliProcess(args, ...rest));

let sandbox: Sandbox;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sandbox = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), 'canary-cli-'));
  env = {
    AWS_ACCESS_KEY_ID: FAKE_SOURCE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_SOURCE_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  };
});
afterAll(async () => sandbox?.stop());

const writeConfig = (name: string, body: unknown): string => {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  return file;
};

const sandboxConfig = () =>
  sandbox.config({
    timeouts: { stsMs: 5000, gitMs: 5000 },
    tls: { caFile: sandbox.pki.caFile },
    targets: [
      { name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN },
      { name: 'by-url', url: `codecommit::${REGION}://empty_repo`, roleArn: ROLE_ARN },
      { name: 'missing', repository: 'no_such_repo', roleArn: ROLE_ARN },
    ],
  });

/** Every secret the run could have seen: the caller's key and each assumed role's secret and token. */
async function secrets(): Promise<string[]> {
  const roles = await sandbox.moto.assumedRoles();
  return [FAKE_SOURCE_CREDENTIALS.secretAccessKey, ...roles.flatMap((r) => [r.secret_access_key, r.session_token])];
}

describe('codecommit-canary probe --config', () => {
  it('--json prints the report contract and exits 1 when a target failed', async () => {
    const file = writeConfig('good.json', sandboxConfig());
    const run = await runCli(['probe', '--config', file, '--json'], env);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report).sort()).toEqual(['durationMs', 'findings', 'ok', 'startedAt', 'targets']);
    // The global endpoint's name does not resolve in the sandbox while the regional one answers.
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(['global-sts-unreachable']);
    expect(report.ok).toBe(false);
    expect(report.targets.map((t: { name: string; ok: boolean }) => [t.name, t.ok])).toEqual([
      ['team-repo', true],
      ['by-url', true],
      ['missing', false],
    ]);
    const git = report.targets[0].steps.git;
    for (const key of [
      'ok',
      'endpoint',
      'addresses',
      'private',
      'durationMs',
      'phases',
      'failure',
      'refs',
      'head',
      'headSha',
    ]) {
      expect(git).toHaveProperty(key);
    }
    expect(Object.keys(git.phases).sort()).toEqual(['connectMs', 'dnsMs', 'firstByteMs', 'tlsMs', 'transferMs']);
    expect(git).toMatchObject({ ok: true, head: 'refs/heads/develop', failure: null });
    expect(report.targets[2].steps.git.failure).toMatchObject({ kind: 'not-found', phase: 'response' });
    for (const secret of await secrets()) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  });

  it('human output: per target both steps, the waterfall, the failure; no colour when not a terminal', async () => {
    const file = writeConfig('good.json', sandboxConfig());
    const run = await runCli(['probe', '--config', file], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✔ team-repo\s+test_repo @ us-east-1/);
    expect(run.stdout).toMatch(/git\s+ok\s+.*refs, HEAD → refs\/heads\/develop/);
    expect(run.stdout).toMatch(/✘ missing/);
    expect(run.stdout).toMatch(/FAIL\s+not-found in response HTTP 404/);
    for (const phase of ['dns', 'connect', 'tls', 'first byte', 'transfer']) expect(run.stdout).toContain(phase);
    expect(run.stdout).not.toContain('\u001b[');
    expect(run.stdout).toMatch(/hint: .*repository name/i);
    expect(run.stdout).toMatch(/WARNING global-sts-unreachable: /);
  });

  it('one dead address of the git name: the step FAILs on it, degraded, and the hint names its zone', async () => {
    // Prepare: git-cli-az answers the git server's address and a refused one, each in its zone
    const refused = await addressSet(sandbox.pki, { '127.0.0.2': 'refused' }, sandbox.git.port);
    sandbox.dns.set('git-cli-az.canary.test', { a: ['127.0.0.1', '127.0.0.2'] });
    const config = sandbox.config({
      endpoints: { sts: sandbox.stsEndpoint, git: `https://git-cli-az.canary.test:${sandbox.git.port}` },
      tls: { caFile: sandbox.pki.caFile },
      network: { zones: { '127.0.0.1/32': 'us-east-1a', '127.0.0.2/32': 'us-east-1b' } },
      targets: [{ name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN }],
    });
    try {
      // Act
      const run = await runCli(['probe', '--config', writeConfig('az.json', config)], env);
      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/git\s+FAIL\s+refused in connect on 127\.0\.0\.2 \(us-east-1b\)/);
      expect(run.stdout).toMatch(/127\.0\.0\.1 \(us-east-1a\)\s+ok/);
      expect(run.stdout).toMatch(/hint: .*us-east-1b/);
    } finally {
      await refused.stop();
    }
  });

  it('--target probes only the named target; exit 0 when it is ok', async () => {
    const file = writeConfig('good.json', sandboxConfig());
    const run = await runCli(['probe', '-c', file, '--target', 'team-repo', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).targets.map((t: { name: string }) => t.name)).toEqual(['team-repo']);
  });

  it('a bad config: one message per problem naming the field, exit 2, nothing probed', async () => {
    const config = sandboxConfig();
    const bad = {
      ...config,
      timeouts: { stsMs: 5, gitMs: 5000 },
      targets: [...config.targets, { name: 'team-repo', repository: 'x', roleArn: 'arn:aws:iam::1:role/Nope' }],
    };
    const file = writeConfig('bad.json', bad);
    const gitRequests = sandbox.git.requests;
    const assumed = (await sandbox.moto.assumedRoles()).length;
    const run = await runCli(['probe', '--config', file], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        `${file}: invalid config`,
        '  timeouts.stsMs: expected milliseconds between 100 and 60000',
        '  targets[3].roleArn: expected an IAM role ARN like arn:aws:iam::111111111111:role/Name',
        '  targets[3].name: duplicate target name "team-repo" (also targets[0].name)',
        '',
      ].join('\n'),
    );
    expect(sandbox.git.requests).toBe(gitRequests);
    expect((await sandbox.moto.assumedRoles()).length).toBe(assumed);
  });

  it('usage errors exit 2 with the usage text', async () => {
    for (const args of [['probe'], ['frobnicate'], ['probe', '--bogus'], []]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('Usage:');
    }
    const unreadable = await runCli(['probe', '--config', join(dir, 'absent.json')], env);
    expect(unreadable).toMatchObject({ code: 2 });
    expect(unreadable.stderr).toContain('cannot read the file: ENOENT');
  });
});

describe('codecommit-canary probe codecommit://profile@repo', () => {
  const profileEnv = (extra: string) => ({ PATH: process.env.PATH, ...writeSwitchRoleProfile(dir, extra) });
  const overrides = () => [
    '--sts-endpoint',
    sandbox.stsEndpoint,
    '--git-endpoint',
    sandbox.gitEndpoint,
    '--dns-server',
    sandbox.dns.server,
    '--ca-file',
    sandbox.pki.caFile,
  ];

  it('resolves role_arn + source_profile through the SDK and assumes the role itself', async () => {
    const run = await runCli(['probe', 'codecommit://switchrole@test_repo', ...overrides(), '--json'], profileEnv(''));
    expect(run.stderr).not.toContain('warning');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.targets[0]).toMatchObject({ name: 'switchrole@test_repo', roleArn: ROLE_ARN, region: REGION });
    expect((await sandbox.moto.assumedRoles()).at(-1)).toMatchObject({
      role_arn: ROLE_ARN,
      session_name: 'from-profile',
    });
  });

  it('warns when the profile would send AWS CLI v1 to the global STS endpoint', async () => {
    const run = await runCli(
      ['probe', 'codecommit://switchrole@test_repo', ...overrides()],
      profileEnv('sts_regional_endpoints = legacy\n'),
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('sts_regional_endpoints=legacy');
    expect(run.stderr).toContain('https://sts.amazonaws.com');
  });

  it('--fetch adds the shallow fetch of HEAD; every address is checked unless --no-every-address', async () => {
    // Act
    const fetched = await runCli(
      ['probe', 'codecommit://switchrole@test_repo', ...overrides(), '--fetch', '--json'],
      profileEnv(''),
    );
    const firstOnly = await runCli(
      ['probe', 'codecommit://switchrole@test_repo', ...overrides(), '--no-every-address', '--json'],
      profileEnv(''),
    );
    const human = await runCli(
      ['probe', 'codecommit://switchrole@test_repo', ...overrides(), '--fetch-timeout-ms', '5000'],
      profileEnv(''),
    );

    // Assess: the fetch got the commit ls-remote advertised as HEAD; the paths are every address of each name
    expect(fetched.code).toBe(0);
    const { steps } = JSON.parse(fetched.stdout).targets[0];
    expect(steps.fetch).toMatchObject({ ok: true, commit: steps.git.headSha, failure: null });
    expect(steps.fetch.packBytes).toBeGreaterThan(0);
    for (const step of [steps.sts, steps.git]) {
      expect(step.paths.map((p: { address: string }) => p.address)).toEqual(step.addresses);
      expect(step.paths.every((p: { ok: boolean }) => p.ok)).toBe(true);
    }
    const first = JSON.parse(firstOnly.stdout).targets[0].steps;
    expect(first.fetch).toBeUndefined();
    expect(first.git.paths).toBeUndefined();
    expect(first.sts.paths).toBeUndefined();
    // The human report: a path line per address under each step, the fetch's line with its commit
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ {9}every address \(░ dns/m);
    expect(human.stdout).toMatch(new RegExp(`^ {9}${steps.git.addresses[0].replace(/\./g, '\\.')}\\s+ok\\s+`, 'm'));
    expect(human.stdout).toMatch(
      new RegExp(
        `^ {2}fetch {2}ok .* commit ${steps.git.headSha.slice(0, 12)}, \\d+ objects, [\\d.]+ (?:B|KiB|MiB) pack`,
        'm',
      ),
    );
  });

  it('fetch flags: a bad value names its flag; with --config they are refused, naming the field to set', async () => {
    const bad = await runCli(['probe', 'codecommit://switchrole@r', '--fetch-timeout-ms', '5'], profileEnv(''));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fetch-timeout-ms: expected milliseconds between 100 and 120000');
    const file = writeConfig('good.json', sandboxConfig());
    const withConfig = await runCli(['probe', '--config', file, '--fetch'], env);
    expect(withConfig.code).toBe(2);
    expect(withConfig.stderr).toContain(
      '--fetch is for a codecommit:// URL; with --config set fetch.enabled in the file',
    );
  });

  it('an unknown profile names the ones that exist; exit 2', async () => {
    const run = await runCli(['probe', 'codecommit://nobody@test_repo', ...overrides()], profileEnv(''));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('profile "nobody" not found');
    expect(run.stderr).toContain('known profiles: base, switchrole');
  });

  it('a bad URL or flag value is a usage error naming it', async () => {
    const bad = await runCli(['probe', 'codecommit://a/b'], profileEnv(''));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected codecommit://[profile@]repository');
    const flag = await runCli(
      ['probe', 'codecommit://switchrole@r', '--sts-endpoint', 'http://10.1.2.3'],
      profileEnv(''),
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--sts-endpoint: expected an https:// URL (http:// only for loopback)');
  });
});

describe('codecommit-canary probe without credentials', () => {
  it('says so and exits 2 instead of reporting an endpoint failure', async () => {
    const file = writeConfig('good.json', sandboxConfig());
    const run = await runCli(['probe', '--config', file], {
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('credentials: invalid config');
    expect(run.stderr).toContain('no AWS credentials to call AssumeRole with');
  });
});

describe('codecommit-canary check --config', () => {
  it('says valid and exits 0, or lists every problem and exits 2, probing nothing', async () => {
    const good = writeConfig('check-good.json', sandboxConfig());
    const ok = await runCli(['check', '--config', good], env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe(`${good}: valid, 3 target(s): team-repo, by-url, missing\n`);
    const bad = writeConfig('check-bad.json', { ...sandboxConfig(), dns: { server: '10.0.0.2' } });
    const gitRequests = sandbox.git.requests;
    const failed = await runCli(['check', '--config', bad], env);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe(
      `${bad}: invalid config\n  dns.servers: required: a list of DNS server addresses like ["10.0.0.2"]\n  dns: unknown field(s) "server"\n`,
    );
    expect(sandbox.git.requests).toBe(gitRequests);
  });
});

describe('every run above', () => {
  it('printed no secret: no source or assumed-role key or token, no git password, no signature', async () => {
    expect(Object.keys(outputs.channels).length).toBeGreaterThan(20);
    assertNoSecrets(outputs.channels, await motoSecrets(sandbox.moto));
  });
});
