import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import type { AwsCredentials } from '../steps/git/password.ts';
import { ConfigError } from './config.ts';
import { regionProblem } from './regions.ts';

/** What an ad-hoc `probe codecommit://profile@repo` needs from the shared AWS config files. */
export interface ProfileSetup {
  profile: string;
  region: string;
  /** `role_arn` of the profile; null when the profile holds credentials of its own. */
  roleArn: string | null;
  externalId?: string;
  sessionName?: string;
  /** `sts_regional_endpoints` from the environment or the profile, as AWS CLI v1 / boto3 would read it. */
  stsRegionalEndpoints?: string;
  /** Credentials to call STS with: the source profile's when the profile assumes a role. */
  sourceCredentials: () => Promise<AwsCredentials>;
}

/**
 * Reads the profile the way the AWS CLI and git-remote-codecommit do (`~/.aws/config`, `~/.aws/credentials`,
 * AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), leaving credential resolution to the SDK's own providers.
 * The role is assumed by the probe itself, so the `sts` step is timed against the endpoint being checked.
 */
export async function loadProfile(
  profile: string,
  urlRegion: string | null,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProfileSetup> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles();
  const section = { ...credentialsFile[profile], ...configFile[profile] };
  if (!configFile[profile] && !credentialsFile[profile]) {
    const known = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])].sort();
    throw new ConfigError('profile', [
      `profile "${profile}" not found in the shared AWS config files; known profiles: ${known.join(', ') || '(none)'}`,
    ]);
  }
  const region = urlRegion ?? section.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new ConfigError('profile', [
      `region: expected an AWS region: give it in the URL (codecommit::<region>://…), as region in profile "${profile}", or AWS_REGION`,
    ]);
  }
  const problem = regionProblem(region);
  if (problem) throw new ConfigError('profile', [`region: ${problem}`]);
  const roleArn = section.role_arn ?? null;
  let sourceCredentials: () => Promise<AwsCredentials>;
  if (!roleArn) sourceCredentials = fromIni({ profile });
  else if (section.source_profile) sourceCredentials = fromIni({ profile: section.source_profile });
  else if (section.credential_source) sourceCredentials = fromNodeProviderChain({ profile: undefined });
  else {
    throw new ConfigError('profile', [
      `profile "${profile}": role_arn needs source_profile or credential_source to call AssumeRole with`,
    ]);
  }
  const stsRegionalEndpoints = env.AWS_STS_REGIONAL_ENDPOINTS ?? section.sts_regional_endpoints;
  return {
    profile,
    region,
    roleArn,
    ...(section.external_id ? { externalId: section.external_id } : {}),
    ...(section.role_session_name ? { sessionName: section.role_session_name } : {}),
    ...(stsRegionalEndpoints ? { stsRegionalEndpoints } : {}),
    sourceCredentials,
  };
}
