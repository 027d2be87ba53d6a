/**
 * What to change when a step fails: one table, used by the CLI, the alerts and the runbook.
 *
 * A rule matches on step, failure kind, phase, HTTP status and message, and on whether only a path check failed
 * (the failure names an address); a field left out matches anything. The most specific matching rule wins
 * (a path failure beats step + kind + phase beats step + kind beats kind alone), so every (step, kind, phase) has a
 * hint and the table stays short.
 */
import { dnsSuffix } from '../config/endpoints.ts';
import type { Failure, FailureKind, Phase, StepName } from '../types.ts';

/** Interface endpoint service and DNS names for a region (`amazonaws.com.cn` in the China regions). */
export interface EndpointNames {
  region: string;
  /** `com.amazonaws.<region>.sts` */
  stsService: string;
  /** `sts.<region>.amazonaws.com` */
  stsHost: string;
  /** `com.amazonaws.<region>.git-codecommit` */
  gitService: string;
  /** `git-codecommit.<region>.amazonaws.com` */
  gitHost: string;
}

/**
 * @example
 * endpointNames('ap-northeast-1').gitService // 'com.amazonaws.ap-northeast-1.git-codecommit'
 */
export const endpointNames = (region: string): EndpointNames => {
  const domain = dnsSuffix(region);
  return {
    region,
    stsService: `com.amazonaws.${region}.sts`,
    stsHost: `sts.${region}.${domain}`,
    gitService: `com.amazonaws.${region}.git-codecommit`,
    gitHost: `git-codecommit.${region}.${domain}`,
  };
};

/** What a hint is chosen by: the failure, and for a path check the address (and zone) that failed. */
export type RemediationInput = Pick<Failure, 'kind' | 'phase' | 'status'> & {
  message?: string;
  /** Set when the step's own call succeeded and only this address's path check failed. */
  address?: string;
  /** The address's Availability Zone, when known. */
  zone?: string | null;
};

export interface RemediationRule {
  step?: StepName;
  kind?: FailureKind;
  phases?: readonly Phase[];
  status?: number;
  /** Matches the failure's message (the service's error code, e.g. `RegionDisabledException`). */
  message?: RegExp;
  /** Matches only a path check's failure (the failure names an address): the most specific. */
  path?: true;
  /** One or two sentences: what to check, in the order most likely to be the cause. */
  hint: (names: EndpointNames, failure?: RemediationInput) => string;
}

// The fetch and the assertions use the git endpoint.
const service = (step: StepName, n: EndpointNames) => (step === 'sts' ? n.stsService : n.gitService);
const host = (step: StepName, n: EndpointNames) => (step === 'sts' ? n.stsHost : n.gitHost);
const serviceLabel = (step: StepName) => (step === 'sts' ? 'STS' : 'CodeCommit');

const dnsHint = (step: StepName) => (n: EndpointNames) =>
  `${host(step, n)} did not resolve: enable private DNS on the interface endpoint ${service(step, n)} (or create it), ` +
  'check enableDnsSupport/enableDnsHostnames on the VPC, Route 53 Resolver rules and private hosted zones that override the name.';

const connectTimeoutHint = (step: StepName) => (n: EndpointNames) =>
  `The connection to ${host(step, n)} hangs: allow 443 inbound from the probe on the security group of the ` +
  `${service(step, n)} interface endpoint's ENIs, check the subnets' route tables and network ACLs, and that private DNS ` +
  'is enabled on the endpoint (without it the name resolves to public addresses a closed VPC cannot reach).';

const tlsTimeoutHint = (step: StepName) => (n: EndpointNames) =>
  `TCP to ${host(step, n)} connected but the TLS handshake got no answer: check the security group of the ` +
  `${service(step, n)} interface endpoint's ENIs (443 inbound from the probe) and the network ACLs for the return path, ` +
  'then any firewall or proxy in the path that filters on the server name (SNI) or drops large packets (MTU).';

