import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../lib/clock.ts';
import type { ResolvedTarget } from '../../lib/config/config.ts';
import { serversResolve } from '../../lib/net/resolve.ts';
import { trustedContext } from '../../lib/net/trust.ts';
import type { ProbeDeps } from '../../lib/run/probe.ts';
import { type DnsServer, startDnsServer } from './dns-server.ts';
import { type GitServer, startGitServer } from './git-server.ts';
import { FAKE_SOURCE_CREDENTIALS, type Moto, startMoto } from './moto.ts';
import { createTestPki, type TestPki } from './pki.ts';
import { createEmptyRepo, createManyRefsRepo, createRichRepo } from './repos.ts';

export const REGION = 'us-east-1';
export const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';

/** Everything a probe talks to, on loopback: moto (STS …), the CodeCommit stand-in, a DNS server for `*.test`. */
export interface Sandbox {
  pki: TestPki;
  moto: Moto;
  git: GitServer;
  dns: DnsServer;
  projectRoot: string;
  stsEndpoint: string;
  gitEndpoint: string;
  deps: ProbeDeps;
  target(overrides?: Partial<ResolvedTarget>): ResolvedTarget;
  stop(): Promise<void>;
}

export async function startSandbox(options: { manyRefs?: boolean } = {}): Promise<Sandbox> {
  const pki = createTestPki();
  const projectRoot = mkdtempSync(join(tmpdir(), 'canary-repos-'));
  createRichRepo(projectRoot, 'test_repo');
  createEmptyRepo(projectRoot, 'empty_repo');
  if (options.manyRefs) createManyRefsRepo(projectRoot, 'many_refs');
  const [moto, dns] = await Promise.all([
    startMoto(pki),
    startDnsServer({ 'sts.canary.test': { a: ['127.0.0.1'] }, 'git.canary.test': { a: ['127.0.0.1'] } }),
  ]);
  const git = await startGitServer({ pki, projectRoot, region: REGION, secretFor: moto.secretFor });
  const stsEndpoint = `https://sts.canary.test:${moto.port}`;
  const gitEndpoint = `https://git.canary.test:${git.port}`;
  const deps: ProbeDeps = {
    clock: systemClock,
    resolve: serversResolve([dns.server]),
    tls: { secureContext: trustedContext(pki.caFile) },
    sourceCredentials: async () => ({ ...FAKE_SOURCE_CREDENTIALS }),
    maxAdvertisementBytes: 16 * 1024 * 1024,
  };
  return {
    pki,
    moto,
    git,
    dns,
    projectRoot,
    stsEndpoint,
    gitEndpoint,
    deps,
    target: (overrides = {}) => ({
      name: 'team-repo',
      repository: 'test_repo',
      region: REGION,
      roleArn: ROLE_ARN,
      sessionName: 'canary-test',
      stsEndpoint,
      gitEndpoint,
      timeouts: { stsMs: 5000, gitMs: 10_000 },
      ...overrides,
    }),
    async stop() {
      await Promise.allSettled([moto.stop(), git.stop(), dns.stop()]);
    },
  };
}
