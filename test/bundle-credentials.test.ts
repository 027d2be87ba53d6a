import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
const ANSWER = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>arn:aws:sts::111111111111:assumed-role/CodeCommitCanaryReader/s</Arn></AssumedRoleUser>
<Credentials><AccessKeyId>ASIAISSUEDEXAMPLE001</AccessKeyId><SecretAccessKey>issued-secret</SecretAccessKey><SessionToken>issued-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;

interface Received {
  path: string;
  authorization: string;
  params: URLSearchParams;
}
const received: Received[] = [];
let server: Server;
let endpoint: string;
let dir: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        authorization: String(request.headers.authorization ?? ''),
        params: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      });
      if (request.method === 'POST') response.writeHead(200, { 'content-type': 'text/xml' }).end(ANSWER);
      else response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

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
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    // As scripts/build.mjs and serverless.yml build the functions.
    alias: {
      '@aws-sdk/credential-provider-node': join(ROOT, 'lib/run/env-credentials.ts'),
      '@aws-sdk/credential-providers': join(ROOT, 'lib/run/env-credentials.ts'),
    },
  });
  writeFileSync(
    join(dir, 'canary.config.json'),
    JSON.stringify({
      region: 'ap-northeast-1',
      endpoints: { sts: endpoint, git: endpoint },
      checks: { globalSts: false, path: false },
      targets: [{ name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN, externalId: 'canary-test-id' }],
    }),
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
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
      AWS_SECRET_ACCESS_KEY: 'environment-secret',
      AWS_SESSION_TOKEN: 'environment-token',
      AWS_REGION: 'ap-northeast-1',
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
    expect(assume?.authorization).toContain(`Credential=${ENV_KEY}/`);
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
