/**
 * Hosts of other regions end to end: the CodeCommit test server checks the region a host names (as CodeCommit in
 * that region does), so a probe that signs for the wrong region fails here with 403.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION, ROLE_ARN, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { resolveTarget } from '../lib/config/config.ts';
import { probeTarget } from '../lib/run/probe.ts';
import { type DnsServer, startDnsServer } from '../lib/sandbox/dns.ts';
import { writeSwitchRoleProfile } from './support/aws-profile.ts';
import { runCli } from './support/run-cli.ts';

const VPCE_WEST = 'vpce-0b47ea360adebf88a-jkl88hez.git-codecommit.us-west-2.vpce.amazonaws.com';
const WEST = 'git-codecommit.us-west-2.amazonaws.com';
const EAST = 'git-codecommit.us-east-1.amazonaws.com';

let sandbox: Sandbox;
let dns: DnsServer;
beforeAll(async () => {
  sandbox = await startSandbox();
  dns = await startDnsServer({
    [VPCE_WEST]: { a: ['127.0.0.1'] },
    [WEST]: { a: ['127.0.0.1'] },
    [EAST]: { a: ['127.0.0.1'] },
    'sts.canary.test': { a: ['127.0.0.1'] },
  });
}, 60_000);
afterAll(async () => {
  await Promise.allSettled([sandbox?.stop(), dns?.stop()]);
});

const settings = () => ({
  region: REGION,
  endpoints: { sts: sandbox.stsEndpoint },
  timeouts: { stsMs: 5000, gitMs: 10_000, stsGlobalMs: 3000 },
});
const deps = () => ({
  ...sandbox.deps,
  resolve: (host: string, signal: AbortSignal) =>
    host.endsWith('.amazonaws.com') ? Promise.resolve(['127.0.0.1']) : sandbox.deps.resolve(host, signal),
});

describe('a host of another region', () => {
  it('a password signed for another region than the server’s is refused (403, auth)', async () => {
    // git.canary.test names no region: the server checks for its own (us-east-1); the probe signs for the target's.
    const target = resolveTarget(
      {
        name: 'wrong-region',
        repository: 'test_repo',
        roleArn: ROLE_ARN,
        region: 'us-west-2',
        endpoints: { git: sandbox.gitEndpoint },
      },
      settings(),
    );
    const result = await probeTarget(target, deps());
    expect(result.steps.git.failure).toMatchObject({ kind: 'auth', status: 403 });
  });

  it('probes through a vpce name of us-west-2 for a us-east-1 target: signed for the host’s region', async () => {
    const target = resolveTarget(
      {
        name: 'vpce-west',
        repository: 'test_repo',
        roleArn: ROLE_ARN,
        endpoints: { git: `https://${VPCE_WEST}:${sandbox.git.port}` },
      },
      settings(),
    );
    expect(target.region).toBe(REGION);
    const result = await probeTarget(target, deps());
    expect(result.steps.git.failure).toBeNull();
    expect(result.ok).toBe(true);
    expect(sandbox.git.log.at(-1)).toMatchObject({ status: 200, path: '/v1/repos/test_repo/info/refs' });
  });

  it('probes the https remote form: region and endpoint from the URL', async () => {
    const target = resolveTarget(
      { name: 'https-remote', url: `https://${WEST}:${sandbox.git.port}/v1/repos/test_repo`, roleArn: ROLE_ARN },
      settings(),
    );
    expect(target).toMatchObject({ region: 'us-west-2', gitEndpoint: `https://${WEST}:${sandbox.git.port}` });
    const result = await probeTarget(target, deps());
    expect(result.ok).toBe(true);
    expect(result.steps.git.refs).toBeGreaterThan(0);
  });

  it('the CLI: a bare-host CODE_COMMIT_ENDPOINT, and the https remote form, as git-remote-codecommit and git take them', async () => {
    const env = {
      ...writeSwitchRoleProfile(mkdtempSync(join(tmpdir(), 'canary-regions-'))),
      AWS_PROFILE: 'switchrole',
    };
    const common = ['--sts-endpoint', sandbox.stsEndpoint, '--dns-server', dns.server, '--ca-file', sandbox.pki.caFile];
    const [bare, remote] = await Promise.all([
      runCli(['probe', 'codecommit::us-east-1://switchrole@test_repo', ...common, '--json'], {
        ...env,
        CODE_COMMIT_ENDPOINT: `${VPCE_WEST}:${sandbox.git.port}`,
      }),
      runCli(['probe', `https://${WEST}:${sandbox.git.port}/v1/repos/test_repo`, ...common, '--json'], env),
    ]);
    expect(bare.stderr).toBe('');
    expect(bare.code).toBe(0);
    expect(JSON.parse(bare.stdout).targets[0].steps.git).toMatchObject({
      ok: true,
      endpoint: `https://${VPCE_WEST}:${sandbox.git.port}`,
    });
    expect(remote.code).toBe(0);
    expect(JSON.parse(remote.stdout).targets[0]).toMatchObject({ region: 'us-west-2', ok: true });
  }, 60_000);
});
