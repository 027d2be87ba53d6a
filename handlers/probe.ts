import { resolveTargets } from '../lib/config/config.ts';
import { jsonLogger } from '../lib/log.ts';
import { CloudWatchSink, createMetricsClient, EmfSink } from '../lib/metrics/sinks.ts';
import { probeBudgetMs } from '../lib/run/budget.ts';
import { defaultProvider } from '../lib/run/env-credentials.ts';
import { alertPathDeps, loadLambdaEnv } from '../lib/run/lambda-env.ts';
import { type MonitorDeps, runMonitor } from '../lib/run/monitor.ts';
import { probeDeps } from '../lib/run/runtime.ts';

// Built once per container: config, targets, clients. A bad config fails the cold start, loudly.
const env = loadLambdaEnv();
const targets = resolveTargets(env.config);
const namespace = env.config.metrics.namespace;
const logger = jsonLogger();
const emf = new EmfSink({ namespace });

function directDeps(): Pick<MonitorDeps, 'metrics' | 'alerts'> {
  return {
    metrics: new CloudWatchSink({
      client: createMetricsClient({ region: env.region }),
      namespace,
      fallback: emf,
      timeoutMs: 3000,
    }),
    alerts: alertPathDeps(env, logger),
  };
}

const deps: MonitorDeps = {
  // The execution role's credentials from the environment, the only provider the bundle has.
  probe: probeDeps(env.config, defaultProvider()),
  log: process.stdout,
  ...(env.delivery === 'direct' ? directDeps() : { metrics: emf }),
};

/** EventBridge schedule → one monitor run. Thin: everything is in lib/run/monitor.ts. */
export const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const budgetMs = probeBudgetMs(context.getRemainingTimeInMillis(), env.delivery);
  const summary = await runMonitor(env.config, targets, deps, { stack: env.stack, budgetMs });
  logger.info('run finished', { type: 'codecommit-canary/run', ...summary });
  return summary;
};
