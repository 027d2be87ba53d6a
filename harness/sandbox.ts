/**
 * The tests' sandbox: the oracles (moto for STS and the other AWS services, the CodeCommit server wrapping the
 * real `git http-backend`, real repositories) behind lib/sandbox's DNS server for `*.canary.test`, all over TLS
 * with lib/sandbox's PKI written to files for the tools that read files (moto_server, git, NODE_EXTRA_CA_CERTS).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../lib/clock.ts';
import type { ResolvedTarget } from '../lib/config/config.ts';
import { serversResolve } from '../lib/net/resolve.ts';
import { trustedContext } from '../lib/net/trust.ts';
import type { ProbeDeps } from '../lib/run/probe.ts';
import { type DnsServer, startDnsServer } from '../lib/sandbox/dns.ts';
import type { TlsIdentity } from '../lib/sandbox/https-stand-in.ts';
import { createPki, type Pki, type PkiFiles, writePkiFiles } from '../lib/sandbox/pki.ts';
import { type GitServer, startGitServer } from './git-server.ts';
import { FAKE_SOURCE_CREDENTIALS, type Moto, startMoto } from './moto.ts';
import { createEmptyRepo, createManyRefsRepo, createRichRepo } from './repos.ts';

export const REGION = 'us-east-1';
export const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';

/** Names the server certificate covers: loopback, `*.test`, and the canonical AWS names tests resolve to loopback. */
export const TEST_SERVER_NAMES = [
  'localhost',
  '*.canary.test',
  'sts.amazonaws.com',
  '*.ap-northeast-1.amazonaws.com',
  '*.us-east-1.amazonaws.com',
  '*.us-west-2.amazonaws.com',
  '*.cn-north-1.amazonaws.com.cn',
  '*.git-codecommit.us-west-2.vpce.amazonaws.com',
];

/** The tests' PKI: the certificates in memory (for in-process servers) and as files. */
export type TestPki = Pki & PkiFiles;

/**
 * A CA made for this test run and one server certificate it signed, valid a year, so no test trips the
 * certificate-expiry finding by accident (tests of that finding issue their own with `issueServerCertificate`).
 */
export function createTestPki(): TestPki {
  const pki = createPki({
    names: TEST_SERVER_NAMES,
    ips: ['127.0.0.1', '::1'],
    validDays: 365,
    caName: 'codecommit-canary test CA',
  });
  return { ...pki, ...writePkiFiles(pki) };
}

/** Another server certificate from the test CA, valid `days` days (for the certificate-expiry finding). */
export function issueServerCertificate(pki: TestPki, days: number): TestPki {
  const identity: TlsIdentity = pki.issue(days);
  return { ...pki, ...identity, ...writePkiFiles({ ...pki, ...identity }, pki.dir, `short-${days}d`) };
}

interface SandboxConfig {
  region: string;
  dns: { servers: string[] };
  endpoints: { sts: string; git: string };
}

/** Everything a probe talks to, on loopback: moto (STS …), the CodeCommit server, a DNS server for `*.test`. */
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
  /** A config pointing at the sandbox (its region, DNS server, STS and git endpoints), `fields` on top. */
  config<T extends Record<string, unknown>>(fields: T): SandboxConfig & T;
  /** `config(fields)` written to a file (named `name`, in a folder of the sandbox's); returns its path. */
  writeConfig(fields: Record<string, unknown>, name?: string): string;
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
  const configDir = mkdtempSync(join(tmpdir(), 'canary-config-'));
  let configs = 0;
  const config = <T extends Record<string, unknown>>(fields: T): SandboxConfig & T => ({
    region: REGION,
    dns: { servers: [dns.server] },
    endpoints: { sts: stsEndpoint, git: gitEndpoint },
    ...fields,
  });
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
      stsRegion: REGION,
      gitEndpoint,
      timeouts: { stsMs: 5000, gitMs: 10_000 },
      // Off unless a test turns them on: the tests that count requests count the steps' own.
      everyAddress: false,
      fetch: null,
      ...overrides,
    }),
    config,
    writeConfig(fields, name = `canary-${++configs}.config.json`) {
      const file = join(configDir, name);
      writeFileSync(file, JSON.stringify(config(fields), null, 2));
      return file;
    },
    async stop() {
      await Promise.allSettled([moto.stop(), git.stop(), dns.stop()]);
    },
  };
}
