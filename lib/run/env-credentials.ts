/**
 * The Lambda bundles' only credential provider: the execution role's credentials, which Lambda puts in the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). The bundles alias
 * `@aws-sdk/credential-provider-node` (the SDK clients' default chain: SSO, INI files, `credential_process`,
 * web identity, container and instance metadata) to this module (scripts/build.mjs, serverless.yml), so none of
 * those providers ships or can be talked into running in a function. The CLI keeps the whole chain (profiles).
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Same name and shape as `@aws-sdk/credential-provider-node`'s export, which every SDK client's runtime config
 * imports as its default credential provider.
 *
 * @example
 * const credentials = await defaultProvider()(); // { accessKeyId, secretAccessKey, sessionToken } from the env
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);

/**
 * In the Lambda bundles `@aws-sdk/credential-providers` is aliased here too: code shared with the CLI that asks
 * for the default chain (lib/run/runtime.ts) gets the environment's credentials, and a provider a function must
 * not use (fromIni, fromSSO, fromProcess, ...) is missing at build time instead of shipping.
 */
export const fromNodeProviderChain = defaultProvider;
