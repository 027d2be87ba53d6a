import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPath, createAlertTable, decodeTestEvent, testSubscriptionEvent } from '../harness/alert-path.ts';
import { type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { assertNoSecrets, motoSecrets, OutputLog } from '../harness/secrets.ts';
import { createSqsClient, drainQueue, motoClientOptions, subscribeQueue } from '../harness/sqs.ts';
import { type NotifyDeps, notify } from '../lib/alerting/notify.ts';
import { createSnsClient, SnsAlertSink } from '../lib/alerting/sinks.ts';
import { createAlertTableClient } from '../lib/alerting/versioned-table.ts';
import { parseConfig, type ResolvedTarget } from '../lib/config/config.ts';
import { jsonLogger } from '../lib/log.ts';
import { RESULT_RECORD_TYPE } from '../lib/metrics/log-records.ts';
import { CloudWatchSink, EmfSink } from '../lib/metrics/sinks.ts';
import { boundedClientConfig } from '../lib/net/aws-clients.ts';
import { type MonitorDeps, runMonitor } from '../lib/run/monitor.ts';
import { type FaultServer, faultServer } from '../lib/sandbox/fault-servers.ts';

const config = parseConfig({
  region: 'us-east-1',
  metrics: { namespace: 'CanaryE2E', detail: 'phases' },
  alerts: { failuresBeforeAlert: 2, renotifyMinutes: 60 },
  targets: [{ name: 'placeholder', repository: 'test_repo', roleArn: 'arn:aws:iam::111111111111:role/SwitchRole' }],
});

/** Everything the runs below wrote (stdout, the alert path's log), scanned for secrets by the last test. */
const outputs = new OutputLog();

/** Captures what the probe writes to stdout: result records and EMF, one JSON object per line. */
class LogCapture {
  lines: string[] = [];
  write(chunk: string) {
    outputs.add('probe stdout', chunk);
    this.lines.push(...chunk.split('\n').filter(Boolean));
    return true;
  }
  take(): string[] {
    const taken = this.lines;
    this.lines = [];
    return taken;
  }
}

let sandbox: Sandbox;
let broken: FaultServer;
let alerts: NotifyDeps;
let queueUrl: string;
let now = new Date();
const clock = { now: () => now };
const sqs = () => createSqsClient(motoClientOptions(sandbox.moto, sandbox.pki));

beforeAll(async () => {
  sandbox = await startSandbox();
  broken = await faultServer(sandbox.pki, { status: 403, body: 'denied' });
  const options = motoClientOptions(sandbox.moto, sandbox.pki);
  const sns = createSnsClient(options);
  const dynamo = createAlertTableClient(options);
  await createAlertTable(dynamo, 'incidents');
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'canary-alerts' }));
  queueUrl = await subscribeQueue(sns, sqs(), TopicArn as string, 'oncall');
  const logger = jsonLogger({ write: (chunk: string) => outputs.add('alert path log', chunk) });
  alerts = alertPath({
    table: { client: dynamo, tableName: 'incidents' },
    settings: config.alerts,
    clock,
    sink: new SnsAlertSink({ client: sns, topicArn: TopicArn as string, logger }),
    logger,
  });
});
afterAll(async () => {
  await broken?.stop();
  await sandbox?.stop();
});

const healthy = (name: string): ResolvedTarget => sandbox.target({ name });
const failing = (name: string): ResolvedTarget => sandbox.target({ name, gitEndpoint: broken.url });

