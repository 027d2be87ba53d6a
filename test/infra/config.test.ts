import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { packConfig, unpackConfig } from '../../lib/config/packaged.ts';
import { probeTimeoutSeconds } from '../../lib/run/budget.ts';
import { config } from './modules.ts';

/**
 * infra/config.cjs: the config the stack is packaged with, checked by lib/config/config.ts (through
 * scripts/check-config.ts), refused when it cannot be deployed, read once per file.
 */

const EXAMPLE_CONFIG = 'examples/canary.config.json';
const EXAMPLE_FILE = fileURLToPath(new URL(`../../${EXAMPLE_CONFIG}`, import.meta.url));
const example = JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'canary-infra-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('returns the config as lib/config/config.ts validates it, with the probe timeout per delivery mode', () => {
    // Act
    const loaded = config.loadConfig(EXAMPLE_CONFIG);

    // Assess: every default applied, the same timeouts lib/run/budget.ts gives the handler.
    const parsed = parseConfig(example);
    expect(loaded.config).toEqual(JSON.parse(JSON.stringify(parsed)));
    expect(loaded.probeTimeoutSeconds).toEqual({
      log: probeTimeoutSeconds(parsed, 'log'),
      direct: probeTimeoutSeconds(parsed, 'direct'),
    });
    expect(loaded.packaged).toBe(packConfig(parsed));
    expect(loaded).toMatchObject({
      namespace: 'CodeCommitCanary',
      detail: 'phases',
      failuresBeforeAlert: 2,
      targets: loaded.config.targets,
    });
  });

  it('reads a file once: every resolver of one package gets the same result', () => {
    expect(config.loadConfig(EXAMPLE_CONFIG)).toBe(config.loadConfig(EXAMPLE_FILE));
  });

  it('names a missing config file and the way to provide one', () => {
    expect(() => config.loadConfig('nope.json')).toThrow(
      'nope.json: cannot read the canary config (ENOENT); copy examples/canary.config.json there and edit it, or pass --param="configPath=path/to/canary.config.json" or set params.<stage>.configPath in serverless.yml',
    );
  });

  it('deploys JSON only: the config is bundled as JSON', () => {
    expect(() => config.loadConfig('test/fixtures/config/valid.yaml')).toThrow(
      'test/fixtures/config/valid.yaml: the deployed config must be a .json file (it is bundled as JSON)',
    );
  });

  it('reports lib/config/config.ts’s message, one line per problem naming the field', () => {
    // Prepare
    const file = join(dir, 'bad-role.json');
    writeFileSync(file, JSON.stringify({ ...example, targets: [{ ...example.targets[0], roleArn: 'SwitchRole' }] }));

    // Act / Assess
    expect(() => config.loadConfig(file)).toThrow(
      `${file}: invalid config\n  targets[0].roleArn: expected an IAM role ARN like arn:aws:iam::111111111111:role/Name`,
    );
  });
});

describe('deployedConfig', () => {
  const timeouts = { log: 60, direct: 60 };

  it('refuses tls.caFile: the file is not packaged, so the probe could not start', () => {
    const checked = {
      config: { ...parseConfig(example), tls: { caFile: '/etc/extra-ca.pem' } },
      probeTimeoutSeconds: timeouts,
    };
    expect(() => config.deployedConfig(checked, 'c.json')).toThrow(
      'c.json: tls.caFile is for the CLI only: the file is not packaged, so the probe could not start; AWS endpoints need no extra CA',
    );
  });

  it('takes the stack’s settings from the validated config', () => {
    const validated = parseConfig({ ...example, metrics: { namespace: 'Ops' }, alerts: { failuresBeforeAlert: 4 } });
    expect(config.deployedConfig({ config: validated, probeTimeoutSeconds: timeouts }, 'c.json')).toEqual({
      config: validated,
      probeTimeoutSeconds: timeouts,
      namespace: 'Ops',
      detail: 'basic',
      failuresBeforeAlert: 4,
      targets: validated.targets,
    });
  });
});

it('defines the packaged config for esbuild as a string literal of its text', () => {
  const packaged = packConfig(parseConfig(example));
  const literal = config.configJsonLiteral(packaged);
  expect(JSON.parse(literal)).toBe(packaged);
  expect(unpackConfig(JSON.parse(literal), 'define')).toEqual(JSON.parse(JSON.stringify(parseConfig(example))));
});
