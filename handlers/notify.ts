import { createSnsClient, processResults, SnsAlertSink } from '../lib/alerts.ts';
import { systemClock } from '../lib/clock.ts';
import { createIncidentTableClient, DynamoDbIncidentStore } from '../lib/incidents.ts';
import { loadLambdaEnv, requireAlertEnv } from '../lib/lambda-env.ts';
import { jsonLogger } from '../lib/log.ts';
import { type AwsLogsEvent, decodeSubscriptionEvent } from '../lib/log-records.ts';

// Built once per container. The notifier runs outside the watched VPC, so its calls don't share the probe's fate.
const env = loadLambdaEnv();
const { table, topicArn } = requireAlertEnv(env);
const logger = jsonLogger();
const deps = {
  incidents: new DynamoDbIncidentStore({
    client: createIncidentTableClient({ region: env.region }),
    tableName: table,
    settings: env.config.alerts,
    clock: systemClock,
    logger,
  }),
  sink: new SnsAlertSink({ client: createSnsClient({ region: env.region }), topicArn, logger }),
  logger,
};

/** CloudWatch Logs subscription (the probe's result records) → incident state → SNS. */
export const handler = async (event: AwsLogsEvent) => {
  const { records, rejected } = decodeSubscriptionEvent(event);
  const summary = await processResults(records, deps);
  logger.info('records processed', { type: 'codecommit-canary/notify', rejected, ...summary });
  return { ...summary, rejected };
};
