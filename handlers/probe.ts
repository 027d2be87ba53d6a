import { resolveTargets } from '../lib/config/resolve-target.ts';
import { jsonLogger } from '../lib/log.ts';
import { EmfSink } from '../lib/metrics/sinks.ts';
import { probeBudgetMs } from '../lib/run/budget.ts';
import { defaultProvider } from '../lib/run/env-credentials.ts';
import { loadLambdaEnv } from '../lib/run/lambda-env.ts';
import { type MonitorDeps, runMonitor } from '../lib/run/monitor.ts';
import { probeDeps } from '../lib/run/runtime.ts';

// Built once per container: config, targets, clients. A bad config fails the cold start, loudly.
const env = loadLambdaEnv();
const targets = resolveTargets(env.config);
const logger = jsonLogger();
const emf = new EmfSink({ namespace: env.config.metrics.namespace });

const deps: MonitorDeps = {
  // The execution role's credentials from the environment, the only provider the bundle has.
  probe: probeDeps(env.config, defaultProvider()),
  log: process.stdout,
  // The mode the package was built for (a build-time define, tested here inline so esbuild drops the import in
  // a log-mode package); an unpackaged bundle (tests) loads direct delivery only in direct mode.
  ...((process.env.CANARY_PACKAGED_DELIVERY ?? env.delivery) === 'direct'
    ? (await import('../lib/run/direct-delivery.ts')).directDeliveryDeps(env, logger, emf)
    : { metrics: emf }),
};

/** EventBridge schedule → one monitor run. Thin: everything is in lib/run/monitor.ts. */
export const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const budgetMs = probeBudgetMs(context.getRemainingTimeInMillis(), env.delivery);
  const summary = await runMonitor(env.config, targets, deps, { stack: env.stack, budgetMs });
  logger.info('run finished', { type: 'codecommit-canary/run', ...summary });
  return summary;
};
