/**
 * What a git-codecommit host name says: the region CodeCommit signs for, exactly as the AWS CLI credential
 * helper reads it (awscli/customizations/codecommit.py, `extract_region`: `re.match`, so anchored at the start
 * only), for regional, FIPS and interface endpoint (`vpce-…`) names.
 */
const HOST_REGION = /^(vpce-.+\.)?git-codecommit(-fips)?\.([^.]+)\.(vpce\.)?amazonaws\.com/;

/**
 * The region a CodeCommit host name names, or null for any other host (then the target's region signs).
 *
 * @example
 * hostRegion('vpce-0b47ea360adebf88a-jkl88hez.git-codecommit.us-west-2.vpce.amazonaws.com') // 'us-west-2'
 * hostRegion('127.0.0.1') // null
 */
export const hostRegion = (hostname: string): string | null => HOST_REGION.exec(hostname)?.[3] ?? null;

/** The region to sign a git password for: the host's, as the AWS CLI helper does, else the target's. */
export const signingRegion = (hostname: string, targetRegion: string): string => hostRegion(hostname) ?? targetRegion;

/** `sts[-fips].<region>.<suffix>` and an interface endpoint's `vpce-….sts.<region>.vpce.<suffix>`. */
const STS_HOST_REGION = /^(?:vpce-[^.]+\.)?sts(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;

/**
 * The region an STS request must be signed for: the region its host names (regional STS refuses a signature
 * scoped to another region), `us-east-1` for the global endpoint, else `fallback` (a host that names no region:
 * the monitor's, whose VPC endpoint it is).
 *
 * @example
 * stsSigningRegion('sts.ap-northeast-1.amazonaws.com', 'eu-west-1') // 'ap-northeast-1'
 * stsSigningRegion('sts.amazonaws.com', 'eu-west-1') // 'us-east-1'
 */
export function stsSigningRegion(hostname: string, fallback: string): string {
  if (hostname === 'sts.amazonaws.com') return 'us-east-1';
  return STS_HOST_REGION.exec(hostname)?.[1] ?? fallback;
}
