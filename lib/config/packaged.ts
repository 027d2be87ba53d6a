/**
 * The config as the Lambdas get it. The full schema (lib/config/config.ts, zod) checks it once, at package time
 * (scripts/check-config.ts), and fills every default; the result is sealed with the SHA-256 of its JSON and bundled
 * (serverless.yml's esbuild `define`). At cold start a function checks the seal and the shape of what it reads, and
 * refuses anything else loudly, a config that never went through the schema included: the functions carry neither
 * zod nor a YAML parser (a third of the probe's bundle and of its cold start).
 */
import { createHash } from 'node:crypto';
import type { Config } from './config.ts';
import { ConfigError } from './config-error.ts';

export const PACKAGED_CONFIG_FORMAT = 'codecommit-canary/packaged-config/1';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Seals a config the schema has checked (defaults applied) for the Lambdas.
 *
 * @example
 * writeFileSync('packaged.json', packConfig(parseConfig(raw))); // CANARY_CONFIG=packaged.json for a bundle run
 */
export function packConfig(config: Config): string {
  const text = JSON.stringify(config);
  return `{"format":${JSON.stringify(PACKAGED_CONFIG_FORMAT)},"sha256":"${sha256(text)}","config":${text}}`;
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array';

/** What the functions read, with every default applied: a config missing one never went through the schema. */
const SHAPE: ReadonlyArray<readonly [path: string, kind: Kind]> = [
  ['region', 'string'],
  ['timeouts.stsMs', 'number'],
  ['timeouts.gitMs', 'number'],
  ['timeouts.stsGlobalMs', 'number'],
  ['endpoints', 'object'],
  ['checks.globalSts', 'boolean'],
  ['checks.path', 'boolean'],
  ['checks.certificateDays', 'number'],
  ['probe.everyAddress', 'boolean'],
  ['fetch.enabled', 'boolean'],
  ['fetch.maxBytes', 'number'],
  ['fetch.timeoutMs', 'number'],
  ['network.zones', 'object'],
  ['network.vpcCidrs', 'array'],
  ['network.closed', 'boolean'],
  ['schedule.samplesPerRun', 'number'],
  ['schedule.intervalSeconds', 'number'],
  ['schedule.highResolution', 'boolean'],
  ['tls', 'object'],
  ['concurrency', 'number'],
  ['maxAdvertisementBytes', 'number'],
  ['metrics.namespace', 'string'],
  ['metrics.detail', 'string'],
  ['alerts.failuresBeforeAlert', 'number'],
  ['alerts.renotifyMinutes', 'number'],
  ['targets', 'array'],
];
const TARGET_SHAPE: ReadonlyArray<readonly [path: string, kind: Kind]> = [
  ['name', 'string'],
  ['roleArn', 'string'],
];

const kindOf = (value: unknown): Kind | 'null' | 'undefined' | 'other' => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'number') return Number.isFinite(value) ? 'number' : 'other';
  return type === 'string' || type === 'boolean' || type === 'object' || type === 'undefined' ? type : 'other';
};

const at = (value: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as never)[key] : undefined), value);

function shapeProblems(config: unknown): string[] {
  const wrong = (value: unknown, shape: typeof SHAPE, prefix: string) =>
    shape.flatMap(([path, kind]) => {
      const found = kindOf(at(value, path));
      return found === kind ? [] : [`${prefix}${path}: expected ${kind}, found ${found}`];
    });
  const problems = wrong(config, SHAPE, '');
  const targets = at(config, 'targets');
  if (Array.isArray(targets)) {
    if (targets.length === 0) problems.push('targets: expected at least one target');
    targets.forEach((target, i) => {
      problems.push(...wrong(target, TARGET_SHAPE, `targets[${i}].`));
      if (typeof target?.repository !== 'string' && typeof target?.url !== 'string') {
        problems.push(`targets[${i}].repository: expected a repository or a url`);
      }
    });
  }
  return problems;
}

/**
 * The config in a packaged text (see {@link packConfig}), or a ConfigError naming what is wrong: not JSON, not a
 * packaged config (a plain config file: package it first), a seal that does not match (edited after packaging), or a
 * field the functions read missing or of the wrong type.
 */
export function unpackConfig(text: string, source: string): Config {
  const notPackaged = `not a packaged config: the functions run only a config scripts/check-config.ts has checked (\`node --import tsx scripts/check-config.ts <config> --packaged\`)`;
  let packaged: { format?: unknown; sha256?: unknown; config?: unknown };
  try {
    packaged = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [`not valid JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (packaged === null || typeof packaged !== 'object' || packaged.format !== PACKAGED_CONFIG_FORMAT) {
    throw new ConfigError(source, [`format: ${notPackaged}`]);
  }
  if (typeof packaged.sha256 !== 'string' || sha256(JSON.stringify(packaged.config)) !== packaged.sha256) {
    throw new ConfigError(source, ['sha256: the config does not match its seal: it changed after it was packaged']);
  }
  const problems = shapeProblems(packaged.config);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return packaged.config as Config;
}