describe('log delivery: the probe only logs; the notifier reads the subscription', () => {
  it('pages once per incident, reminds after the interval, recovers once, ignores re-delivery', async () => {
    const log = new LogCapture();
    const deps: MonitorDeps = {
      probe: sandbox.deps,
      metrics: new EmfSink({ namespace: 'CanaryE2E', writer: log }),
      log,
    };
    const run = async (target: ResolvedTarget) => {
      const summary = await runMonitor(config, [target], deps, { stack: 'e2e', budgetMs: 20_000 });
      const event = testSubscriptionEvent(log.take());
      await notify(decodeTestEvent(event).records, [], alerts);
      return { summary, event, messages: await drainQueue(sqs(), queueUrl) };
    };

    // healthy → nothing
    const first = await run(healthy('log-mode'));
    expect(first.summary.ok).toBe(true);
    expect(first.messages).toEqual([]);
    // 1st failure → below the threshold
    now = new Date(now.getTime() + 60_000);
    expect((await run(failing('log-mode'))).messages).toEqual([]);
    // 2nd consecutive failure → exactly one ALARM
    now = new Date(now.getTime() + 60_000);
    const second = await run(failing('log-mode'));
    expect(second.messages).toHaveLength(1);
    expect(second.messages[0]?.Subject).toMatch(/^\[ALARM\] log-mode: /);
    expect(second.messages[0]?.MessageAttributes?.kind?.Value).toBe('auth');
    // the same records delivered again → nothing
    await notify(decodeTestEvent(second.event).records, [], alerts);
    expect(await drainQueue(sqs(), queueUrl)).toEqual([]);
    // still failing, inside the renotify interval → nothing
    now = new Date(now.getTime() + 60_000);
    expect((await run(failing('log-mode'))).messages).toEqual([]);
    // past the interval → one REMINDER
    now = new Date(now.getTime() + 61 * 60_000);
    const reminder = await run(failing('log-mode'));
    expect(reminder.messages.map((m) => m.MessageAttributes?.state?.Value)).toEqual(['REMINDER']);
    // recovery → one RECOVERED
    now = new Date(now.getTime() + 60_000);
    const recovered = await run(healthy('log-mode'));
    expect(recovered.messages.map((m) => m.MessageAttributes?.state?.Value)).toEqual(['RECOVERED']);
  });

  it('emits no heartbeat when the run could not write its records, but still publishes what it has', async () => {
    // Prepare: stdout refuses every write (the records cannot leave the run)
    const published: string[] = [];
    const deps: MonitorDeps = {
      probe: sandbox.deps,
      metrics: {
        name: 'recording',
        async publish(points) {
          published.push(...points.map((p) => p.name));
          return { sink: 'recording', published: points.length, fallback: 0, failed: 0, reason: null, durationMs: 0 };
        },
      },
      log: {
        write() {
          throw new Error('EPIPE');
        },
      },
    };
    // Act
    const run = runMonitor(config, [healthy('no-log')], deps, { stack: 'e2e', budgetMs: 20_000 });
    // Assess
    await expect(run).rejects.toThrow('EPIPE');
    expect(published).not.toContain('Heartbeat');
  });

  it('writes one result record per target and EMF with the heartbeat', async () => {
    const log = new LogCapture();
    const deps: MonitorDeps = {
      probe: sandbox.deps,
      metrics: new EmfSink({ namespace: 'CanaryE2E', writer: log }),
      log,
    };
    const summary = await runMonitor(config, [healthy('a'), failing('b')], deps, { stack: 'e2e', budgetMs: 20_000 });
    expect(summary).toMatchObject({ ok: false, targets: 2, failed: ['b'] });
    const objects = log.take().map((line) => JSON.parse(line));
    expect(objects.filter((o) => o.type === RESULT_RECORD_TYPE).map((o) => o.result.name)).toEqual(['a', 'b']);
    const emf = objects.filter((o) => o._aws);
    const metricNames = new Set(
      emf.flatMap((o) =>
        o._aws.CloudWatchMetrics.flatMap((m: { Metrics: { Name: string }[] }) => m.Metrics.map((x) => x.Name)),
      ),
    );
    for (const name of ['Success', 'Duration', 'Heartbeat', 'TlsTime', 'Timeout']) expect(metricNames).toContain(name);
    expect(summary.metrics).toMatchObject({ failed: 0, fallback: 0 });
    expect(summary.metrics.published).toBe(emf.reduce((n, o) => n + o._aws.CloudWatchMetrics[0].Metrics.length, 0));
  });
});