const responseTimeoutHint = (step: StepName) => (n: EndpointNames) =>
  `${host(step, n)} accepted the connection but did not answer in time: the endpoint is overloaded or the server ` +
  'hangs, or a proxy/firewall in the path holds the request; check AWS Health for the region, and raise the timeout only if answers are merely slow.';

const tlsHint = (step: StepName) => (n: EndpointNames) =>
  `The TLS handshake with ${host(step, n)} failed: a TLS-inspecting proxy or firewall replaces the certificate ` +
  '(exempt the name or trust its CA), or the configured endpoint name is wrong and the certificate does not cover it.';

const refusedHint = (step: StepName) => (n: EndpointNames) =>
  `Nothing accepts connections on 443 where ${host(step, n)} resolved to: the name points at something that is not the ` +
  `${service(step, n)} interface endpoint (a stale private hosted zone record, a wrong endpoint override), or a firewall rejects.`;

const resetHint = (step: StepName) => (n: EndpointNames) =>
  `The connection to ${host(step, n)} was reset: a network firewall, proxy or middlebox in the path drops the session; ` +
  'check its rules for the name and that the traffic really goes to the interface endpoint.';

const throttledHint = (step: StepName) => () =>
  `${serviceLabel(step)} throttles the probe: lower the probe rate (schedule, samplesPerRun) or spread the targets ` +
  'over time; other workloads in the same account share the quota.';

const protocolHint = (step: StepName) => (n: EndpointNames) =>
  `The answer is not ${serviceLabel(step)}'s: the endpoint name or override points at something else ` +
  `(a proxy, a captive page, another service); use ${host(step, n)}.`;

/** One address's path check failed while others of the name answer (the step's own call may have hit it or not). */
const pathHint = (step: StepName) => (n: EndpointNames, failure?: RemediationInput) => {
  const where = failure?.address
    ? `${failure.address}${failure.zone ? ` in ${failure.zone}` : ''}`
    : "the failing address (the alert's Paths line)";
  return (
    `The path to ${where}, one of the addresses ${host(step, n)} resolves to, fails while others of the name ` +
    `answer: that Availability Zone's network interface of the ${service(step, n)} endpoint (or the way to it) is ` +
    'broken, and clients that get this address hang or fail. Check the endpoint still has its subnet in that AZ and the ' +
    "interface there is available, the interface's security group (443 inbound from the probe), and that subnet's " +
    "network ACLs and route tables (and those of the probe's subnet in the same AZ)."
  );
};

const stalledPackHint = () => (n: EndpointNames) =>
  `ls-remote got the refs from ${n.gitHost}, but the pack stopped arriving: large packets are lost on the way ` +
  'back while small ones pass. Look for a path MTU blackhole (a link below 1500 bytes, such as a VPN, Transit ' +
  'Gateway or Direct Connect, with the ICMP "fragmentation needed" answers dropped): let ICMP type 3 code 4 back to ' +
  'the probe in the security groups and network ACLs, clamp the TCP MSS on the tunnel or firewall, or exempt the ' +
  'name from a proxy that holds or limits git-upload-pack answers.';

const packingTimeoutHint = () => (n: EndpointNames) =>
  `${n.gitHost} took the request for the pack but sent nothing before the deadline: CodeCommit builds the pack ` +
  'first, and a large HEAD tree takes time (raise fetch.timeoutMs if ls-remote is fast and the fetch merely slow); ' +
  'otherwise a proxy or firewall in the path holds git-upload-pack requests, or the service hangs (check AWS Health).';

/** The same hint for every step with an endpoint of its own (sts, git, fetch), each naming its endpoint. */
const forEndpointSteps = (
  kind: FailureKind,
  hint: (step: StepName) => RemediationRule['hint'],
  phases?: readonly Phase[],
): RemediationRule[] =>
  (['sts', 'git', 'fetch'] as const).map((step) => ({ step, kind, ...(phases ? { phases } : {}), hint: hint(step) }));

