'use strict';

/**
 * The canary config the stack is packaged with (`${param:configPath}`): checked by the one validator,
 * lib/config/config.ts, run through scripts/check-config.ts with tsx (the same messages and defaults as at the
 * probe's cold start, and the probe's timeout per delivery mode from lib/run/budget.ts), refused when it
 * cannot be deployed as it is, and read once per path per process. These files are plain CommonJS: they run
 * inside the serverless CLI before anything is built, so they cannot import the TypeScript in lib/ directly.
 */

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { paramHint } = require('./params.cjs');
const { CanaryDeployError } = require('./shared.cjs');

const SERVICE_DIR = path.resolve(__dirname, '..');
const DEFAULT_CONFIG_PATH = 'canary.config.json';

const loaded = new Map();

/**
 * The config at `configPath` (relative to the service directory; '' for canary.config.json), checked, with
 * its derived settings. Read once per file: every resolver of one `serverless package` asks for it.
 */
function loadConfig(configPath) {
  const shown = configPath || DEFAULT_CONFIG_PATH;
  const file = path.resolve(SERVICE_DIR, shown);
  if (!loaded.has(file)) loaded.set(file, readConfig(file, shown));
  return loaded.get(file);
}

/** Reads and validates `file` (named `shown` in messages) through scripts/check-config.ts. */
function readConfig(file, shown) {
  if (path.extname(file) !== '.json') {
    throw new CanaryDeployError(`${shown}: the deployed config must be a .json file (it is bundled as JSON)`);
  }
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    throw new CanaryDeployError(
      `${shown}: cannot read the canary config (${error.code ?? error.message}); copy examples/canary.config.json there and edit it, or ${paramHint('configPath', 'path/to/canary.config.json')}`,
    );
  }
  const checked = childProcess.spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-config.ts', file], {
    cwd: SERVICE_DIR,
    encoding: 'utf8',
  });
  if (checked.status !== 0) {
    throw new CanaryDeployError(`${(checked.stderr || checked.error?.message || 'config check failed').trim()}`);
  }
  return deployedConfig(JSON.parse(checked.stdout), shown);
}

/**
 * What the stack needs from check-config's output (`{ config, probeTimeoutSeconds, packaged }`, every default
 * applied; `packaged` is the sealed config the functions are built with, lib/config/packaged.ts), or the reason it
 * cannot be deployed: a `tls.caFile` names a file the package does not hold.
 */
function deployedConfig({ config, probeTimeoutSeconds, packaged }, shown) {
  if (config.tls?.caFile) {
    throw new CanaryDeployError(
      `${shown}: tls.caFile is for the CLI only: the file is not packaged, so the probe could not start; AWS endpoints need no extra CA`,
    );
  }
  return {
    config,
    probeTimeoutSeconds,
    packaged,
    namespace: config.metrics.namespace,
    detail: config.metrics.detail,
    failuresBeforeAlert: config.alerts.failuresBeforeAlert,
    targets: config.targets,
  };
}

/**
 * The esbuild `define` value for `process.env.CANARY_CONFIG_JSON`: the packaged config's text as a string literal
 * (the replacement is an expression, so the JSON text is itself JSON-encoded once more).
 */
const configJsonLiteral = (packaged) => JSON.stringify(packaged);

module.exports = { loadConfig, readConfig, deployedConfig, configJsonLiteral };
