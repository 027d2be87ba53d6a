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
