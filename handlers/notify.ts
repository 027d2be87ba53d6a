import { createSnsClient, processResults, SnsAlertSink } from '../lib/alerts.ts';
import { systemClock } from '../lib/clock.ts';
import { DynamoDbFindingStore } from '../lib/finding-state.ts';
import { createIncidentTableClient, DynamoDbIncidentStore } from '../lib/incidents.ts';
import { loadLambdaEnv, requireAlertEnv } from '../lib/lambda-env.ts';
import { jsonLogger } from '../lib/log.ts';
import { type AwsLogsEvent, decodeSubscriptionEvent } from '../lib/log-records.ts';
import { announceFindings } from '../lib/monitor.ts';

// Built once per container. The notifier runs outside the watched VPC, so its calls don't share the probe's fate.
const env = loadLambdaEnv();
const { table: tableName, topicArn } = requireAlertEnv(env);
const logger = jsonLogger();
const table = createIncidentTableClient({ region: env.region });
const deps = {
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

/** CloudWatch Logs subscription (the probe's result and findings records) → incident and finding state → SNS. */
export const handler = async (event: AwsLogsEvent) => {
  const { records, findings, rejected } = decodeSubscriptionEvent(event);
  const summary = await processResults(records, deps);
  for (const record of findings) await announceFindings(record, deps);
  logger.info('records processed', { type: 'codecommit-canary/notify', rejected, ...summary });
  return { ...summary, rejected };
};
