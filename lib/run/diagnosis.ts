import { isIP } from 'node:net';
import type { Config } from '../config/config.ts';
import { GLOBAL_STS_ENDPOINT } from '../config/endpoints.ts';
import type { ProfileSetup } from '../config/profile.ts';
import { usesLegacyGlobalSts } from '../config/regions.ts';
import { certificateDaysByHost } from '../metrics/catalogue.ts';
import { addressClass, isPrivateAddress, vpcAddressSpace } from '../net/addresses.ts';
import { type StsDeps, sourceCredentialsOf, stsStep } from '../steps/sts.ts';
import type { Finding, StsStepResult, TargetResult } from '../types.ts';
import { endpointNames, globalStsRemediation } from './remediation.ts';

/** The config a diagnosis reads; `region` is the monitor's (the VPC's), where its clients run. */
export type DiagnosisConfig = Pick<Config, 'checks' | 'network' | 'endpoints' | 'timeouts'> &
  Partial<Pick<Config, 'region'>>;

/**
 * Whether legacy clients (AWS CLI v1 before 1.42, boto3 before 1.40, `sts_regional_endpoints = legacy`) in this
 * region call the global STS endpoint: only in botocore's legacy-global regions; elsewhere (ap-northeast-2, me-*,
 * af-south-1, China, GovCloud, …) they already call the regional one, so the check would only add noise (and in
 * China the global name answers for another partition). Unknown region: checked.
 */
export const globalStsMatters = (region: string | undefined): boolean =>
  region === undefined || usesLegacyGlobalSts(region);

/** What the extra checks saw this run, besides the targets' own steps. */
export interface CheckResults {
  /** GetCallerIdentity through the global endpoint (null when the check is off). */
  globalSts: StsStepResult | null;
  /** The canonical endpoint names, resolved the way clients in the VPC resolve them. */
  names: Array<{
    service: 'sts' | 'git-codecommit';
    region: string;
    host: string;
    addresses: string[];
    error?: string;
  }>;
}

const NAME_DEADLINE_MS = 2000;

async function resolveName(host: string, deps: StsDeps): Promise<{ addresses: string[]; error?: string }> {
  const signal = AbortSignal.timeout(NAME_DEADLINE_MS);
  try {
    return { addresses: await deps.resolve(host, signal) };
  } catch (error) {
    return { addresses: [], error: (error as { code?: string }).code ?? 'lookup failed' };
  }
}

/**
 * The run's extra checks: one short call to the global STS endpoint, and a DNS-only look at the canonical
 * endpoint names of every region in use (no connection: it must be testable, and cheap).
 */
export async function runChecks(
  regions: readonly string[],
  config: DiagnosisConfig,
  deps: StsDeps,
): Promise<CheckResults> {
  const globalSts =
    config.checks.globalSts && globalStsMatters(config.region)
      ? stsStep(
          {
            region: 'us-east-1',
            roleArn: null,
            sessionName: 'codecommit-canary',
            stsEndpoint: config.endpoints.stsGlobal ?? GLOBAL_STS_ENDPOINT,
            timeouts: { stsMs: config.timeouts.stsGlobalMs },
          },
          await sourceCredentialsOf(deps),
          deps,
        ).then((outcome) => outcome.result)
      : Promise.resolve(null);
  const names = config.checks.path
    ? [...new Set(regions)].flatMap((region) => {
        const n = endpointNames(region);
        return [
          { service: 'sts' as const, region, host: n.stsHost },
          { service: 'git-codecommit' as const, region, host: n.gitHost },
        ];
      })
    : [];
  const resolved = await Promise.all(names.map(async (name) => ({ ...name, ...(await resolveName(name.host, deps)) })));
  return { globalSts: await globalSts, names: resolved };
}