/** Every (step, kind, phase) finds a rule here; `remediationFor` picks the most specific match. */
export const REMEDIATION_RULES: readonly RemediationRule[] = [
  // Per kind, any step: the fallbacks.
  { kind: 'timeout', hint: () => 'The call did not finish before its deadline: see the phase it hung in.' },
  {
    kind: 'dns',
    hint: () => 'A name did not resolve: check private DNS on the interface endpoints and the VPC resolver.',
  },
  {
    kind: 'refused',
    hint: () => 'The connection was refused: the name resolves to something that is not the endpoint.',
  },
  { kind: 'reset', hint: () => 'The connection was reset: a firewall or proxy in the path drops the session.' },
  { kind: 'tls', hint: () => 'The TLS handshake failed: a TLS-inspecting proxy, or a wrong endpoint name.' },
  { kind: 'auth', hint: () => 'Access was denied: check the roles, their policies, the endpoint policies and SCPs.' },
  { kind: 'not-found', hint: () => 'Not found: check the names and the region.' },
  { kind: 'throttled', hint: () => 'Throttled: lower the probe rate (schedule, samplesPerRun).' },
  { kind: 'http', hint: () => 'Unexpected HTTP status: 5xx is service-side (check AWS Health), others a proxy.' },
  { kind: 'protocol', hint: () => 'Unexpected answer: the endpoint name points at something else.' },
  {
    kind: 'assertion',
    hint: () => "The repository answered but does not look as the target's expect says: see which expectation failed.",
  },

  // Per step and kind, for every step with an endpoint.
  ...forEndpointSteps('timeout', dnsHint, ['dns']),
  ...forEndpointSteps('timeout', connectTimeoutHint, ['connect']),
  ...forEndpointSteps('timeout', tlsTimeoutHint, ['tls']),
  ...(['sts', 'git'] as const).map((step) => ({
    step,
    kind: 'timeout' as const,
    phases: ['response', 'body'] as const,
    hint: responseTimeoutHint(step),
  })),
  ...forEndpointSteps('dns', dnsHint),
  ...forEndpointSteps('tls', tlsHint),
  ...forEndpointSteps('refused', refusedHint),
  ...forEndpointSteps('reset', resetHint),
  ...forEndpointSteps('throttled', throttledHint),
  ...(['sts', 'git'] as const).map((step) => ({ step, kind: 'protocol' as const, hint: protocolHint(step) })),

  // One Availability Zone's endpoint interface: the step got through, one address's path check did not.
  { step: 'sts', path: true, hint: pathHint('sts') },
  { step: 'git', path: true, hint: pathHint('git') },

  // sts, by the service's error code.
  {
    step: 'sts',
    kind: 'auth',
    message: /RegionDisabledException/,
    hint: (n) =>
      `STS is not activated in ${n.region} for the account the probe calls it from: an administrator activates it ` +
      '(IAM console, Account settings, Security Token Service (STS), Endpoints), or the sts endpoint is set to a region where it is active.',
  },
  {
    step: 'sts',
    kind: 'auth',
    message: /ExpiredToken/,
    hint: () =>
      "The probe's own (source) credentials have expired, before AssumeRole: refresh them (aws sso login, a new session " +
      "token for the profile); a Lambda's role credentials do not expire, so there check the host's clock.",
  },

  // sts only.
  {
    step: 'sts',
    kind: 'auth',
    hint: () =>
      "AssumeRole was denied: the target role's trust policy must name the probe's role as Principal (and the ExternalId, " +
      "when one is configured, must match); the probe's role needs sts:AssumeRole on the target role ARN; " +
      'the sts endpoint policy or an SCP may deny it; check the account in the role ARN.',
  },
  {
    step: 'sts',
    kind: 'not-found',
    hint: (n) =>
      `STS answered 404: the endpoint name or override points at something that is not STS; use ${n.stsHost}.`,
  },
  {
    step: 'sts',
    kind: 'http',
    hint: () =>
      'STS answered with an unexpected HTTP status: 5xx is a service-side problem (check AWS Health); ' +
      '400 means an invalid request: check the role ARN, the session duration and the ExternalId.',
  },

  // git only.
  {
    step: 'git',
    kind: 'auth',
    hint: (n) =>
      'CodeCommit denied access (403): the target role needs codecommit:GitPull on the repository ARN; ' +
      `the ${n.gitService} interface endpoint policy must allow it; an SCP may deny it; ` +
      'or the repository lives in a different account than the role assumed.',
  },
  {
    step: 'git',
    kind: 'auth',
    status: 401,
    hint: () =>
      'CodeCommit asked for credentials (401): the request carried none, or a proxy in the path removed the Authorization header.',
  },
  {
    step: 'git',
    kind: 'not-found',
    hint: (n) =>
      `Repository not found (404): check the repository name (case-sensitive) and the region (${n.region}); ` +
      "a repository in another region or account than the role's answers 404.",
  },
  {
    step: 'git',
    kind: 'http',
    hint: () =>
      'CodeCommit answered with an unexpected HTTP status: 5xx is a service-side problem (check AWS Health); ' +
      'other codes usually mean a proxy in the path answered instead.',
  },

  // fetch: after a successful ls-remote, so the name, the path and the credentials worked for info/refs.
  { step: 'fetch', kind: 'timeout', phases: ['response'], hint: packingTimeoutHint() },
  { step: 'fetch', kind: 'timeout', phases: ['body'], hint: stalledPackHint() },
  {
    step: 'fetch',
    kind: 'auth',
    hint: (n) =>
      'ls-remote was allowed but git-upload-pack was not: the ' +
      `${n.gitService} interface endpoint policy, an SCP or the role's policy allows info/refs but not the fetch ` +
      '(both need codecommit:GitPull), or a proxy in the path blocks POST /git-upload-pack or strips its Authorization.',
  },
  {
    step: 'fetch',
    kind: 'not-found',
    hint: (n) =>
      `git-upload-pack answered 404 though ls-remote found the repository: a proxy or endpoint override in front of ${n.gitHost} ` +
      'routes only GET info/refs to CodeCommit, or the repository was deleted between the two requests.',
  },
  {
    step: 'fetch',
    kind: 'http',
    hint: () =>
      'CodeCommit answered git-upload-pack with an unexpected HTTP status: 5xx is service-side (check AWS Health); ' +
      'other codes (413, 502) usually mean a proxy in the path limits or refuses the fetch.',
  },
  {
    step: 'fetch',
    kind: 'protocol',
    hint: () =>
      'The pack did not check out (its header, object count or SHA-1 trailer, or the wanted commit missing), or it ' +
      'is larger than fetch.maxBytes (the message says which): a proxy that rewrites or truncates the answer, or a ' +
      'repository whose HEAD outgrew the cap (raise fetch.maxBytes).',
  },

  // expect: the path works, the repository is not as it should be.
  {
    step: 'expect',
    kind: 'assertion',
    hint: () =>
      "The repository answered but does not look as the target's expect says: whoever keeps it in shape (a mirror " +
      'or replication job, a branch rename) changed or stopped; update expect if the change was intended.',
  },
  {
    step: 'expect',
    kind: 'assertion',
    message: /is not advertised/,
    hint: (n) =>
      'An expected ref is missing: it was deleted or renamed, or the job that pushes it (a mirror, a replication ' +
      `from another system) stopped or fails; check that job's last run and the repository's branches in ${n.region} ` +
      '(aws codecommit list-branches), and update expect.refs if the rename was intended.',
  },
  {
    step: 'expect',
    kind: 'assertion',
    message: /HEAD points at/,
    hint: () =>
      "HEAD (the repository's default branch) is not the expected one: someone changed it, or a mirror pushed " +
      'another default; set it back (aws codecommit update-default-branch) or update expect.head.',
  },
  {
    step: 'expect',
    kind: 'assertion',
    message: /HEAD is .* expected at most/,
    hint: () =>
      "HEAD's commit is older than expect.headMaxAgeMinutes: the mirror or sync job that pushes to the repository " +
      'stopped (check its schedule, its last run and its credentials for CodeCommit), or the repository is just ' +
      'quiet (raise headMaxAgeMinutes).',
  },
];

