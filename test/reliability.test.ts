import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CELLS,
  cellName,
  FAULT_CELLS,
  formatMatrix,
  type MatrixEnv,
  type MatrixResult,
  runMatrix,
  SCENARIO_CELLS,
  startMatrixEnv,
} from '../harness/fault-matrix.ts';
import { FAKE_SOURCE_CREDENTIALS } from '../harness/moto.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { assertNoSecrets, findSecrets, secretForms } from '../harness/secrets.ts';
import { createSnsClient } from '../lib/alerting/sinks.ts';
import { createAlertTableClient } from '../lib/alerting/versioned-table.ts';
import { createMetricsClient } from '../lib/metrics/sinks.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../lib/net/aws-clients.ts';
import { untilAborted } from '../lib/net/deadline.ts';
import { type FaultServer, faultServer } from '../lib/sandbox/fault-servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe("the fault matrix: every dependency × every fault and the alert path's outages, in both delivery modes", () => {
  let env: MatrixEnv;
  let result: MatrixResult;
  const runs = CELLS.reduce((n, cell) => n + cell.modes.length, 0);
  beforeAll(async () => {
    env = await startMatrixEnv();
    result = await runMatrix(env, { concurrency: 6 });
  }, 300_000);
  afterAll(async () => env?.stop());

  it.each(CELLS.map((cell) => [cellName(cell), cell] as const))('%s', (_, cell) => {
    const outcome = result.cells.find((c) => c.cell.id === cell.id);
    expect(outcome?.problems).toEqual([]);
    expect(outcome?.runs.map((r) => r.mode)).toEqual(cell.modes);
  });

  it('loses no datapoint and no page, and sends no duplicate and no false page, in any run', () => {
    const { totals } = result;
    expect(totals).toMatchObject({
      cases: FAULT_CELLS.length + SCENARIO_CELLS.length,
      asExpected: FAULT_CELLS.length + SCENARIO_CELLS.length,
      runs,
      datapointsLost: 0,
      alertsLost: 0,
      duplicatePages: 0,
      falsePages: 0,
    });
    expect(totals.worstDeadlineShare).toBeLessThan(1);
    // Every page a cell expects was read back from the queue, once per dedupKey.
    expect(totals.pages).toBe(CELLS.reduce((n, cell) => n + cell.pages.length * cell.modes.length, 0));
    const closing = `fault matrix: ${totals.cases} cases, ${totals.cases} as expected, 0 datapoints lost, 0 alerts lost, 0 duplicate pages, 0 false pages`;
    expect(formatMatrix(result).split('\n')).toContain(closing);
  });

  it('reports re-sends of one dedupKey only where SNS took a message whose answer was lost', () => {
    const resent = result.cells.filter((c) => c.runs.some((r) => r.pages.sameKeyResends > 0)).map((c) => c.cell.id);
    expect(resent).toEqual(CELLS.filter((cell) => cell.ambiguous).map((cell) => cell.id));
    const line = formatMatrix(result)
      .split('\n')
      .find((l) => l.startsWith('same dedupKey read back again after an ambiguous timeout: '));
    expect(line).toContain(`timeout: ${result.totals.sameKeyResends} (`);
  });

  it('leaks no secret into any record, log line, EMF document or alert of any cell', async () => {
    const channels = Object.fromEntries(env.outputs);
    expect(Object.keys(channels)).toHaveLength(runs * 3);
    assertNoSecrets(channels, await env.secrets());
  });
});

