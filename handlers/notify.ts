import { notify } from '../lib/alerting/notify.ts';
import { jsonLogger } from '../lib/log.ts';
import { notifierDatapoints } from '../lib/metrics/catalogue.ts';
import { type AwsLogsEvent, decodeSubscriptionEvent, SUSPICIOUS_REJECTIONS } from '../lib/metrics/log-records.ts';
import { EmfSink } from '../lib/metrics/sinks.ts';
import { alertPathDeps } from '../lib/run/alert-path.ts';
import { accountOfFunctionArn, loadLambdaEnv } from '../lib/run/lambda-env.ts';

// Built once per container. The notifier runs outside the watched VPC, so its calls don't share the probe's fate.
const env = loadLambdaEnv();
const logger = jsonLogger();
const deps = alertPathDeps(env, logger);
const emf = new EmfSink({ namespace: env.config.metrics.namespace });

interface NotifyContext {
  getRemainingTimeInMillis(): number;
  invokedFunctionArn: string;
}

/**
 * CloudWatch Logs subscription (the probe's result and findings records) → incident and finding state → SNS.
 * Throws only when Lambda must retry the event: a fail-open page SNS did not take (recorded nowhere), or records
 * left for lack of time. Retries re-deliver the whole event; records already applied are recognised.
 */
export const handler = async (event: AwsLogsEvent, context: NotifyContext) => {
  const { records, findings, rejected, rejections } = decodeSubscriptionEvent(event, {
    logGroup: env.probeLogGroup,
    account: env.account ?? accountOfFunctionArn(context.invokedFunctionArn),
  });
  // EMF and other log lines are expected in the group; only the other reasons point at a forged or broken record.
  const suspicious = SUSPICIOUS_REJECTIONS.reduce((n, reason) => n + (rejections[reason] ?? 0), 0);
  if (suspicious > 0) {
    logger.warn('implausible records rejected', { type: 'codecommit-canary/records-rejected', rejections });
  }
  const summary = await notify(records, findings, {
    ...deps,
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  await emf.publish(notifierDatapoints(env.stack, new Date(), { owed: summary.owed, rejected: suspicious }));
  logger.info('records processed', { type: 'codecommit-canary/notify', rejected, ...summary });
  if (summary.unrecorded > 0 || summary.deferred > 0) {
    throw new Error(
      `retry: ${summary.unrecorded} fail-open page(s) undelivered, ${summary.deferred} record(s) not applied in time`,
    );
  }
  return { ...summary, rejected };
};
