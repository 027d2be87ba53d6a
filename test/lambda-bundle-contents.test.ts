import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { lambdaBundle } from './infra/modules.ts';

/**
 * What each Lambda bundle holds, built as serverless.yml's custom.esbuild builds it (infra/lambda-bundle.cjs and the
 * build-time defines): a log-mode probe has no CloudWatch, DynamoDB or SNS client (its direct delivery sits in a
 * branch the packaged mode makes dead), no probe has the SDK's STS client (the sts step signs its own request), the notifier carries zod/mini and not classic zod, and no bundle holds the
 * SDK's event streams, whose dynamic import made esbuild wrap most of the SDK in closures it cannot tree-shake.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const packaged = packConfig(
  parseConfig(JSON.parse(readFileSync(`${ROOT}examples/canary.config.json`, 'utf8')), 'canary.config.json'),
);

/** The source files (or packages) that put code into `handler`'s bundle for `delivery`. */
async function bundledFrom(handler: 'probe' | 'notify', delivery: 'log' | 'direct'): Promise<string[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [`handlers/${handler}.ts`],
    bundle: true,
    minify: true,
    keepNames: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    outdir: 'out',
    metafile: true,
    logLevel: 'silent',
    alias: lambdaBundle.alias,
    mainFields: lambdaBundle.mainFields,
    external: lambdaBundle.external,
    banner: lambdaBundle.banner,
    plugins: lambdaBundle.plugins,
    define: {
      'process.env.CANARY_CONFIG_JSON': JSON.stringify(packaged),
      'process.env.CANARY_PACKAGED_DELIVERY': JSON.stringify(delivery),
    },
  });
  const [output] = Object.values((result.metafile as Metafile).outputs);
  return Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
}

const from = (inputs: string[], part: string) => inputs.filter((path) => path.includes(part)).length > 0;
const DIRECT_CLIENTS = ['@aws-sdk/client-cloudwatch/', '@aws-sdk/client-dynamodb/', '@aws-sdk/client-sns/'];

describe('the Lambda bundles', () => {
  it('a log-mode probe holds no CloudWatch, DynamoDB or SNS client, a direct-mode probe all three, neither STS’s', async () => {
    const [log, direct] = await Promise.all([bundledFrom('probe', 'log'), bundledFrom('probe', 'direct')]);
    expect(DIRECT_CLIENTS.map((client) => [client, from(log, client)])).toEqual(
      DIRECT_CLIENTS.map((client) => [client, false]),
    );
    expect(DIRECT_CLIENTS.map((client) => [client, from(direct, client)])).toEqual(
      DIRECT_CLIENTS.map((client) => [client, true]),
    );
    // The sts step's own request (lib/steps/sts-wire.ts): none of the STS client, its signer, middleware or XML parser.
    expect([from(log, '@aws-sdk/client-sts/'), from(direct, '@aws-sdk/client-sts/')]).toEqual([false, false]);
    expect(from(log, 'lib/steps/sts-wire.ts')).toBe(true);
    expect([from(log, '@smithy/signature-v4/'), from(log, '@aws-sdk/xml-builder/')]).toEqual([false, false]);
  });

  it('the notifier checks records with zod/mini and carries no classic zod', async () => {
    const notify = await bundledFrom('notify', 'log');
    expect([from(notify, 'zod/v4/mini/'), from(notify, 'zod/v4/classic/')]).toEqual([true, false]);
  });

  it('no bundle holds the SDK event streams: the stand-in module takes their place', async () => {
    for (const inputs of [await bundledFrom('probe', 'direct'), await bundledFrom('notify', 'log')]) {
      expect(inputs.filter((path) => path.includes('event-streams/'))).toEqual([]);
      expect(from(inputs, 'lib/net/no-event-streams.ts')).toBe(true);
    }
  });
});