describe('direct delivery: the probe publishes and alerts itself', () => {
  const cloudWatchClient = (endpoint: string) =>
    new CloudWatchClient({
      ...boundedClientConfig({ ...motoClientOptions(sandbox.moto, sandbox.pki), endpoint, maxAttempts: 1 }),
      disableRequestCompression: true, // moto decompresses gzip bodies twice
    });

  it('metrics read back with GetMetricData; the incident opens with one page', async () => {
    const log = new LogCapture();
    const deps: MonitorDeps = {
      probe: sandbox.deps,
      metrics: new CloudWatchSink({
        client: cloudWatchClient(sandbox.moto.url),
        namespace: 'CanaryDirect',
        fallback: new EmfSink({ writer: log }),
      }),
      log,
      alerts,
    };
    now = new Date(now.getTime() + 60_000);
    await runMonitor(config, [failing('direct')], deps, { stack: 'e2e-direct', budgetMs: 20_000 });
    now = new Date(now.getTime() + 60_000);
    const summary = await runMonitor(config, [failing('direct')], deps, { stack: 'e2e-direct', budgetMs: 20_000 });
    expect(summary.metrics).toMatchObject({ fallback: 0, failed: 0 });
    expect(summary.alerts?.notifications.map((n) => n.state)).toEqual(['ALARM']);
    // The sandbox has no global STS name, so the first run also announces that finding, once, as a non-page.
    const received = (await drainQueue(sqs(), queueUrl)).map((m) => [
      m.MessageAttributes?.state?.Value,
      m.MessageAttributes?.kind?.Value,
    ]);
    expect(received).toEqual([
      ['FINDING', 'global-sts-unreachable'],
      ['ALARM', 'auth'],
    ]);

    const start = new Date(Date.now() - 10 * 60_000);
    const data = await cloudWatchClient(sandbox.moto.url).send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: new Date(Date.now() + 10 * 60_000),
        MetricDataQueries: [
          {
            Id: 'git',
            MetricStat: {
              Metric: {
                Namespace: 'CanaryDirect',
                MetricName: 'Success',
                Dimensions: [
                  { Name: 'Target', Value: 'direct' },
                  { Name: 'Step', Value: 'git' },
                ],
              },
              Period: 3600,
              Stat: 'SampleCount',
            },
          },
          {
            Id: 'hb',
            MetricStat: {
              Metric: {
                Namespace: 'CanaryDirect',
                MetricName: 'Heartbeat',
                Dimensions: [{ Name: 'Stack', Value: 'e2e-direct' }],
              },
              Period: 3600,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const byId = Object.fromEntries(
      (data.MetricDataResults ?? []).map((r) => [r.Id, r.Values?.reduce((a, b) => a + b, 0)]),
    );
    expect(byId).toEqual({ git: 2, hb: 2 });
  });

  it('CloudWatch hanging: datapoints go to EMF, the alert still goes out, the run ends in time', async () => {
    const hang = await faultServer(sandbox.pki, { headersHang: true });
    try {
      const log = new LogCapture();
      const deps: MonitorDeps = {
        probe: sandbox.deps,
        metrics: new CloudWatchSink({
          client: cloudWatchClient(hang.url),
          namespace: 'CanaryDirect',
          fallback: new EmfSink({ namespace: 'CanaryDirect', writer: log }),
          timeoutMs: 800,
        }),
        log,
        alerts,
      };
      for (let i = 0; i < 2; i++) {
        now = new Date(now.getTime() + 60_000);
        const started = Date.now();
        const summary = await runMonitor(config, [failing('cw-hang')], deps, { stack: 'e2e-direct', budgetMs: 5_000 });
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(summary.metrics.published).toBe(0);
        expect(summary.metrics.fallback).toBeGreaterThan(0);
        expect(summary.metrics.failed).toBe(0);
      }
      const emf = log
        .take()
        .map((l) => JSON.parse(l))
        .filter((o) => o._aws);
      expect(emf.length).toBeGreaterThan(0);
      expect((await drainQueue(sqs(), queueUrl)).map((m) => m.MessageAttributes?.state?.Value)).toEqual(['ALARM']);
    } finally {
      await hang.stop();
    }
  });
});

describe('every run above', () => {
  it('wrote no secret into records, EMF or log lines', async () => {
    expect(Object.keys(outputs.channels).length).toBeGreaterThan(10);
    assertNoSecrets(outputs.channels, await motoSecrets(sandbox.moto));
  });
});
