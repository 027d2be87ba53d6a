/** Default AWS endpoints for a region: always the regional ones (the global STS endpoint hangs in closed VPCs). */
import { dnsSuffixOf } from './regions.ts';

/** The region's partition's DNS suffix (`amazonaws.com.cn` in China), from AWS's data. */
export const dnsSuffix = dnsSuffixOf;

export const regionalStsEndpoint = (region: string): string => `https://sts.${region}.${dnsSuffix(region)}`;

export const gitEndpoint = (region: string): string => `https://git-codecommit.${region}.${dnsSuffix(region)}`;

export const GLOBAL_STS_ENDPOINT = 'https://sts.amazonaws.com';

/** The repository's smart-HTTP path on a git-codecommit host (no `.git` suffix). */
export const repositoryPath = (repository: string): string => `/v1/repos/${repository}`;
