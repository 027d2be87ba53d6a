/**
 * Regions and partitions as AWS's own data has them (lib/config/codecommit-regions.ts, generated from botocore):
 * where CodeCommit exists, each partition's DNS suffix and ARN prefix, and where legacy clients call the global
 * STS endpoint.
 */
import { CODECOMMIT_PARTITION_DATA, LEGACY_GLOBAL_STS_REGIONS } from './codecommit-regions.ts';

export type PartitionName = keyof typeof CODECOMMIT_PARTITION_DATA;

const PARTITION_NAMES = Object.keys(CODECOMMIT_PARTITION_DATA) as PartitionName[];

/** Every region with a CodeCommit endpoint, in every partition. */
export const CODECOMMIT_REGIONS: readonly string[] = PARTITION_NAMES.flatMap((p) => [
  ...CODECOMMIT_PARTITION_DATA[p].codecommit,
]);

/** Every region botocore knows in the partitions CodeCommit is in (with or without CodeCommit). */
export const AWS_REGIONS: readonly string[] = PARTITION_NAMES.flatMap((p) => [...CODECOMMIT_PARTITION_DATA[p].regions]);

export const isCodeCommitRegion = (value: string): boolean => CODECOMMIT_REGIONS.includes(value);

/** @deprecated name kept for callers: a region a target may live in is a CodeCommit region. */
export const isAwsRegion = isCodeCommitRegion;

/**
 * The partition of a region: the one listing it, else the one whose region pattern it matches (a region newer
 * than the installed data), else `aws`.
 *
 * @example
 * partitionOf('cn-north-1') // 'aws-cn'
 */
export function partitionOf(region: string): PartitionName {
  const listed = PARTITION_NAMES.find((p) =>
    (CODECOMMIT_PARTITION_DATA[p].regions as readonly string[]).includes(region),
  );
  if (listed) return listed;
  return PARTITION_NAMES.find((p) => new RegExp(CODECOMMIT_PARTITION_DATA[p].regionRegex).test(region)) ?? 'aws';
}

/** `amazonaws.com`, or `amazonaws.com.cn` in China. */
export const dnsSuffixOf = (region: string): string => CODECOMMIT_PARTITION_DATA[partitionOf(region)].dnsSuffix;

/** The console's host for a region: `console.aws.amazon.com`, `console.amazonaws.cn`, `console.amazonaws-us-gov.com`. */
export const consoleHostOf = (region: string): string =>
  ({
    aws: `${region}.console.aws.amazon.com`,
    'aws-cn': 'console.amazonaws.cn',
    'aws-us-gov': 'console.amazonaws-us-gov.com',
  })[partitionOf(region)];

/** Regions with a `git-codecommit-fips` endpoint. */
export const hasCodeCommitFips = (region: string): boolean =>
  (CODECOMMIT_PARTITION_DATA[partitionOf(region)].codecommitFips as readonly string[]).includes(region);

/**
 * True where AWS CLI v1 and boto3 with `sts_regional_endpoints = legacy` (their default before CLI 1.42 and
 * boto3 1.40) call `sts.amazonaws.com`: botocore's legacy-global regions, all in the commercial partition.
 * Elsewhere they already call the regional endpoint.
 */
export const usesLegacyGlobalSts = (region: string): boolean =>
  (LEGACY_GLOBAL_STS_REGIONS as readonly string[]).includes(region);

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The CodeCommit regions nearest to a name: the same area (`ap`, `ca`, `us-gov`) first, then by edit distance. */
export function nearestCodeCommitRegions(region: string, count = 3): string[] {
  const area = region.split('-').slice(0, -2).join('-');
  const rank = (candidate: string) => (area && candidate.split('-').slice(0, -2).join('-') === area ? 0 : 1000);
  return [...CODECOMMIT_REGIONS]
    .map((candidate) => ({ candidate, score: rank(candidate) + editDistance(region, candidate) }))
    .sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate))
    .slice(0, count)
    .map((x) => x.candidate);
}

/**
 * Why a region cannot hold a CodeCommit repository, naming it and the nearest valid ones; null when it can.
 *
 * @example
 * regionProblem('ap-east-2') // 'ap-east-2 has no CodeCommit (…); nearest CodeCommit regions: ap-east-1, …'
 */
export function regionProblem(region: string): string | null {
  if (isCodeCommitRegion(region)) return null;
  const nearest = nearestCodeCommitRegions(region).join(', ');
  return AWS_REGIONS.includes(region)
    ? `${region} has no CodeCommit (AWS lists no CodeCommit endpoint there); nearest CodeCommit regions: ${nearest}`
    : `"${region}" is not an AWS region with CodeCommit; nearest CodeCommit regions: ${nearest}`;
}
