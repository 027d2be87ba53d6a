/**
 * A target with every default applied, from the config's settings around it. Apart from the schema
 * (lib/config/config.ts) so the Lambdas resolve their packaged config without loading zod.
 */
import type { Config, TargetConfig } from './config.ts';
import { gitEndpoint, regionalStsEndpoint } from './endpoints.ts';
import { stsSigningRegion } from './git-host.ts';
import { partitionOf } from './regions.ts';
import { parseCodeCommitUrl } from './target-url.ts';

/** The fetch's defaults (the schema's, and for settings that come without them). */
export const DEFAULT_FETCH_LIMITS = { maxBytes: 8 * 1024 * 1024, timeoutMs: 15_000 } as const;

/** A target with every default applied: what a probe needs and nothing more. */
export interface ResolvedTarget {
  name: string;
  repository: string;
  region: string;
  /** The role to assume; null only for an ad-hoc profile without `role_arn` (then `sts` is GetCallerIdentity). */
  roleArn: string | null;
  externalId?: string;
  sessionName: string;
  /** Present (false) only when the target turned the GitPull-only session policy off. */
  sessionPolicy?: false;
  stsEndpoint: string;
  /** The region the AssumeRole request is signed for: the STS endpoint's (see stsSigningRegion). */
  stsRegion: string;
  gitEndpoint: string;
  timeouts: { stsMs: number; gitMs: number };
  /** Check every address of the sts and git endpoint names (`probe.everyAddress`). */
  everyAddress: boolean;
  /** The shallow fetch of HEAD after ls-remote, when on for this target. */
  fetch: { maxBytes: number; timeoutMs: number } | null;
  /** The target's ref assertions, when it has any. */
  expect?: { refs?: string[]; head?: string; headMaxAgeMinutes?: number };
}

/** The settings around a target; `probe` and `fetch` default as the schema's do (an ad-hoc CLI run has none). */
export type TargetSettings = Pick<Config, 'region' | 'endpoints' | 'timeouts'> &
  Partial<Pick<Config, 'probe' | 'fetch'>>;

/** A target as the config or an ad-hoc profile gives it: the config's target, its role possibly absent. */
export type TargetSpec = Omit<TargetConfig, 'roleArn'> & { roleArn: string | null };

/**
 * One target with every default applied from the settings around it.
 *
 * @example
 * resolveTarget({ name: 'team-repo', repository: 'team-repo', roleArn }, config).stsEndpoint // 'https://sts.<region>.amazonaws.com'
 */
export function resolveTarget(target: TargetSpec, settings: TargetSettings): ResolvedTarget {
  const fromUrl = target.url ? parseCodeCommitUrl(target.url) : null;
  const url = fromUrl?.ok ? fromUrl.url : null;
  const targetRegion = target.region ?? url?.region ?? settings.region;
  // The monitor's region (a closed VPC has the sts interface endpoint of its own region only), unless the target
  // is in another partition, whose roles only that partition's STS can hand out.
  const stsHomeRegion = partitionOf(targetRegion) === partitionOf(settings.region) ? settings.region : targetRegion;
  const stsEndpoint = target.endpoints?.sts ?? settings.endpoints.sts ?? regionalStsEndpoint(stsHomeRegion);
  const fetch = { ...settings.fetch, ...target.fetch };
  return {
    name: target.name,
    repository: target.repository ?? url?.repository ?? '',
    region: targetRegion,
    roleArn: target.roleArn,
    ...(target.externalId ? { externalId: target.externalId } : {}),
    sessionName: target.sessionName ?? `codecommit-canary-${target.name}`.slice(0, 64),
    ...(target.sessionPolicy === false ? { sessionPolicy: false as const } : {}),
    stsEndpoint,
    stsRegion: stsSigningRegion(new URL(stsEndpoint).hostname, stsHomeRegion),
    gitEndpoint: target.endpoints?.git ?? url?.endpoint ?? settings.endpoints.git ?? gitEndpoint(targetRegion),
    timeouts: {
      stsMs: target.timeouts?.stsMs ?? settings.timeouts.stsMs,
      gitMs: target.timeouts?.gitMs ?? settings.timeouts.gitMs,
    },
    everyAddress: settings.probe?.everyAddress ?? true,
    fetch: fetch.enabled ? { ...DEFAULT_FETCH_LIMITS, ...definedOnly(fetch) } : null,
    ...(target.expect ? { expect: target.expect } : {}),
  };
}

/** The longest a target's steps can take one after another: sts, git, and the fetch when on. */
export const stepsMs = (target: Pick<ResolvedTarget, 'timeouts' | 'fetch'>): number =>
  target.timeouts.stsMs + target.timeouts.gitMs + (target.fetch?.timeoutMs ?? 0);

const definedOnly = ({ maxBytes, timeoutMs }: { maxBytes?: number | undefined; timeoutMs?: number | undefined }) => ({
  ...(maxBytes === undefined ? {} : { maxBytes }),
  ...(timeoutMs === undefined ? {} : { timeoutMs }),
});

export const resolveTargets = (config: Config): ResolvedTarget[] =>
  config.targets.map((target) => resolveTarget(target, config));
