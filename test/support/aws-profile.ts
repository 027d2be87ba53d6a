import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_SOURCE_CREDENTIALS } from '../../harness/moto.ts';
import { REGION, ROLE_ARN } from '../../harness/sandbox.ts';

/**
 * The seed's `~/.aws` in `dir`: a `base` profile with (fake) keys and a `switchrole` profile that assumes ROLE_ARN
 * from it, plus `extra` lines for `switchrole`. Returns the environment that points the SDK at those files.
 */
export function writeSwitchRoleProfile(dir: string, extra = ''): NodeJS.ProcessEnv {
  writeFileSync(
    join(dir, 'config'),
    `[profile base]\nregion = ${REGION}\n\n[profile switchrole]\nregion = ${REGION}\nrole_arn = ${ROLE_ARN}\nsource_profile = base\nrole_session_name = from-profile\n${extra}`,
  );
  writeFileSync(
    join(dir, 'credentials'),
    `[base]\naws_access_key_id = ${FAKE_SOURCE_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${FAKE_SOURCE_CREDENTIALS.secretAccessKey}\n`,
  );
  return { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
}
