/**
 * Everything the demo's probe talks to, in this process, on 127.0.0.1 only: a DNS server for the demo's names,
 * a regional and a "global" STS endpoint, a git-codecommit endpoint, all over TLS with a CA made for this run.
 * Plus the config and probe dependencies that point the real probe at them.
 */
import { systemClock } from '../clock.ts';
import { type Config, parseConfig, type ResolvedTarget, resolveTargets } from '../config/config.ts';
import { serversResolve } from '../net/resolve.ts';
import type { ProbeDeps } from '../run/probe.ts';
import { CredentialStore, DEMO_SOURCE_CREDENTIALS } from './credentials.ts';
import { type DemoDnsServer, startDnsServer } from './dns-server.ts';
import { createFaultSwitches, type FaultSwitches } from './faults.ts';
import { type DemoGitServer, startGitServer } from './git-server.ts';
import { createDemoPki } from './pki.ts';
import { DEMO_REPOSITORY } from './repository.ts';
import { type DemoStsServer, startStsServer } from './sts-server.ts';

export const DEMO_REGION = 'ap-northeast-1';
/** The region the global STS endpoint signs for, as sts.amazonaws.com does. */
const GLOBAL_STS_REGION = 'us-east-1';
/** The repository's account (A) and the probe's own account (B): both invented. */
export const REPOSITORY_ACCOUNT = '111111111111';
export const PROBE_ACCOUNT = '222222222222';
export const DEMO_ROLE_ARN = `arn:aws:iam::${REPOSITORY_ACCOUNT}:role/CodeCommitCanaryReader`;
export const LOOPBACK = '127.0.0.1';

/** The demo's names. `.test` is reserved (RFC 2606): these can never reach anything real. */
export const DEMO_NAMES = {
  sts: 'sts.demo.test',
  'sts-global': 'sts-global.demo.test',
  git: 'git.demo.test',
} as const;

export interface SandboxOptions {
  /** Deadline of each step (ms). */
  deadlineMs: number;
}

export interface Sandbox {
  config: Config;
  targets: ResolvedTarget[];
  /** The real probe's dependencies: the demo DNS server, only the demo CA trusted, the demo's fake source key. */
  deps: ProbeDeps;
  faults: FaultSwitches;
  credentials: CredentialStore;
  dns: DemoDnsServer;
  sts: DemoStsServer;
  stsGlobal: DemoStsServer;
  git: DemoGitServer;
  /** Endpoint URLs by name (the DNS server's address for `dns`). */
  endpoints: { dns: string; sts: string; 'sts-global': string; git: string };
  stop(): Promise<void>;
}

/**
 * Starts the sandbox and builds a validated config for it (the same schema as a deployment's config file).
 *
 * @example
 * const sandbox = await startSandbox({ deadlineMs: 1500 });
 * const report = await probeAll(sandbox.targets, sandbox.deps, { concurrency: 1 });
 * await sandbox.stop();
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const pki = createDemoPki(Object.values(DEMO_NAMES));
  const faults = createFaultSwitches();
  const credentials = new CredentialStore();
  const sts = { pki, credentials, roles: [DEMO_ROLE_ARN], callerAccount: PROBE_ACCOUNT };
  const zone = Object.fromEntries(Object.values(DEMO_NAMES).map((name) => [name, [LOOPBACK]]));
  const started = await Promise.allSettled([
    startDnsServer(zone, faults.dns),
    startStsServer({ ...sts, region: DEMO_REGION, faults: faults.sts }),
    startStsServer({ ...sts, region: GLOBAL_STS_REGION, faults: faults['sts-global'] }),
    startGitServer({ pki, region: DEMO_REGION, credentials, repositories: [DEMO_REPOSITORY], faults: faults.git }),
  ]);
  const stopAll = () =>
    Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined))).then(() => {});
  const [dnsStarted, stsStarted, globalStarted, gitStarted] = started;
  if (
    dnsStarted?.status !== 'fulfilled' ||
    stsStarted?.status !== 'fulfilled' ||
    globalStarted?.status !== 'fulfilled' ||
    gitStarted?.status !== 'fulfilled'
  ) {
    await stopAll();
    const failed = started.find((s) => s.status === 'rejected');
    throw new Error(`the demo sandbox did not start: ${String(failed?.reason)}`);
  }
  const [dns, regional, global, git] = [dnsStarted.value, stsStarted.value, globalStarted.value, gitStarted.value];
  const endpoints = {
    dns: dns.server,
    sts: `https://${DEMO_NAMES.sts}:${regional.port}`,
    'sts-global': `https://${DEMO_NAMES['sts-global']}:${global.port}`,
    git: `https://${DEMO_NAMES.git}:${git.port}`,
  };
  const config = parseConfig(
    {
      region: DEMO_REGION,
      timeouts: { stsMs: options.deadlineMs, gitMs: options.deadlineMs, stsGlobalMs: options.deadlineMs },
      dns: { servers: [dns.server] },
      // The global STS check calls the sandbox's stand-in, never sts.amazonaws.com.
      endpoints: { sts: endpoints.sts, git: endpoints.git, stsGlobal: endpoints['sts-global'] },
      // The path check resolves the real AWS names; the demo's names are its own, so it has nothing to say here.
      checks: { globalSts: true, path: false },
      metrics: { namespace: 'CodeCommitCanaryDemo', detail: 'basic' },
      alerts: { failuresBeforeAlert: 2, renotifyMinutes: 60 },
      targets: [{ name: 'team-repo', repository: DEMO_REPOSITORY.name, roleArn: DEMO_ROLE_ARN }],
    },
    'demo config',
  );
  const deps: ProbeDeps = {
    clock: systemClock,
    resolve: serversResolve(config.dns?.servers ?? [dns.server]),
    // Only the demo CA: verification stays on, and nothing outside the sandbox could be trusted anyway.
    tls: { ca: [pki.caPem] },
    sourceCredentials: async () => ({ ...DEMO_SOURCE_CREDENTIALS }),
    maxAdvertisementBytes: config.maxAdvertisementBytes,
  };
  return {
    config,
    targets: resolveTargets(config),
    deps,
    faults,
    credentials,
    dns,
    sts: regional,
    stsGlobal: global,
    git,
    endpoints,
    stop: stopAll,
  };
}
