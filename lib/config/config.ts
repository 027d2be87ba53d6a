import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { alertsSchema, muteTargetProblems } from './alerts.ts';
import { ConfigError } from './config-error.ts';
import { integer, object, text } from './fields.ts';
import { regionProblem } from './regions.ts';
import { DEFAULT_FETCH_LIMITS } from './resolve-target.ts';
import { parseCodeCommitUrl, REPOSITORY_NAME, REPOSITORY_NAME_RULE } from './target-url.ts';

// What needs no schema lives apart, so the Lambdas load it without zod (lib/config/packaged.ts).
export { ConfigError } from './config-error.ts';
export {
  type ResolvedTarget,
  resolveTarget,
  resolveTargets,
  type TargetSpec,
} from './resolve-target.ts';

const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ROLE_ARN_EXAMPLE = 'an IAM role ARN like arn:aws:iam::111111111111:role/Name';

const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** https:// anywhere; plain http:// only to loopback (tests and local sandboxes). */
const endpointUrl = text('an https:// URL (http:// only for loopback)', (value) => {
  try {
    const url = new URL(value);
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username;
    return bare && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)));
  } catch {
    return false;
  }
});

/** A region with CodeCommit (AWS's data, lib/config/codecommit-regions.ts); a wrong one is named with the nearest. */
const region = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required: an AWS region like ap-northeast-1'
        : 'expected an AWS region like ap-northeast-1',
  })
  .superRefine((value, ctx) => {
    const problem = regionProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `10.0.0.2`, `127.0.0.1:5353`, `[::1]:53`: what node's dns Resolver.setServers accepts. */
const dnsServer = text('a DNS server address like 10.0.0.2 or 127.0.0.1:5353', (value) => {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return isIP(bracketed[1] ?? '') === 6 && (!bracketed[2] || Number(bracketed[2]) <= 65535);
  if (isIP(value)) return true;
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(value);
  return !!withPort && isIP(withPort[1] ?? '') === 4 && Number(withPort[2]) <= 65535;
});

/** `10.0.0.0/16`, `fd00::/8`. */
const cidr = text('a CIDR block like 10.0.0.0/16', (value) => {
  const [address = '', bits = '', ...rest] = value.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  return family !== 0 && rest.length === 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= max;
});

/** A target URL in any form parseCodeCommitUrl reads, without a profile; its own message when it is wrong. */
const targetUrl = z
  .string({ error: 'expected codecommit://repository, codecommit::<region>://repository or an https:// remote' })
  .superRefine((value, ctx) => {
    const parsed = parseCodeCommitUrl(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    else if (parsed.url.profile !== null) {
      ctx.addIssue({ code: 'custom', message: 'expected no profile@ in a config (the probe assumes roleArn)' });
    }
  });

const stsMs = integer('milliseconds between 100 and 60000', 100, 60_000);
const gitMs = integer('milliseconds between 100 and 120000', 100, 120_000);

/** An Availability Zone's name (`ap-northeast-1a`) or ID (`apne1-az4`), as the endpoint's subnets are known by. */
const zoneName = text('an Availability Zone name like ap-northeast-1a or ID like apne1-az4', (s) =>
  /^(?:[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}[a-z](?:-[a-z]+-\d+[a-z])?|[a-z]{2,6}\d{1,2}-az\d{1,2})$/.test(s),
);

/** A full ref name as ls-remote prints it. */
const refName = text('a full ref name like refs/heads/main', (s) => /^refs\/[^\s\p{Cc}~^:?*[\\]{1,1019}$/u.test(s));

const fetchMaxBytes = integer('bytes between 1024 and 268435456', 1024, 256 * 1024 * 1024);
const fetchTimeoutMs = integer('milliseconds between 100 and 120000', 100, 120_000);

/** The shallow fetch of HEAD after ls-remote (lib/steps/git/fetch.ts): the pack path `ls-remote` never uses. */
const fetchSchema = object({
  enabled: z.boolean({ error: 'expected true or false' }).default(false),
  maxBytes: fetchMaxBytes.default(DEFAULT_FETCH_LIMITS.maxBytes),
  timeoutMs: fetchTimeoutMs.default(DEFAULT_FETCH_LIMITS.timeoutMs),
}).prefault({});

/** What the repository should look like; a mismatch fails step `expect` with kind `assertion`. */
const expectSchema = object({
  /** Refs that must be advertised. */
  refs: z.array(refName, { error: 'expected a list of ref names like ["refs/heads/main"]' }).max(100).optional(),
  /** The branch HEAD must point at. */
  head: refName.optional(),
  /** HEAD's commit (committer time) at most this old; needs the fetch, which reads the commit. */
  headMaxAgeMinutes: integer('minutes between 1 and 525600', 1, 525_600).optional(),
});

const endpointsSchema = object({ sts: endpointUrl.optional(), git: endpointUrl.optional() });

const targetSchema = object({
  name: text('a target name of 1-64 letters, digits, . _ -', (s) => /^[\w.-]{1,64}$/.test(s)),
  repository: text(`a CodeCommit repository name (${REPOSITORY_NAME_RULE})`, (s) => REPOSITORY_NAME.test(s)).optional(),
  url: targetUrl.optional(),
  roleArn: text(ROLE_ARN_EXAMPLE, (s) => ROLE_ARN.test(s)),
  externalId: text('an external ID of 2-1224 characters', (s) => /^[\w+=,.@:/-]{2,1224}$/.test(s)).optional(),
  sessionName: text('a role session name of 2-64 letters, digits, +=,.@_-', (s) =>
    /^[\w+=,.@-]{2,64}$/.test(s),
  ).optional(),
  region: region.optional(),
  endpoints: endpointsSchema.optional(),
  timeouts: object({ stsMs: stsMs.optional(), gitMs: gitMs.optional() }).optional(),
  /** false: AssumeRole without the GitPull-only session policy (for roles whose conditions it would break). */
  sessionPolicy: z.boolean({ error: 'expected true or false' }).optional(),
  /** This target's fetch settings, over the config's `fetch`. */
  fetch: object({
    enabled: z.boolean({ error: 'expected true or false' }).optional(),
    maxBytes: fetchMaxBytes.optional(),
    timeoutMs: fetchTimeoutMs.optional(),
  }).optional(),
  expect: expectSchema.optional(),
});

export const configSchema = object({
  region,
  timeouts: object({
    stsMs: stsMs.default(5000),
    gitMs: gitMs.default(10_000),
    /** The global STS reachability check's own, shorter deadline. */
    stsGlobalMs: stsMs.default(3000),
  }).prefault({}),
  dns: object({
    servers: z
      .array(dnsServer, { error: 'required: a list of DNS server addresses like ["10.0.0.2"]' })
      .min(1, { error: 'expected at least one server' }),
  }).optional(),
  endpoints: object({
    sts: endpointUrl.optional(),
    git: endpointUrl.optional(),
    stsGlobal: endpointUrl.optional(),
  }).default({}),
  checks: object({
    /** One short call per run to the global STS endpoint: do clients that use it hang here? */
    globalSts: z.boolean({ error: 'expected true or false' }).default(true),
    /** Resolve the canonical endpoint names: do they lead to private (interface endpoint) addresses? */
    path: z.boolean({ error: 'expected true or false' }).default(true),
    /** Days of certificate validity below which a finding is raised. */
    certificateDays: integer('days between 1 and 365', 1, 365).default(14),
  }).prefault({}),
  probe: object({
    /**
     * Besides each step's full call, check every address its endpoint name resolves to (one per Availability
     * Zone for an interface endpoint), once per endpoint per run.
     */
    everyAddress: z.boolean({ error: 'expected true or false' }).default(true),
  }).prefault({}),
  fetch: fetchSchema,
  network: object({
    /** Subnet CIDR → Availability Zone: labels each endpoint address with its AZ in paths, metrics and alerts. */
    zones: z
      .record(cidr, zoneName, {
        error: 'expected an object of subnet CIDR → AZ like {"10.0.1.0/24": "ap-northeast-1a"}',
      })
      .default({}),
    /** The VPC's CIDRs: endpoint addresses outside them did not come from this VPC's interface endpoints. */
    vpcCidrs: z.array(cidr, { error: 'expected a list of CIDR blocks like ["10.0.0.0/16"]' }).default([]),
    /** A closed VPC (no NAT, no internet gateway): public endpoint addresses are critical, not a warning. */
    closed: z.boolean({ error: 'expected true or false' }).default(false),
  }).prefault({}),
  schedule: object({
    /** Probes per invocation, spaced intervalSeconds apart: detection within seconds instead of minutes. */
    samplesPerRun: integer('an integer between 1 and 12', 1, 12).default(1),
    intervalSeconds: integer('seconds between 1 and 60', 1, 60).default(10),
    /** 1-second storage resolution for the metrics (costs more; see the README's cost table). */
    highResolution: z.boolean({ error: 'expected true or false' }).default(false),
  }).prefault({}),
  tls: object({ caFile: text('a path to a PEM file of extra trusted CAs').optional() }).default({}),
  /** Cap on the targets probed at once. */
  concurrency: integer('an integer between 1 and 64', 1, 64).default(8),
  /** Cap on the bytes read from a ref advertisement, against a broken or hostile server. */
  maxAdvertisementBytes: integer('bytes between 1024 and 268435456', 1024, 256 * 1024 * 1024).default(16 * 1024 * 1024),
  metrics: object({
    namespace: text('a CloudWatch namespace of 1-255 characters', (s) => /^[^:$][^$]{0,254}$/.test(s)).default(
      'CodeCommitCanary',
    ),
    detail: z.enum(['basic', 'phases'], { error: 'expected "basic" or "phases"' }).default('basic'),
  }).prefault({}),
  alerts: alertsSchema,
  targets: z
    .array(targetSchema, { error: 'required: a list of targets' })
    .min(1, { error: 'expected at least one target' }),
});

export type Config = z.infer<typeof configSchema>;
export type TargetConfig = Config['targets'][number];

/** `targets[2].roleArn` from zod's path array. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    // A record's key (a CIDR in network.zones) is quoted, so its dots and slashes do not read as a path.
    if (!/^[A-Za-z_$][\w$]*$/.test(String(key))) return `${out}[${JSON.stringify(String(key))}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');

/**
 * Rules across fields, checked on the raw input so they are reported even when other fields are wrong
 * (zod skips refinements of an object that already has issues).
 */
function fetchEnabled(raw: unknown, target: Record<string, unknown>): boolean {
  const own = (target.fetch as { enabled?: unknown } | undefined)?.enabled;
  return own !== undefined ? own === true : (raw as { fetch?: { enabled?: unknown } }).fetch?.enabled === true;
}

function crossFieldProblems(raw: unknown): string[] {
  const targets = (raw as { targets?: unknown })?.targets;
  if (!Array.isArray(targets)) return [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  targets.forEach((target: Record<string, unknown> | null, index) => {
    if (typeof target !== 'object' || target === null) return;
    if (target.repository === undefined && target.url === undefined) {
      problems.push(`targets[${index}].repository: required: a repository name, or a url`);
    } else if (target.repository !== undefined && target.url !== undefined) {
      problems.push(`targets[${index}].url: expected either repository or url, not both`);
    }
    const expectations = target.expect as Record<string, unknown> | undefined;
    if (expectations?.headMaxAgeMinutes !== undefined && !fetchEnabled(raw, target)) {
      problems.push(
        `targets[${index}].expect.headMaxAgeMinutes: needs the fetch, which reads HEAD's commit: set fetch.enabled (for this target or all)`,
      );
    }
    if (typeof target.name !== 'string') return;
    const first = seen.get(target.name);
    if (first === undefined) seen.set(target.name, index);
    else problems.push(`targets[${index}].name: duplicate target name "${target.name}" (also targets[${first}].name)`);
  });
  return problems;
}

export function parseConfig(raw: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(raw);
  const crossField = [...crossFieldProblems(raw), ...muteTargetProblems(raw)];
  if (result.success && crossField.length === 0) return result.data;
  const problems = (result.success ? [] : result.error.issues).map((issue) => {
    const path = formatPath(issue.path);
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.code === 'invalid_key'
          ? `key: ${issue.issues[0]?.message ?? issue.message}`
          : issue.message;
    return path ? `${path}: ${message}` : message;
  });
  throw new ConfigError(source, [...problems, ...crossField]);
}

/** Reads a JSON or YAML config file; every problem is a ConfigError. */
export async function loadConfig(file: string): Promise<Config> {
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return parseConfig(parseConfigText(body, file), file);
}

export function parseConfigText(body: string, source: string): unknown {
  try {
    return /\.ya?ml$/i.test(source) ? parseYaml(body) : JSON.parse(body);
  } catch (error) {
    const kind = /\.ya?ml$/i.test(source) ? 'YAML' : 'JSON';
    throw new ConfigError(source, [`not valid ${kind}: ${(error as Error).message.split('\n')[0]}`]);
  }
}
