// Validates a config file with the full schema (lib/config/config.ts) and prints it with every default applied, with
// the probe's Lambda timeout per delivery mode (lib/run/budget.ts, the reserve the handler budgets with) and the
// packaged config the Lambdas are built with (lib/config/packaged.ts). infra/from-config.cjs runs this at
// `serverless package` time, so a bad config fails the package, not a cold start.
// `--packaged` prints only the packaged config: a file for CANARY_CONFIG when running a bundle locally.
import { ConfigError, loadConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { probeTimeoutSeconds } from '../lib/run/budget.ts';

const [file = '', ...flags] = process.argv.slice(2);
try {
  const config = await loadConfig(file);
  const packaged = packConfig(config);
  if (flags.includes('--packaged')) process.stdout.write(`${packaged}\n`);
  else {
    const probeTimeout = { log: probeTimeoutSeconds(config, 'log'), direct: probeTimeoutSeconds(config, 'direct') };
    process.stdout.write(JSON.stringify({ config, probeTimeoutSeconds: probeTimeout, packaged }));
  }
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
