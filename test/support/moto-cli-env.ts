import { join } from 'node:path';
import { FAKE_SOURCE_CREDENTIALS, type Moto } from '../../harness/moto.ts';
import type { TestPki } from '../../harness/sandbox.ts';

/**
 * The environment for running the CLI against moto as it would run against AWS: fake keys, no profile files,
 * the SDK's own endpoint override (AWS_ENDPOINT_URL) and Node's extra CA for the test PKI.
 */
export const motoCliEnv = (moto: Moto, pki: TestPki, dir: string): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: FAKE_SOURCE_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: FAKE_SOURCE_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(dir, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  AWS_ENDPOINT_URL: moto.url,
  NODE_EXTRA_CA_CERTS: pki.caFile,
});
