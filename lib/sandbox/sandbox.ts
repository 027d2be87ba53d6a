/**
 * The demo's sandbox (the deployment benchmark's too): everything its probe talks to, in this process, on loopback only — a DNS server for the
 * sandbox's names, a regional and a "global" STS endpoint, a CodeCommit endpoint behind three addresses (one per
 * Availability Zone, as an interface endpoint's name answers), all over TLS with a CA made for this run, each
 * with a fault switch. Plus the config and probe dependencies that point the real probe at
 * them. Node alone: it ships in the CLI (`codecommit-canary demo`).
 */
import { systemClock } from '../clock.ts';
import { type Config, parseConfig, type ResolvedTarget, resolveTargets } from '../config/config.ts';
import { serversResolve } from '../net/resolve.ts';
import { zoneLabeller } from '../net/zones.ts';
import type { ProbeDeps } from '../run/probe.ts';
import type { AwsCredentials } from '../steps/git/password.ts';
import { type AwsStandIns, startAwsStandIns } from './aws-stand-ins.ts';
import type { CredentialStore } from './credentials.ts';
import { type DnsServer, startDnsServer } from './dns.ts';
import { type Fault, FaultSwitch } from './fault-switch.ts';
import type { StandInServer } from './https-stand-in.ts';
import { LOOPBACK } from './listen.ts';
import { createPki } from './pki.ts';
import { DEMO_REPOSITORY, hosted } from './repository.ts';
import { type StsStandIn, startStsStandIn } from './sts.ts';
import { type ZoneAddresses, zoneAddresses } from './zone-addresses.ts';

export { LOOPBACK };
export const DEMO_REGION = 'ap-northeast-1';
/** The region the global STS endpoint signs for, as sts.amazonaws.com does. */
const GLOBAL_STS_REGION = 'us-east-1';
/** The repository's account (A) and the probe's own account (B): both invented. */
export const REPOSITORY_ACCOUNT = '111111111111';
export const PROBE_ACCOUNT = '222222222222';
export const DEMO_ROLE_ARN = `arn:aws:iam::${REPOSITORY_ACCOUNT}:role/CodeCommitCanaryReader`;

/** The probe's own (source) credentials in the demo: given to the SDK explicitly, never read from the environment. */
export const DEMO_SOURCE_CREDENTIALS: Readonly<AwsCredentials> = {
  accessKeyId: 'AKIADEMOCANARY000001',
  secretAccessKey: 'demo-only-source-secret-not-an-aws-key',
};

/** The demo's names. `.test` is reserved (RFC 2606): these can never reach anything real. */
export const DEMO_NAMES = {
  sts: 'sts.demo.test',
  'sts-global': 'sts-global.demo.test',
  git: 'git.demo.test',
} as const;

/**
 * The git name's addresses, one per Availability Zone of the demo's VPC (`network.zones` labels them): the
 * endpoint's interfaces. Without loopback aliases (macOS) only the first exists.
 */
export const DEMO_GIT_ZONES = [
  { address: '127.0.0.1', zone: 'ap-northeast-1a' },
  { address: '127.0.0.2', zone: 'ap-northeast-1c' },
  { address: '127.0.0.3', zone: 'ap-northeast-1d' },
] as const;
/** The address the `git-1d` switch breaks: the last one, so the full ls-remote (first address) still passes. */
const BREAKABLE_ZONE = DEMO_GIT_ZONES[2];

/** Server bytes a `stall` of the git path lets through on a connection: the refs pass, a pack does not. */
export const STALL_AFTER_BYTES = 64 * 1024;

/**
 * The sandbox's endpoints, each with its own switch. `sts-global` stands in for sts.amazonaws.com; `git-1d` is
 * the git endpoint's interface in ap-northeast-1d alone (`hang`: silent); `git`'s `stall` stalls every address's
 * answers after {@link STALL_AFTER_BYTES}.
 */
export const ENDPOINT_NAMES = ['dns', 'sts', 'sts-global', 'git', 'git-1d'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];
/** The endpoints with a URL of their own (`git-1d` is one address of `git`'s). */
export type ServerName = Exclude<EndpointName, 'git-1d'>;
export type FaultSwitches = Record<EndpointName, FaultSwitch>;

/** Sets every switch: the named faults, `none` for the rest (a scene describes the whole state, not a change). */
export function setFaults(switches: FaultSwitches, faults: Partial<Record<EndpointName, Fault>>): void {
  for (const name of ENDPOINT_NAMES) switches[name].fault = faults[name] ?? 'none';
}

export interface SandboxOptions {
  /** Deadline of each step (ms). */
  deadlineMs: number;
}

