import { sigv4Signature } from '../sigv4.ts';

/** Temporary AWS credentials as the SDK returns them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface GitCredentials {
  username: string;
  password: string;
}

/** `YYYYMMDDTHHMMSS` in UTC, the timestamp form CodeCommit's password uses (no trailing Z). */
export const gitTimestamp = (at: Date): string => at.toISOString().replace(/[-:]/g, '').slice(0, 15);

/**
 * CodeCommit's SigV4-derived git password, as the AWS CLI credential helper and
 * git-remote-codecommit compute it: method `GIT`, no query, no payload hash, the host signed without port.
 *
 * @example
 * gitPassword({ accessKeyId: 'access', secretAccessKey: 'secret' }, 'us-west-2',
 *   'git-codecommit.us-west-2.amazonaws.com', '/v1/repos/test_repo', new Date('2017-12-24T11:53:20Z'))
 * // → '20171224T115320Zb6df2d75…'
 */
export function gitPassword(
  credentials: Pick<AwsCredentials, 'secretAccessKey'>,
  region: string,
  hostname: string,
  path: string,
  at: Date,
): string {
  const timestamp = gitTimestamp(at);
  const canonicalRequest = `GIT\n${path}\n\nhost:${hostname}\n\nhost\n`;
  const { signature } = sigv4Signature(credentials.secretAccessKey, timestamp, region, 'codecommit', canonicalRequest);
  return `${timestamp}Z${signature}`;
}

/** HTTP Basic credentials for a CodeCommit git request. Generate anew for each request. */
export function gitCredentials(
  credentials: AwsCredentials,
  region: string,
  hostname: string,
  path: string,
  at: Date,
): GitCredentials {
  const username = credentials.sessionToken
    ? `${credentials.accessKeyId}%${credentials.sessionToken}`
    : credentials.accessKeyId;
  return { username, password: gitPassword(credentials, region, hostname, path, at) };
}

export const basicAuthorization = ({ username, password }: GitCredentials): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
