/**
 * Direct mode's side of the probe: PutMetricData with EMF as the fallback, and the alert path (table and topic).
 * Used only by a probe in direct mode: a log-mode package leaves it out (handlers/probe.ts calls it in a branch
 * the packaged mode makes dead, which esbuild drops with the SDK clients), so a log-mode probe has no CloudWatch,
 * SNS or DynamoDB client.
 */
import type { Logger } from '../log.ts';
import { CloudWatchSink, createMetricsClient, type EmfSink } from '../metrics/sinks.ts';
import { alertPathDeps } from './alert-path.ts';
import type { LambdaEnv } from './lambda-env.ts';
import type { MonitorDeps } from './monitor.ts';

/** The metric sink and alert path of a direct-mode probe, built once per container. */
export function directDeliveryDeps(
  env: LambdaEnv,
  logger: Logger,
  emf: EmfSink,
): Pick<MonitorDeps, 'metrics' | 'alerts'> {
  return {
    metrics: new CloudWatchSink({
      client: createMetricsClient({ region: env.region }),
      namespace: env.config.metrics.namespace,
      fallback: emf,
      timeoutMs: 3000,
    }),
    alerts: alertPathDeps(env, logger),
  };
}