describe('the bounded SDK clients (SNS, DynamoDB, CloudWatch) against an endless answer', () => {
  let pki: TestPki;
  let endless: FaultServer;
  beforeAll(async () => {
    pki = createTestPki();
    endless = await faultServer(pki, { endless: true });
  });
  afterAll(async () => endless?.stop());

  const options = () => ({
    region: 'us-east-1',
    endpoint: endless.url,
    ca: readFileSync(pki.caFile),
    credentials: FAKE_SOURCE_CREDENTIALS,
  });
  const calls = {
    'SNS Publish': () => {
      const client = createSnsClient(options());
      return {
        client,
        send: (signal: AbortSignal) =>
          client.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111111111111:t', Message: 'm' }), {
            abortSignal: signal,
          }),
      };
    },
    'DynamoDB GetItem': () => {
      const client = createAlertTableClient(options());
      return {
        client,
        send: (signal: AbortSignal) =>
          client.send(new GetItemCommand({ TableName: 't', Key: { target: { S: 'x' } } }), { abortSignal: signal }),
      };
    },
    'CloudWatch PutMetricData': () => {
      const client = createMetricsClient(options());
      return {
        client,
        send: (signal: AbortSignal) =>
          client.send(new PutMetricDataCommand({ Namespace: 'N', MetricData: [{ MetricName: 'm', Value: 1 }] }), {
            abortSignal: signal,
          }),
      };
    },
  };

  it.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s: cut at the byte cap long before the production deadline, memory bounded',
    async (name) => {
      // Prepare: the deadline the handlers use (5 s for Publish, 3 s for the others); without the cap the SDK
      // buffers the body until then (measured: ~1 GB for SNS, ~1.9 GB for CloudWatch on this machine).
      const { client, send } = calls[name]();
      const signal = AbortSignal.timeout(5000);
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      const started = performance.now();
      // Act
      const error = await untilAborted(send(signal), signal).then(
        () => null,
        (e: unknown) => e as Error,
      );
      const elapsed = performance.now() - started;
      clearInterval(sampler);
      client.destroy();
      // Assess
      expect(error).toBeInstanceOf(Error);
      expect(signal.aborted).toBe(false);
      expect(elapsed).toBeLessThan(2000);
      expect(peak - before).toBeLessThan(8 * DEFAULT_MAX_RESPONSE_BYTES);
    },
  );
});

describe('TLS verification', () => {
  // Shipped code, as committed: what runs in the Lambda functions and the CLI.
  const shipped = execFileSync('git', ['ls-files', 'lib', 'handlers', 'bin', 'infra', 'serverless.yml'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => /\.(ts|js|mjs|cjs|json|ya?ml)$/.test(file));
  const read = (file: string) => readFileSync(`${ROOT}/${file}`, 'utf8');

  it('is never turned off in shipped code', () => {
    const off = [
      /rejectUnauthorized\s*:\s*(false|0)/,
      // The variable's name is spelt with a class here, so that a grep for it finds only real uses.
      /NODE_TLS_REJECT_UNAUTHORI[Z]ED/,
      /checkServerIdentity\s*:/,
      /GIT_SSL_NO_VERIFY|sslVerify|strictSSL\s*:\s*false/i,
    ];
    expect(shipped.length).toBeGreaterThan(20);
    const hits = shipped.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) => (off.some((p) => p.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('trusts an extra CA only through NODE_EXTRA_CA_CERTS, the config file, or what a caller passes in', () => {
    // trust.ts reads the config's caFile (and NODE_EXTRA_CA_CERTS); trace.ts and aws-clients.ts pass on the `ca`
    // their callers give; the sandbox (the demo's) trusts the CA it makes for its own loopback servers.
    const allowed = /^lib\/(net\/trust\.ts|net\/trace\.ts|net\/aws-clients\.ts|sandbox\/)/;
    const hits = shipped.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) =>
          /\bca\s*:|createSecureContext|addCACert|setDefaultCACertificates/.test(line) && !/^\s*(\*|\/\/)/.test(line)
            ? [`${file}:${i + 1}`]
            : [],
        )
        .filter((hit) => !allowed.test(hit)),
    );
    expect(hits).toEqual([]);
  });
});

describe('the secret scanner', () => {
  it('finds a secret raw, URL- or JSON-escaped, or inside base64 at any alignment, and credential shapes', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY';
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const header = `Authorization: Basic ${Buffer.from(`${prefix}ASIAX%token:${secret}`).toString('base64')}`;
      expect(findSecrets({ header }, [{ label: 'k', value: secret }]).map((h) => h.what)).toContain('k');
    }
    expect(secretForms(secret)).toContain(encodeURIComponent(secret));
    const text = { log: `{"password":"20261127T072000Z${'ab'.repeat(32)}"}`, ok: 'Basic realm="AWS CodeCommit"' };
    expect(findSecrets(text, [])).toEqual([{ channel: 'log', what: 'a CodeCommit git password' }]);
    expect(() => assertNoSecrets({ out: `x${secret}x` }, [{ label: 'the key', value: secret }])).toThrow(
      /the key in out/,
    );
  });
});