/** Used when no rule matches (a kind added to the contract before the table learnt it). */
const FALLBACK_HINT =
  'See the runbook section for this failure kind; the failure message above says what was observed.';

/** Higher is more specific; -1 when the rule does not match. */
function specificity(rule: RemediationRule, step: StepName, failure: RemediationInput): number {
  if (rule.step !== undefined && rule.step !== step) return -1;
  if (rule.path && failure.address === undefined) return -1;
  if (rule.kind !== undefined && rule.kind !== failure.kind) return -1;
  if (rule.phases !== undefined && !rule.phases.includes(failure.phase)) return -1;
  if (rule.status !== undefined && rule.status !== failure.status) return -1;
  if (rule.message !== undefined && !rule.message.test(failure.message ?? '')) return -1;
  // Ties: only between message rules (several failed expectations in one message); the first in the table wins.
  return (
    (rule.step ? 1 : 0) +
    (rule.kind ? 2 : 0) +
    (rule.phases ? 4 : 0) +
    (rule.status !== undefined ? 8 : 0) +
    (rule.message ? 16 : 0) +
    (rule.path ? 32 : 0)
  );
}

/**
 * The remediation hint for a failed step: one or two sentences naming what to check.
 *
 * @example
 * remediationFor('sts', { kind: 'timeout', phase: 'connect' }, 'ap-northeast-1')
 * // → 'The connection to sts.ap-northeast-1.amazonaws.com hangs: allow 443 inbound … com.amazonaws.ap-northeast-1.sts …'
 * remediationFor('git', { kind: 'refused', phase: 'connect', address: '10.0.3.15', zone: 'ap-northeast-1c' }, 'ap-northeast-1')
 * // → 'The path to 10.0.3.15 in ap-northeast-1c, one of the addresses git-codecommit… resolves to, fails …'
 */
