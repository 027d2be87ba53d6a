/**
 * Keeps the user's AWS setup out of the demo. The demo hands the SDK its own fake credentials, region and
 * endpoint explicitly, but the SDK still reads other settings from the environment and ~/.aws (a profile's
 * `use_fips_endpoint`, for one, would make it refuse the demo's endpoint). For the demo's duration the SDK
 * sees no AWS_* variables and config files that do not exist.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Left alone: it only silences the SDK's Node-version warning. */
const KEEP = new Set(['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);

/**
 * Hides AWS_* variables and points the shared config and credentials files nowhere; returns the undo.
 *
 * @example
 * const restore = isolateFromAwsConfig();
 * try { await demo(); } finally { restore(); }
 */
export function isolateFromAwsConfig(env: NodeJS.ProcessEnv = process.env): () => void {
  const saved = Object.entries(env).filter(([name]) => name.startsWith('AWS_') && !KEEP.has(name));
  for (const [name] of saved) delete env[name];
  // Never created: the SDK treats a missing file as empty.
  const nowhere = join(tmpdir(), `codecommit-canary-demo-no-aws-config-${process.pid}`);
  env.AWS_CONFIG_FILE = nowhere;
  env.AWS_SHARED_CREDENTIALS_FILE = nowhere;
  return () => {
    delete env.AWS_CONFIG_FILE;
    delete env.AWS_SHARED_CREDENTIALS_FILE;
    for (const [name, value] of saved) env[name] = value;
  };
}
