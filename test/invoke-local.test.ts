import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SOURCE_CREDENTIALS } from '../harness/moto.ts';
import { ROLE_ARN, type Sandbox, startSandbox } from '../harness/sandbox.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => sandbox?.stop());

/** `serverless invoke local` (osls): bundles with serverless-esbuild, the config defined in, then runs the handler. */
function invokeLocal(configPath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      [
        'serverless',
        'invoke',
        'local',
        '--function',
        'probe',
        '--stage',
        'test',
        '--data',
        '{}',
        `--param=configPath=${configPath}`,
        '--param=subnetIds=subnet-0123456789abcdef0',
        '--param=securityGroupIds=sg-0123456789abcdef0',
      ],
      {
        // stdin closed: invoke local reads the event from a piped stdin otherwise, and would wait for it.
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: FAKE_SOURCE_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: FAKE_SOURCE_CREDENTIALS.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          NODE_EXTRA_CA_CERTS: sandbox.pki.caFile,
        },
        timeout: 90_000,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('serverless invoke local --function probe', () => {
  it('runs the probe against a local config and prints records, EMF and the summary', async () => {
    const configPath = sandbox.writeConfig({
      endpoints: { sts: sandbox.stsEndpoint, git: sandbox.gitEndpoint, stsGlobal: sandbox.stsEndpoint },
      targets: [{ name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN }],
    });
    const run = await invokeLocal(configPath);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"type":"codecommit-canary/result"');
    expect(run.stdout).toMatch(/"_aws":\{"Timestamp":\d+,"CloudWatchMetrics"/);
    expect(run.stdout).toMatch(/"failed": \[\]/);
    expect(run.stdout).not.toContain(FAKE_SOURCE_CREDENTIALS.secretAccessKey);
  });
});
