import { resolveTargets } from '../lib/config/resolve-target.ts';
import { jsonLogger } from '../lib/log.ts';
import { EmfSink } from '../lib/metrics/sinks.ts';
import { probeBudgetMs } from '../lib/run/budget.ts';
import { directDeliveryDeps } from '../lib/run/direct-delivery.ts';
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
  // The mode the package was built for (a build-time define, tested here inline: in a log-mode package the branch
  // is dead, so esbuild drops direct delivery and its SDK clients). A static import, not a dynamic one: esbuild
  // wraps a dynamically imported module and everything it imports in lazy closures it cannot tree-shake, which
  // cost a direct-mode probe a quarter more code and a third more cold-start CPU. An unpackaged bundle (tests) holds both
  // and builds the clients only in direct mode.
  ...((process.env.CANARY_PACKAGED_DELIVERY ?? env.delivery) === 'direct'
    ? directDeliveryDeps(env, logger, emf)
    : { metrics: emf }),
};

/** EventBridge schedule → one monitor run. Thin: everything is in lib/run/monitor.ts. */
export const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const budgetMs = probeBudgetMs(context.getRemainingTimeInMillis(), env.delivery);
  const summary = await runMonitor(env.config, targets, deps, { stack: env.stack, budgetMs });
  logger.info('run finished', { type: 'codecommit-canary/run', ...summary });
  return summary;
};
