import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NotifyDeps } from '../alerting/notify.ts';
import { Outbox } from '../alerting/outbox.ts';
import { createSnsClient, SnsAlertSink } from '../alerting/sinks.ts';
import { createAlertTableClient, DynamoDbTable } from '../alerting/versioned-table.ts';
import { systemClock } from '../clock.ts';
import { type Config, ConfigError, parseConfig, parseConfigText } from '../config/config.ts';
import type { Logger } from '../log.ts';
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
 * The config bundled at build time (esbuild replaces `process.env.CANARY_CONFIG_JSON` with its text), or, for
 * `serverless invoke local` and tests, the file named by CANARY_CONFIG. Bad config throws at cold start: the
 * function errors loudly instead of probing with something half-understood.
 */
export function loadLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const bundled = process.env.CANARY_CONFIG_JSON;
  const file = env.CANARY_CONFIG;
  let raw: unknown;
  let source = 'bundled config';
  if (bundled !== undefined) raw = parseConfigText(bundled, 'bundled.json');
  else if (file) {
    source = file;
    raw = parseConfigText(readFileSync(resolve(env.LAMBDA_TASK_ROOT ?? '.', file), 'utf8'), file);
  } else throw new ConfigError('environment', ['CANARY_CONFIG: required when no config was bundled at build time']);
  const config = parseConfig(raw, source);
  const delivery = env.CANARY_DELIVERY ?? 'log';
  if (delivery !== 'log' && delivery !== 'direct') {
    throw new ConfigError('environment', [`CANARY_DELIVERY: expected "log" or "direct", got "${delivery}"`]);
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

/**
 * The alert path from the stack's names: incident and finding state with the owed notifications in the table,
 * alerts to the topic. The notifier always builds it; the probe only in `direct` mode. Built once per container
 * (the fail-open memory lives as long as the container).
 */
export function alertPathDeps(env: LambdaEnv, logger: Logger): NotifyDeps {
  const { table, topicArn } = requireAlertEnv(env);
  return {
    outbox: new Outbox(new DynamoDbTable(createAlertTableClient({ region: env.region }), table), {
      clock: systemClock,
    }),
    sink: new SnsAlertSink({ client: createSnsClient({ region: env.region }), topicArn, logger }),
    logger,
    settings: env.config.alerts,
    clock: systemClock,
    failOpenSent: new Map(),
  };
}

/** The account in a Lambda function ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`). */
export const accountOfFunctionArn = (arn: string): string | undefined =>
  /^arn:[^:]+:lambda:[^:]*:(\d{12}):/.exec(arn)?.[1];
