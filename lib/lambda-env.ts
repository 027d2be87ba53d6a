import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSnsClient, SnsAlertSink } from './alerts.ts';
import { systemClock } from './clock.ts';
import { type Config, ConfigError, parseConfig, parseConfigText } from './config.ts';
import { DynamoDbFindingStore } from './finding-state.ts';
import { createIncidentTableClient, DynamoDbIncidentStore } from './incidents.ts';
import type { Logger } from './log.ts';
import type { DeliveryMode, MonitorDeps } from './monitor.ts';

/** What the stack tells a handler through its environment; every name checked once, at cold start. */
export interface LambdaEnv {
  config: Config;
  delivery: DeliveryMode;
  stack: string;
  region: string;
  table?: string;
  topicArn?: string;
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
  return {
    config,
    delivery,
    stack: env.CANARY_STACK ?? 'codecommit-canary',
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
 * The alert path from the stack's names: incident and finding state in the table, alerts to the topic. The
 * notifier always builds it; the probe only in `direct` mode. Built once per container.
 */
export function alertPathDeps(env: LambdaEnv, logger: Logger): NonNullable<MonitorDeps['alerts']> {
  const { table: tableName, topicArn } = requireAlertEnv(env);
  const table = createIncidentTableClient({ region: env.region });
  return {
    findings: new DynamoDbFindingStore({ client: table, tableName, logger }),
    incidents: new DynamoDbIncidentStore({
      client: table,
      tableName,
      settings: env.config.alerts,
      clock: systemClock,
      logger,
    }),
    sink: new SnsAlertSink({ client: createSnsClient({ region: env.region }), topicArn, logger }),
    logger,
  };
}
