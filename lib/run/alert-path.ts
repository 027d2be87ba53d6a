/**
 * The alert path as the stack wires it: the notifier always, the probe only in direct mode. Apart from
 * lib/run/lambda-env.ts because it loads the DynamoDB and SNS clients, which a log-mode probe does without.
 */
import type { NotifyDeps } from '../alerting/notify.ts';
import { Outbox } from '../alerting/outbox.ts';
import { createSnsClient, SnsAlertSink } from '../alerting/sinks.ts';
import { createAlertTableClient, DynamoDbTable } from '../alerting/versioned-table.ts';
import { systemClock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { type LambdaEnv, requireAlertEnv } from './lambda-env.ts';

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
    sink: new SnsAlertSink({
      // Built on the first publish: most invocations have nothing to send.
      client: () => createSnsClient({ region: env.region }),
      topicArn,
      logger,
      format: env.config.alerts.format,
    }),
    logger,
    settings: env.config.alerts,
    clock: systemClock,
    failOpenSent: new Map(),
  };
}
