import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { CredentialStore } from '../lib/sandbox/credentials.ts';
import { createPki } from '../lib/sandbox/pki.ts';
import { type StsStandIn, startStsStandIn } from '../lib/sandbox/sts.ts';
import { lambdaBundle } from './infra/modules.ts';

/**
 * The probe's Lambda bundle, built as scripts/build.mjs builds it (the default credential chain aliased to the
 * environment's), run in its own Node process against an STS stand-in that records what it receives: the
 * AssumeRole it sends carries the GitPull-only session policy, signed with the credentials from the environment
 * and nothing else (no profile, no metadata endpoint).
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROLE_ARN = 'arn:aws:iam::111111111111:role/CodeCommitCanaryReader';
const ENV_KEY = 'AKIAENVIRONMENTKEY01';
const ENV_SECRET = 'environment-secret';
const REGION = 'ap-northeast-1';

/** The form of each signed request the stand-in received, and the key it was signed with. */
const received: Array<{ accessKeyId: string; params: URLSearchParams }> = [];
let sts: StsStandIn;
let endpoint: string;
let dir: string;

/** The stand-in's CA as a file in the function's folder, for the config's `tls.caFile`. */
const caFile = (folder: string, pem: string): string => {
  writeFileSync(join(folder, 'ca.pem'), pem);
  return join(folder, 'ca.pem');
};

beforeAll(async () => {
  const pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
  sts = await startStsStandIn({
    tls: pki,
    region: REGION,
    credentials: new CredentialStore({ sources: [{ accessKeyId: ENV_KEY, secretAccessKey: ENV_SECRET }] }),
    onRequest: (request) => received.push(request),
  });
  endpoint = sts.url;

  dir = mkdtempSync(join(tmpdir(), 'canary-bundle-'));
  await build({
    entryPoints: [join(ROOT, 'handlers/probe.ts')],
    outfile: join(dir, 'probe.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    logLevel: 'silent',
    // As scripts/build.mjs and serverless.yml build the functions (infra/lambda-bundle.cjs).
    banner: lambdaBundle.banner,
    alias: Object.fromEntries(Object.entries(lambdaBundle.alias).map(([from, to]) => [from, join(ROOT, to)])),
    mainFields: lambdaBundle.mainFields,
    external: lambdaBundle.external,
    plugins: lambdaBundle.plugins,
  });
  // Packaged as `serverless package` packages it (lib/config/packaged.ts).
  writeFileSync(
    join(dir, 'canary.config.json'),
    packConfig(
      parseConfig({
        region: REGION,
        endpoints: { sts: endpoint, git: endpoint },
        tls: { caFile: caFile(dir, pki.caPem) },
        checks: { globalSts: false, path: false },
        targets: [{ name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN, externalId: 'canary-test-id' }],
      }),
    ),
  );
});
afterAll(async () => {
  await sts?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the probe bundle', () => {
  it('ships no provider but the environment’s', () => {
    const bundle = readFileSync(join(dir, 'probe.mjs'), 'utf8');
    for (const marker of ['fromSSO', 'credential_process', 'fromTokenFile', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
      expect([marker, bundle.includes(marker)]).toEqual([marker, false]);
    }
  });

  it('assumes the role with the environment’s credentials and the GitPull-only session policy', async () => {
    // Prepare: only the environment's credentials; profiles and the metadata endpoint point nowhere.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: ENV_KEY,
      AWS_SECRET_ACCESS_KEY: ENV_SECRET,
      AWS_SESSION_TOKEN: 'environment-token',
      AWS_REGION: REGION,
      AWS_CONFIG_FILE: join(dir, 'missing-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'missing-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      CANARY_CONFIG: 'canary.config.json',
      LAMBDA_TASK_ROOT: dir,
      CANARY_DELIVERY: 'log',
      CANARY_STACK: 'codecommit-canary-test',
    };
    received.length = 0;

    // Act: one scheduled invocation, as Lambda makes it.
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import(${JSON.stringify(join(dir, 'probe.mjs'))});
         await handler({}, { getRemainingTimeInMillis: () => 30_000 });`,
      ],
      { cwd: dir, env, timeout: 30_000 },
    );

    // Assess: the AssumeRole as the stand-in received it.
    const assume = received.find((request) => request.params.get('Action') === 'AssumeRole');
    expect(assume?.accessKeyId).toBe(ENV_KEY);
    expect(assume?.params.get('RoleArn')).toBe(ROLE_ARN);
    expect(assume?.params.get('ExternalId')).toBe('canary-test-id');
    expect(assume?.params.get('RoleSessionName')).toBe('codecommit-canary-team-repo');
    expect(JSON.parse(assume?.params.get('Policy') ?? 'null')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'GitPullOnly',
          Effect: 'Allow',
          Action: 'codecommit:GitPull',
          Resource: 'arn:aws:codecommit:ap-northeast-1:111111111111:test_repo',
        },
      ],
    });
    // The run reported: its sts step ok with the stand-in's account.
    const record = stdout
      .split('\n')
      .filter((line) => line.includes('"codecommit-canary/result"'))
      .map((line) => JSON.parse(line) as { result: { steps: { sts: { ok: boolean; accountId?: string } } } })[0];
    expect(record?.result.steps.sts).toMatchObject({ ok: true, accountId: '111111111111' });
  });
});
