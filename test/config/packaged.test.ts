import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { ConfigError } from '../../lib/config/config-error.ts';
import { PACKAGED_CONFIG_FORMAT, packConfig, unpackConfig } from '../../lib/config/packaged.ts';

const example = parseConfig(JSON.parse(readFileSync('examples/canary.config.json', 'utf8')));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The problems unpackConfig reports for `text`, or 'accepted'. */
const problemsOf = (text: string) => {
  try {
    unpackConfig(text, 'bundled config');
    return 'accepted';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
};

/** A packaged text sealed correctly around any config, as an editor who also recomputed the seal would write it. */
const resealed = (config: unknown) => {
  const text = JSON.stringify(config);
  return JSON.stringify({ format: PACKAGED_CONFIG_FORMAT, sha256: sha256(text), config: JSON.parse(text) });
};

describe('the packaged config', () => {
  it('gives back exactly the config the schema checked, defaults applied', () => {
    expect(unpackConfig(packConfig(example), 'bundled config')).toEqual(JSON.parse(JSON.stringify(example)));
  });

  it('refuses a plain config file, naming how to package one', () => {
    const plain = readFileSync('examples/canary.config.json', 'utf8');
    expect(problemsOf(plain)).toEqual([
      'format: not a packaged config: the functions run only a config scripts/check-config.ts has checked (`node --import tsx scripts/check-config.ts <config> --packaged`)',
    ]);
  });

  it('refuses a config edited after packaging', () => {
    const edited = packConfig(example).replace('"concurrency":8', '"concurrency":9');
    expect(edited).not.toBe(packConfig(example));
    expect(problemsOf(edited)).toEqual([
      'sha256: the config does not match its seal: it changed after it was packaged',
    ]);
  });

  it('refuses, field by field, what the functions read and the schema would have filled in', () => {
    const { metrics: _, ...withoutMetrics } = example;
    const broken = {
      ...withoutMetrics,
      concurrency: '8',
      targets: [
        { ...example.targets[0], roleArn: undefined },
        { name: 'no-repo', roleArn: 'x' },
      ],
    };
    expect(problemsOf(resealed(broken))).toEqual([
      'concurrency: expected number, found string',
      'metrics.namespace: expected string, found undefined',
      'metrics.detail: expected string, found undefined',
      'targets[0].roleArn: expected string, found undefined',
      'targets[1].repository: expected a repository or a url',
    ]);
    expect(problemsOf(resealed({ ...example, targets: [] }))).toEqual(['targets: expected at least one target']);
  });

  it('refuses text that is not JSON, saying so', () => {
    expect(problemsOf('{"format":')).toEqual([expect.stringMatching(/^not valid JSON: /)]);
  });

  it('names its source in the error', () => {
    expect(() => unpackConfig('{}', 'canary.packaged.json')).toThrow(
      /^canary\.packaged\.json: invalid config\n {2}format: /,
    );
  });
});
