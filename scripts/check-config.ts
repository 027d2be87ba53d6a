// Validates a config file with the same schema the Lambda uses and prints it with every default applied.
// infra/from-config.cjs runs this at `serverless package` time, so a bad config fails the package, not a cold start.
import { ConfigError, loadConfig } from '../lib/config.ts';

try {
  process.stdout.write(JSON.stringify(await loadConfig(process.argv[2] ?? '')));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