export function remediationFor(step: StepName, failure: RemediationInput, region: string): string {
  let best: RemediationRule | undefined;
  let bestScore = -1;
  for (const rule of REMEDIATION_RULES) {
    const score = specificity(rule, step, failure);
    if (score > bestScore) {
      best = rule;
      bestScore = score;
    }
  }
  return best ? best.hint(endpointNames(region), failure) : FALLBACK_HINT;
}

/**
 * For the `global-sts-unreachable` finding: the regional STS endpoint answers, the global one does not,
 * so clients that still call `sts.amazonaws.com` hang in this VPC while the monitor's own checks pass.
 *
 * @example
 * findings.push({ code: 'global-sts-unreachable', severity: 'warning', message, remediation: globalStsRemediation(region) });
 */
export const globalStsRemediation = (region: string): string =>
  'Clients that assume roles through the global endpoint https://sts.amazonaws.com hang here (AWS CLI v1 before 1.42, ' +
  'boto3 before 1.40, and any client configured sts_regional_endpoints = legacy): set sts_regional_endpoints = regional ' +
  `in the profile or AWS_STS_REGIONAL_ENDPOINTS=regional, or use AWS CLI v2 or a current SDK, so they call ${endpointNames(region).stsHost}.`;

/**
 * One row per rule, hints written out for a region: for the runbook and `--help`-style listings.
 *
 * @example
 * for (const row of remediationTable('<region>')) console.log(`| ${row.step} | ${row.kind} | ${row.phases} | ${row.hint} |`);
 */
export const remediationTable = (
  region: string,
): {
  step: StepName | 'any';
  kind: FailureKind | 'any';
  phases: string;
  status: number | null;
  /** `path` for a path check's failure; else the message pattern, or `any`. */
  when: string;
  hint: string;
}[] =>
  REMEDIATION_RULES.map((rule) => ({
    step: rule.step ?? 'any',
    kind: rule.kind ?? 'any',
    phases: rule.phases?.join(', ') ?? 'any',
    status: rule.status ?? null,
    when: rule.path ? 'path' : (rule.message?.source ?? 'any'),
    hint: rule.hint(endpointNames(region)),
  }));