/** The findings of one run: pure, from the targets' results and the checks. */
export function findingsFor(
  targets: readonly TargetResult[],
  checks: CheckResults,
  config: DiagnosisConfig,
): Finding[] {
  const findings: Finding[] = [];
  const regionalStsOk = targets.some((t) => t.steps.sts.ok);
  const global = checks.globalSts;
  if (global && !global.ok && regionalStsOk && global.failure) {
    const region = targets.find((t) => t.steps.sts.ok)?.region ?? 'us-east-1';
    findings.push({
      code: 'global-sts-unreachable',
      severity: 'warning',
      subject: global.endpoint,
      message:
        `The regional STS endpoint answers, but the global one (${global.endpoint}) does not: ` +
        `${global.failure.kind} in ${global.failure.phase} (${global.failure.message}). Clients that use the global endpoint hang here.`,
      remediation: globalStsRemediation(region),
    });
  }

  // Every endpoint name seen this run: the canonical ones (path check) and each step's own (overrides included).
  const seen = new Map<string, { service: string; region: string; addresses: string[]; target?: string }>();
  for (const name of checks.names)
    seen.set(name.host, { service: name.service, region: name.region, addresses: name.addresses });
  for (const target of targets) {
    for (const [service, step] of [
      ['sts', target.steps.sts],
      ['git-codecommit', target.steps.git],
    ] as const) {
      const host = new URL(step.endpoint).hostname;
      if (!seen.has(host) && step.addresses.length > 0) {
        seen.set(host, { service, region: target.region, addresses: step.addresses, target: target.name });
      }
    }
  }
  const vpc = vpcAddressSpace(config.network.vpcCidrs);
  for (const [host, { service, region, addresses, target }] of seen) {
    const names = endpointNames(region);
    const serviceName = service === 'sts' ? names.stsService : names.gitService;
    // Inside vpcCidrs counts as private; a global IPv6 address with no vpcCidrs is unknown, not public.
    const publicAddresses = addresses.filter((a) => addressClass(a, vpc) === 'public');
    if (publicAddresses.length > 0) {
      findings.push({
        code: 'endpoint-not-private',
        severity: config.network.closed ? 'critical' : 'warning',
        ...(target ? { target } : {}),
        subject: host,
        message: `${host} resolves to public addresses (${publicAddresses.join(', ')}): calls leave the VPC instead of using the interface endpoint.`,
        remediation:
          `Enable private DNS on the ${serviceName} interface endpoint, or create the endpoint if it is missing ` +
          '(and check that the VPC has enableDnsSupport and enableDnsHostnames).',
      });
      continue;
    }
    const outside = vpc
      ? addresses.filter((a) => isPrivateAddress(a) && !vpc.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4'))
      : [];
    if (outside.length > 0) {
      findings.push({
        code: 'endpoint-outside-vpc',
        severity: 'warning',
        ...(target ? { target } : {}),
        subject: host,
        message: `${host} resolves to private addresses outside the VPC's CIDRs (${outside.join(', ')}).`,
        remediation: `Check which VPC's ${serviceName} endpoint answers: a shared resolver rule or a peered VPC's private hosted zone may be in the way.`,
      });
    }
  }

  // A target in another region than the monitor: its git step leaves the monitor's region.
  for (const target of targets) {
    if (!config.region || target.region === config.region) continue;
    const names = endpointNames(target.region);
    findings.push({
      code: 'target-in-other-region',
      severity: config.network.closed ? 'warning' : 'info',
      target: target.name,
      subject: names.gitHost,
      message:
        `${target.name} is in ${target.region}, the monitor in ${config.region}: its git step calls ${names.gitHost}. ` +
        `Interface endpoints and their private DNS serve their own region only, so a closed VPC in ${config.region} ` +
        `reaches it only through a ${names.gitService} endpoint in a VPC of ${target.region} it is connected to.`,
      remediation:
        `Create the ${names.gitService} interface endpoint in a VPC of ${target.region}, connect it (inter-region VPC ` +
        `peering or Transit Gateway) and resolve ${names.gitHost} to it (a private hosted zone, or the endpoint's own ` +
        "vpce-… name as the target's git endpoint); or probe that repository from a monitor in its own region.",
    });
  }

  const certificates = certificateDaysByHost([
    ...targets.flatMap((t) => [t.steps.sts, t.steps.git]),
    ...(global ? [global] : []),
  ]);
  for (const [host, days] of certificates) {
    if (days >= config.checks.certificateDays) continue;
    findings.push({
      code: 'certificate-expiring',
      severity: days < 3 ? 'critical' : 'warning',
      subject: host,
      message: `The TLS certificate of ${host} expires in ${days} day(s).`,
      remediation:
        'AWS rotates its endpoint certificates: a certificate close to expiry means a TLS-inspecting proxy or a custom ' +
        'endpoint name is presenting its own certificate. Renew it there.',
    });
  }
  return findings;
}

/**
 * What a local AWS profile shows before any probe: `sts_regional_endpoints=legacy` (the profile or
 * AWS_STS_REGIONAL_ENDPOINTS) sends AWS CLI v1 and boto3 to the global endpoint in botocore's legacy-global
 * regions (and only there: elsewhere legacy clients call the regional endpoint already).
 *
 * @example
 * profileFindings({ profile: 'switch', region: 'ap-northeast-1', stsRegionalEndpoints: 'legacy' })[0]?.code // 'profile-uses-global-sts'
 */
export function profileFindings(setup: Pick<ProfileSetup, 'profile' | 'region' | 'stsRegionalEndpoints'>): Finding[] {
  // Outside botocore's legacy-global regions `legacy` already means the regional endpoint.
  if (setup.stsRegionalEndpoints !== 'legacy' || !usesLegacyGlobalSts(setup.region)) return [];
  return [
    {
      code: 'profile-uses-global-sts',
      severity: 'warning',
      subject: setup.profile,
      message:
        `sts_regional_endpoints=legacy (profile "${setup.profile}" or AWS_STS_REGIONAL_ENDPOINTS): AWS CLI v1 and boto3 ` +
        `would call the global endpoint ${GLOBAL_STS_ENDPOINT}, which hangs in a VPC that only has the regional sts interface endpoint.`,
      remediation: globalStsRemediation(setup.region),
    },
  ];
}
