// Validates a config file with the same schema the Lambda uses and prints it with every default applied, with
// the probe's Lambda timeout per delivery mode (lib/run/budget.ts, the reserve the handler budgets with).
// infra/from-config.cjs runs this at `serverless package` time, so a bad config fails the package, not a cold start.
import { ConfigError, loadConfig } from '../lib/config/config.ts';
import { probeTimeoutSeconds } from '../lib/run/budget.ts';

try {
  const config = await loadConfig(process.argv[2] ?? '');
  const probeTimeout = { log: probeTimeoutSeconds(config, 'log'), direct: probeTimeoutSeconds(config, 'direct') };
  process.stdout.write(JSON.stringify({ config, probeTimeoutSeconds: probeTimeout }));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