export interface Sandbox {
  config: Config;
  targets: ResolvedTarget[];
  /** The real probe's dependencies: the sandbox DNS server, only the sandbox CA trusted, the demo's fake source key. */
  deps: ProbeDeps;
  /** The sandbox CA (PEM), for a process that trusts it through a file (NODE_EXTRA_CA_CERTS). */
  caPem: string;
  faults: FaultSwitches;
  credentials: CredentialStore;
  dns: DnsServer;
  sts: StsStandIn;
  stsGlobal: StsStandIn;
  /** The CodeCommit stand-in itself (on 127.0.0.1); the probe reaches it through `gitAddresses`. */
  git: StandInServer;
  /** The git name's addresses and their zones, as the DNS server answers them. */
  gitAddresses: Array<{ address: string; zone: string }>;
  /** Endpoint URLs by name (the DNS server's address for `dns`). */
  endpoints: Record<ServerName, string>;
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
  const pki = createPki({ names: Object.values(DEMO_NAMES), caName: 'codecommit-canary demo CA (this run only)' });
  const faults = Object.fromEntries(ENDPOINT_NAMES.map((name) => [name, new FaultSwitch(name)])) as FaultSwitches;
  const zone = Object.fromEntries(Object.values(DEMO_NAMES).map((name) => [name, { a: [LOOPBACK] }]));
  const aws = startAwsStandIns({
    tls: pki,
    region: DEMO_REGION,
    sources: [DEMO_SOURCE_CREDENTIALS],
    repositories: [hosted(DEMO_REPOSITORY)],
    roles: [DEMO_ROLE_ARN],
    callerAccount: PROBE_ACCOUNT,
    faults: { sts: faults.sts, git: faults.git },
  });
  const started = await Promise.allSettled([
    startDnsServer(zone, faults.dns),
    aws,
    aws.then(({ git }) =>
      zoneAddresses({
        upstream: { host: LOOPBACK, port: git.port },
        addresses: Object.fromEntries(
          DEMO_GIT_ZONES.map(({ address }) => [
            address,
            address === BREAKABLE_ZONE.address ? faults['git-1d'] : undefined,
          ]),
        ),
        path: faults.git,
        stallAfterBytes: STALL_AFTER_BYTES,
      }),
    ),
    aws.then(({ credentials }) =>
      startStsStandIn({
        tls: pki,
        region: GLOBAL_STS_REGION,
        credentials,
        roles: [DEMO_ROLE_ARN],
        callerAccount: PROBE_ACCOUNT,
        faults: faults['sts-global'],
      }),
    ),
  ]);
  const stopAll = () =>
    Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined))).then(() => {});
  const [dnsStarted, awsStarted, zonesStarted, globalStarted] = started;
  if (
    dnsStarted?.status !== 'fulfilled' ||
    awsStarted?.status !== 'fulfilled' ||
    zonesStarted?.status !== 'fulfilled' ||
    globalStarted?.status !== 'fulfilled'
  ) {
    await stopAll();
    const failed = started.find((s) => s.status === 'rejected');
    throw new Error(`the demo sandbox did not start: ${String(failed?.reason)}`);
  }
  const [dns, { sts, git, credentials }, zones, global] = [
    dnsStarted.value,
    awsStarted.value as AwsStandIns,
    zonesStarted.value as ZoneAddresses,
    globalStarted.value as StsStandIn,
  ];
  const gitAddresses = DEMO_GIT_ZONES.filter(({ address }) => zones.addresses.includes(address)).map((z) => ({
    ...z,
  }));
  dns.set(DEMO_NAMES.git, { a: gitAddresses.map((z) => z.address) });
  const endpoints = {
    dns: dns.server,
    sts: `https://${DEMO_NAMES.sts}:${sts.port}`,
    'sts-global': `https://${DEMO_NAMES['sts-global']}:${global.port}`,
    git: `https://${DEMO_NAMES.git}:${zones.port}`,
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
      // Every address of each name checked (the default), labelled with its zone; the pack fetched every run.
      network: { zones: Object.fromEntries(gitAddresses.map(({ address, zone }) => [`${address}/32`, zone])) },
      fetch: { enabled: true, timeoutMs: options.deadlineMs },
      metrics: { namespace: 'CodeCommitCanaryDemo', detail: 'basic' },
      alerts: { failuresBeforeAlert: 2, renotifyMinutes: 60 },
      targets: [{ name: 'team-repo', repository: DEMO_REPOSITORY.name, roleArn: DEMO_ROLE_ARN }],
    },
    'demo config',
  );
  const deps: ProbeDeps = {
    clock: systemClock,
    resolve: serversResolve(config.dns?.servers ?? [dns.server]),
    // Only the sandbox CA: verification stays on, and nothing outside the sandbox could be trusted anyway.
    tls: { ca: [pki.caPem] },
    sourceCredentials: async () => ({ ...DEMO_SOURCE_CREDENTIALS }),
    maxAdvertisementBytes: config.maxAdvertisementBytes,
    zoneOf: zoneLabeller(config.network.zones),
  };
  return {
    config,
    targets: resolveTargets(config),
    deps,
    caPem: pki.caPem,
    faults,
    credentials,
    dns,
    sts,
    stsGlobal: global,
    git,
    gitAddresses,
    endpoints,
    stop: stopAll,
  };
}
