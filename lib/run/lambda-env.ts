import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config-error.ts';
import { unpackConfig } from '../config/packaged.ts';
import type { DeliveryMode } from './budget.ts';

/** What the stack tells a handler through its environment; every name checked once, at cold start. */
export interface LambdaEnv {
  config: Config;
  delivery: DeliveryMode;
  stack: string;
  region: string;
  table?: string;
  topicArn?: string;
  /** The probe's log group: the only one whose records the notifier accepts. */
  probeLogGroup: string;
  /** The stack's account, when set (CANARY_ACCOUNT); else the notifier takes it from its own function ARN. */
  account?: string;
}

/**
 * The packaged config (lib/config/packaged.ts) bundled at build time (esbuild replaces
 * `process.env.CANARY_CONFIG_JSON` with its text), or, for tests and local runs of a bundle, the packaged config
 * file named by CANARY_CONFIG. A bad, unpackaged or edited config throws at cold start: the function errors loudly
 * instead of probing with something half-understood. So does a delivery mode other than the one the bundle was
 * packaged for (`process.env.CANARY_PACKAGED_DELIVERY`, also a build-time define).
 */
export function loadLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const bundled = process.env.CANARY_CONFIG_JSON;
  const file = env.CANARY_CONFIG;
  let config: Config;
  if (bundled !== undefined) config = unpackConfig(bundled, 'bundled config');
  else if (file) config = unpackConfig(readFileSync(resolve(env.LAMBDA_TASK_ROOT ?? '.', file), 'utf8'), file);
  else throw new ConfigError('environment', ['CANARY_CONFIG: required when no config was bundled at build time']);
  const packagedFor = process.env.CANARY_PACKAGED_DELIVERY;
  const delivery = env.CANARY_DELIVERY ?? packagedFor ?? 'log';
  if (delivery !== 'log' && delivery !== 'direct') {
    throw new ConfigError('environment', [`CANARY_DELIVERY: expected "log" or "direct", got "${delivery}"`]);
  }
  if (packagedFor !== undefined && delivery !== packagedFor) {
    throw new ConfigError('environment', [
      `CANARY_DELIVERY: "${delivery}", but this bundle was packaged for "${packagedFor}" (package with --param=delivery=${delivery})`,
    ]);
  }
  const stack = env.CANARY_STACK ?? 'codecommit-canary';
  return {
    config,
    delivery,
    stack,
    // As the stack names it (osls: /aws/lambda/<function name>, the function named <stack>-probe).
    probeLogGroup: env.CANARY_PROBE_LOG_GROUP ?? `/aws/lambda/${stack}-probe`,
    ...(env.CANARY_ACCOUNT ? { account: env.CANARY_ACCOUNT } : {}),
    region: env.AWS_REGION ?? config.region,
    ...(env.CANARY_TABLE ? { table: env.CANARY_TABLE } : {}),
    ...(env.CANARY_TOPIC_ARN ? { topicArn: env.CANARY_TOPIC_ARN } : {}),
  };
}

/** Names the alert path needs; missing ones are a deployment bug, reported at cold start. */
export function requireAlertEnv(env: LambdaEnv): { table: string; topicArn: string } {
  const missing = [!env.table && 'CANARY_TABLE', !env.topicArn && 'CANARY_TOPIC_ARN'].filter(Boolean) as string[];
  if (missing.length > 0) {
    throw new ConfigError(
      'environment',
      missing.map((name) => `${name}: required for alerts (set by the stack)`),
    );
  }
  return { table: env.table as string, topicArn: env.topicArn as string };
}

/** The account in a Lambda function ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`). */
export const accountOfFunctionArn = (arn: string): string | undefined =>
  /^arn:[^:]+:lambda:[^:]*:(\d{12}):/.exec(arn)?.[1];
