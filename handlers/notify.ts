import { processResults } from '../lib/alerts.ts';
import { alertPathDeps, loadLambdaEnv } from '../lib/lambda-env.ts';
import { jsonLogger } from '../lib/log.ts';
import { type AwsLogsEvent, decodeSubscriptionEvent } from '../lib/log-records.ts';
import { announceFindings } from '../lib/monitor.ts';

// Built once per container. The notifier runs outside the watched VPC, so its calls don't share the probe's fate.
const logger = jsonLogger();
const deps = alertPathDeps(loadLambdaEnv(), logger);

/** CloudWatch Logs subscription (the probe's result and findings records) → incident and finding state → SNS. */
export const handler = async (event: AwsLogsEvent) => {
  const { records, findings, rejected } = decodeSubscriptionEvent(event);
  const summary = await processResults(records, deps);
  for (const record of findings) await announceFindings(record, deps);
  logger.info('records processed', { type: 'codecommit-canary/notify', rejected, ...summary });
  return { ...summary, rejected };
};
