import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SOURCE_CREDENTIALS, type Moto, startMoto } from '../harness/moto.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { type Datapoint, datapointsFor, heartbeat, METRIC_UNITS } from '../lib/metrics/catalogue.ts';
import {
  CloudWatchSink,
  ConsoleSink,
  type EmfDocument,
  EmfSink,
  type MetricSink,
  PUT_MAX_BYTES,
  type PublishOutcome,
  toEmfDocuments,
  toMetricDataBatches,
  toMetricDatum,
} from '../lib/metrics/sinks.ts';
import { freePort } from '../lib/sandbox/listen.ts';
import type { GitStepResult, StsStepResult, TargetResult } from '../lib/types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/** Whole seconds: moto stores timestamps truncated to the second in its queries. */
const recent = (): Date => new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

function result(name: string, ok = true): TargetResult {
  const step = {
    ok,
    endpoint: 'https://example.test',
    addresses: ['127.0.0.1'],
    private: true,
    deadlineMs: 5000,
    phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, firstByteMs: 4, transferMs: 5 },
    failure: ok ? null : { kind: 'timeout' as const, phase: 'tls' as const, message: 'timed out' },
  };
  const sts: StsStepResult = { ...step, durationMs: 15.5 };
  const git: GitStepResult = { ...step, durationMs: 27, refs: 2, head: 'refs/heads/main', headSha: null };
  return { name, ok, repository: 'repo', region: 'us-east-1', roleArn: null, steps: { sts, git } };
}

/** A run's datapoints: two targets at the phases level and the heartbeat (33 in all). */
function runPoints(at: Date, prefix = 'target'): Datapoint[] {
  return [
    ...datapointsFor(result(`${prefix}-a`), { detail: 'phases' }, at),
    ...datapointsFor(result(`${prefix}-b`, false), { detail: 'phases' }, at),
    heartbeat(`${prefix}-stack`, at),
  ];
}

const key = (p: Pick<Datapoint, 'name' | 'dimensions' | 'timestamp' | 'value' | 'unit'>): string =>
  JSON.stringify([p.name, Object.entries(p.dimensions).sort(), p.timestamp.getTime(), p.unit, p.value]);

const sortedKeys = (points: Datapoint[]): string[] => points.map(key).sort();

function memoryWriter() {
  const chunks: string[] = [];
  return {
    chunks,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    lines: () => chunks.join('').split('\n').filter(Boolean),
  };
}

function expectAccountedFor(outcome: PublishOutcome, count: number): void {
  expect(outcome.published + outcome.fallback + outcome.failed).toBe(count);
}

// ---------------------------------------------------------------------------------------------------------------
// EMF: checked against the specification, and parsed back into datapoints

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Asserts one log line is a valid EMF document (CloudWatch "Specification: Embedded metric format"). */
function assertEmf(line: string): EmfDocument {
  const doc: unknown = JSON.parse(line);
  expect(isRecord(doc)).toBe(true);
  const root = doc as Record<string, unknown>;
  expect(isRecord(root._aws)).toBe(true);
  const aws = root._aws as Record<string, unknown>;
  expect(Object.keys(aws).sort()).toEqual(['CloudWatchMetrics', 'Timestamp']);
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true);
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    expect(Object.keys(directive).sort()).toEqual(['Dimensions', 'Metrics', 'Namespace']);
    expect(typeof directive.Namespace).toBe('string');
    expect((directive.Namespace as string).length).toBeGreaterThan(0);
    const dimensionSets = directive.Dimensions as unknown[];
    expect(Array.isArray(dimensionSets)).toBe(true);
    for (const set of dimensionSets) {
      expect(Array.isArray(set)).toBe(true);
      expect((set as unknown[]).length).toBeLessThanOrEqual(30);
      // Every dimension key references a string member of the root node.
      for (const name of set as unknown[]) expect(typeof root[name as string]).toBe('string');
    }
    const metrics = directive.Metrics as Record<string, unknown>[];
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.length).toBeLessThanOrEqual(100);
    expect(new Set(metrics.map((m) => m.Name)).size).toBe(metrics.length);
    for (const metric of metrics) {
      expect(Object.keys(metric).every((k) => ['Name', 'Unit', 'StorageResolution'].includes(k))).toBe(true);
      expect(typeof metric.Name).toBe('string');
      expect(METRIC_UNITS).toContain(metric.Unit);
      if ('StorageResolution' in metric) expect([1, 60]).toContain(metric.StorageResolution);
      // The value is a number or an array of at most 100 numbers, at the root.
      const value = root[metric.Name as string];
      const values = Array.isArray(value) ? value : [value];
      expect(values.length).toBeLessThanOrEqual(100);
      for (const v of values) expect(Number.isFinite(v)).toBe(true);
    }
  }
  return doc as EmfDocument;
}

/** What CloudWatch would extract from EMF lines, as datapoints. */
function pointsFromEmf(lines: string[]): Datapoint[] {
  return lines.flatMap((line) => {
    const doc = assertEmf(line);
    return doc._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Dimensions.flatMap((set) =>
        directive.Metrics.flatMap((metric) => {
          const raw = doc[metric.Name] as number | number[];
          return (Array.isArray(raw) ? raw : [raw]).map(
            (value): Datapoint => ({
              name: metric.Name,
              unit: metric.Unit,
              value,
              dimensions: Object.fromEntries(set.map((d) => [d, doc[d] as string])),
              timestamp: new Date(doc._aws.Timestamp),
              ...(metric.StorageResolution ? { storageResolution: metric.StorageResolution } : {}),
            }),
          );
        }),
      ),
    );
  });
}

describe('EmfSink', () => {
  it('writes one valid EMF line per target and step, and one for the heartbeat', async () => {
    // Prepare
    const writer = memoryWriter();
    const at = recent();
    const points = runPoints(at);

    // Act
    const outcome = await new EmfSink({ namespace: 'CanaryTest', writer }).publish(points);

    // Assess
    expect(outcome).toMatchObject({ sink: 'emf', published: 33, fallback: 0, failed: 0, reason: null });
    const lines = writer.lines();
    expect(lines).toHaveLength(5);
    const docs = lines.map(assertEmf);
    for (const doc of docs) {
      expect(doc._aws.Timestamp).toBe(at.getTime());
      expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
      expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('CanaryTest');
    }
    expect(docs[0]).toEqual({
      _aws: {
        Timestamp: at.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: 'CanaryTest',
            Dimensions: [['Target', 'Step']],
            Metrics: [
              { Name: 'Success', Unit: 'Count' },
              { Name: 'Duration', Unit: 'Milliseconds' },
              { Name: 'DnsTime', Unit: 'Milliseconds' },
              { Name: 'ConnectTime', Unit: 'Milliseconds' },
              { Name: 'TlsTime', Unit: 'Milliseconds' },
              { Name: 'FirstByteTime', Unit: 'Milliseconds' },
              { Name: 'TransferTime', Unit: 'Milliseconds' },
              { Name: 'Timeout', Unit: 'Count' },
            ],
          },
        ],
      },
      Target: 'target-a',
      Step: 'sts',
      Success: 1,
      Duration: 15.5,
      DnsTime: 1,
      ConnectTime: 2,
      TlsTime: 3,
      FirstByteTime: 4,
      TransferTime: 5,
      Timeout: 0,
    });
    expect(docs[4]).toMatchObject({ Stack: 'target-stack', Heartbeat: 1 });
    expect(sortedKeys(pointsFromEmf(lines))).toEqual(sortedKeys(points));
  });

  it('matches what Powertools serializes for the same metrics, less its service dimension', () => {
    const at = new Date();
    const points = datapointsFor(result('team-repo'), { detail: 'basic' }, at).filter(
      (p) => p.dimensions.Step === 'sts',
    );
    const powertools = new Metrics({ namespace: 'CanaryTest', serviceName: 'unused' });
    powertools.clearDefaultDimensions();
    powertools.addDimension('Target', 'team-repo').addDimension('Step', 'sts').setTimestamp(at);
    for (const p of points) powertools.addMetric(p.name, p.unit, p.value);

    expect(toEmfDocuments(points, 'CanaryTest')).toEqual([powertools.serializeMetrics()]);
  });

  it('defaults to the CodeCommitCanary namespace', async () => {
    const writer = memoryWriter();

    await new EmfSink({ writer }).publish([heartbeat('s', recent())]);

    expect(assertEmf(writer.lines()[0] ?? '')._aws.CloudWatchMetrics[0]?.Namespace).toBe('CodeCommitCanary');
  });

  it('separates datapoints by timestamp and dimension set, whatever their order', () => {
    const t1 = new Date(1_700_000_000_000);
    const t2 = new Date(1_700_000_060_000);
    const p = (name: string, timestamp: Date, dimensions: Record<string, string>): Datapoint => ({
      name,
      unit: 'Count',
      value: 1,
      dimensions,
      timestamp,
    });

    const docs = toEmfDocuments(
      [
        p('A', t1, { X: '1', Y: '2' }),
        p('B', t2, { X: '1', Y: '2' }),
        p('C', t1, { Y: '2', X: '1' }),
        p('D', t1, { X: '1' }),
        p('E', t1, {}),
      ],
      'N',
    );

    expect(docs.map((d) => [d._aws.Timestamp, d._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)])).toEqual([
      [t1.getTime(), ['A', 'C']],
      [t2.getTime(), ['B']],
      [t1.getTime(), ['D']],
      [t1.getTime(), ['E']],
    ]);
    expect(docs[3]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[]]);
  });

  it('stays within the EMF limits: 100 metrics per document, 100 values per metric, one unit per name', () => {
    const at = new Date(1_700_000_000_000);
    const dims = { Target: 't' };
    const points: Datapoint[] = [
      ...Array.from(
        { length: 250 },
        (_, i): Datapoint => ({ name: `M${i}`, unit: 'Count', value: i, dimensions: dims, timestamp: at }),
      ),
      ...Array.from(
        { length: 150 },
        (_, i): Datapoint => ({ name: 'Repeated', unit: 'Seconds', value: i, dimensions: dims, timestamp: at }),
      ),
      { name: 'Repeated', unit: 'Milliseconds', value: 7, dimensions: dims, timestamp: at },
    ];

    const lines = toEmfDocuments(points, 'N').map((d) => JSON.stringify(d));

    expect(lines.map((l) => assertEmf(l)._aws.CloudWatchMetrics[0]?.Metrics.length)).toEqual([100, 100, 51, 1, 1]);
    const repeated = lines.map((l) => JSON.parse(l).Repeated).filter((v) => v !== undefined);
    expect(repeated.map((v) => (Array.isArray(v) ? v.length : 1))).toEqual([100, 50, 1]);
    expect(sortedKeys(pointsFromEmf(lines))).toEqual(sortedKeys(points));
  });

  it('marks high-resolution metrics with StorageResolution 1 and leaves standard ones unmarked', () => {
    const at = new Date();
    const docs = toEmfDocuments(
      [
        { ...heartbeat('s', at, { storageResolution: 1 }) },
        { name: 'Standard', unit: 'Count', value: 1, dimensions: { Stack: 's' }, timestamp: at, storageResolution: 60 },
      ],
      'N',
    );

    expect(docs[0]?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'Heartbeat', Unit: 'Count', StorageResolution: 1 },
      { Name: 'Standard', Unit: 'Count' },
    ]);
  });

  it('writes the valid datapoints and counts the invalid ones as failed, with the reason', async () => {
    const writer = memoryWriter();
    const at = recent();
    const bad: Datapoint = { name: 'CertDaysLeft', unit: 'Count', value: Number.NaN, dimensions: {}, timestamp: at };

    const outcome = await new EmfSink({ writer }).publish([heartbeat('s', at), bad]);

    expect(outcome).toMatchObject({ published: 1, fallback: 0, failed: 1 });
    expect(outcome.reason).toContain('CertDaysLeft: value NaN is not a finite number');
    expect(pointsFromEmf(writer.lines()).map((p) => p.name)).toEqual(['Heartbeat']);
  });

  it('reports a writer that throws as failed datapoints instead of throwing', async () => {
    const writer = {
      write() {
        throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      },
    };

    const outcome = await new EmfSink({ writer }).publish(runPoints(recent()));

    expect(outcome).toMatchObject({ published: 0, fallback: 0, failed: 33 });
    expect(outcome.reason).toContain('writing EMF failed: EPIPE write EPIPE');
  });
});

describe('ConsoleSink', () => {
  it('prints an aligned table for people and publishes nothing elsewhere', async () => {
    const writer = memoryWriter();
    const at = new Date('2025-03-01T12:00:00.000Z');
    const points = [...datapointsFor(result('team-repo'), { detail: 'basic' }, at), heartbeat('prod', at)];

    const outcome = await new ConsoleSink({ namespace: 'CanaryTest', writer }).publish(points);

    expect(outcome).toMatchObject({ sink: 'console', published: 5, fallback: 0, failed: 0, reason: null });
    expect(writer.lines()).toEqual([
      'CanaryTest, 5 datapoints at 2025-03-01T12:00:00.000Z',
      '  Success    Target=team-repo Step=sts  1',
      '  Duration   Target=team-repo Step=sts  15.5 ms',
      '  Success    Target=team-repo Step=git  1',
      '  Duration   Target=team-repo Step=git  27 ms',
      '  Heartbeat  Stack=prod                 1',
    ]);
  });
});

describe('toMetricDataBatches', () => {
  it('keeps every call within 1000 datapoints and the request size limit, in order', () => {
    const at = new Date();
    const small = Array.from({ length: 2500 }, (_, i): Datapoint => ({ ...heartbeat(`s${i}`, at) }));
    const wide = Array.from(
      { length: 200 },
      (_, i): Datapoint => ({
        name: 'Wide',
        unit: 'Count',
        value: i,
        dimensions: Object.fromEntries(Array.from({ length: 30 }, (_, d) => [`Dim${d}`, 'v'.repeat(1024)])),
        timestamp: at,
      }),
    );

    const smallBatches = toMetricDataBatches(small);
    const wideBatches = toMetricDataBatches(wide);

    expect(smallBatches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(wideBatches.length).toBeGreaterThan(1);
    for (const batch of wideBatches) {
      const body = JSON.stringify({ Namespace: 'CodeCommitCanary', MetricData: batch.map(toMetricDatum) });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PUT_MAX_BYTES);
    }
    expect(wideBatches.flat()).toEqual(wide);
    expect(toMetricDataBatches(small, 7).every((b) => b.length <= 7)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// CloudWatch API sink: moto_server for the real exchange, local servers for the failures

interface Recorder {
  calls: number;
}

function cloudWatchClient(pki: TestPki, endpoint: string, recorder?: Recorder): CloudWatchClient {
  const client = new CloudWatchClient({
    region: 'us-east-1',
    endpoint,
    credentials: FAKE_SOURCE_CREDENTIALS,
    maxAttempts: 1,
    // moto 5.2 decompresses a gzip body twice and answers 500 (the SDK gzips PutMetricData above 10 KB).
    disableRequestCompression: true,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(pki.caFile) }) }),
  });
  if (recorder) {
    client.middlewareStack.add(
      (next) => async (args) => {
        recorder.calls += 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countCalls' },
    );
  }
  return client;
}

/** `Dimensions` in the order they were put: moto's GetMetricData matches them order-sensitively. */
const dimensionsOf = (p: Datapoint): Dimension[] =>
  Object.entries(p.dimensions).map(([Name, Value]) => ({ Name, Value }));

/** Each datapoint's Sum and SampleCount read back with GetMetricData over one 60 s period around `at`. */
async function readBack(client: CloudWatchClient, namespace: string, points: Datapoint[], at: Date) {
  const queries = points.flatMap((p, i) =>
    (['Sum', 'SampleCount'] as const).map((Stat) => ({
      Id: `q${i}_${Stat}`,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: p.name, Dimensions: dimensionsOf(p) },
        Period: 60,
        Stat,
      },
    })),
  );
  const answer = await client.send(
    new GetMetricDataCommand({
      StartTime: new Date(at.getTime() - 30_000),
      EndTime: new Date(at.getTime() + 30_000),
      MetricDataQueries: queries,
    }),
  );
  const byId = new Map((answer.MetricDataResults ?? []).map((r) => [r.Id, r.Values ?? []]));
  return points.map((_, i) => ({ sum: byId.get(`q${i}_Sum`), count: byId.get(`q${i}_SampleCount`) }));
}

describe('CloudWatchSink against moto_server', () => {
  let pki: TestPki;
  let moto: Moto;

  beforeAll(async () => {
    pki = createTestPki();
    moto = await startMoto(pki);
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('stores every datapoint with PutMetricData, readable with GetMetricData, and writes no EMF', async () => {
    // Prepare
    const namespace = `CanaryTest-${randomUUID().slice(0, 8)}`;
    const prefix = randomUUID().slice(0, 8);
    const at = recent();
    const points = runPoints(at, prefix);
    const recorder = { calls: 0 };
    const client = cloudWatchClient(pki, moto.url, recorder);
    const emf = memoryWriter();
    const sink = new CloudWatchSink({ client, namespace, fallback: new EmfSink({ namespace, writer: emf }) });

    // Act
    const outcome = await sink.publish(points);

    // Assess
    expect(outcome).toMatchObject({ sink: 'cloudwatch', published: 33, fallback: 0, failed: 0, reason: null });
    expect(recorder.calls).toBe(1);
    expect(emf.chunks).toEqual([]);
    const stored = await readBack(client, namespace, points, at);
    expect(stored).toEqual(points.map((p) => ({ sum: [p.value], count: [1] })));
    const listed = await client.send(new ListMetricsCommand({ Namespace: namespace }));
    const distinct = new Set((listed.Metrics ?? []).map((m) => JSON.stringify([m.MetricName, m.Dimensions])));
    expect(distinct.size).toBe(33);
  });

  it('stores the unit of each datapoint', async () => {
    const namespace = `CanaryTest-${randomUUID().slice(0, 8)}`;
    const at = recent();
    const points = datapointsFor(result(`t-${randomUUID().slice(0, 8)}`), { detail: 'basic' }, at);
    const client = cloudWatchClient(pki, moto.url);

    await new CloudWatchSink({ client, namespace, fallback: new EmfSink({ writer: memoryWriter() }) }).publish(points);

    for (const p of points.slice(0, 2)) {
      const stats = await client.send(
        new GetMetricStatisticsCommand({
          Namespace: namespace,
          MetricName: p.name,
          Dimensions: dimensionsOf(p),
          StartTime: new Date(at.getTime() - 30_000),
          EndTime: new Date(at.getTime() + 30_000),
          Period: 60,
          Statistics: ['Sum'],
        }),
      );
      expect(stats.Datapoints?.map((d) => [d.Sum, d.Unit])).toEqual([[p.value, p.unit]]);
    }
  });

  it('splits a large run into calls of at most the batch size and stores them all', async () => {
    const namespace = `CanaryTest-${randomUUID().slice(0, 8)}`;
    const at = recent();
    const dimensions = { Target: `t-${randomUUID().slice(0, 8)}`, Step: 'git' };
    const points = Array.from(
      { length: 2345 },
      (_, i): Datapoint => ({ name: 'Duration', unit: 'Milliseconds', value: i, dimensions, timestamp: at }),
    );
    const recorder = { calls: 0 };
    const client = cloudWatchClient(pki, moto.url, recorder);
    const emf = memoryWriter();

    const outcome = await new CloudWatchSink({ client, namespace, fallback: new EmfSink({ writer: emf }) }).publish(
      points,
    );

    expect(outcome).toMatchObject({ published: 2345, fallback: 0, failed: 0 });
    expect(recorder.calls).toBe(3);
    const [stored] = await readBack(client, namespace, [points[0] as Datapoint], at);
    expect(stored).toEqual({ sum: [(2344 * 2345) / 2], count: [2345] });
    expect(emf.chunks).toEqual([]);
  });

  it('sends only valid datapoints and counts the others as failed', async () => {
    const namespace = `CanaryTest-${randomUUID().slice(0, 8)}`;
    const at = recent();
    const good = heartbeat(`s-${randomUUID().slice(0, 8)}`, at);
    const bad: Datapoint = { ...good, dimensions: { Stack: '' } };
    const client = cloudWatchClient(pki, moto.url);
    const emf = memoryWriter();

    const outcome = await new CloudWatchSink({ client, namespace, fallback: new EmfSink({ writer: emf }) }).publish([
      good,
      bad,
    ]);

    expect(outcome).toMatchObject({ published: 1, fallback: 0, failed: 1 });
    expect(outcome.reason).toContain('dimension Stack value must be 1-1024 characters');
    expect(await readBack(client, namespace, [good], at)).toEqual([{ sum: [1], count: [1] }]);
    expect(emf.chunks).toEqual([]);
  });
});

/** A local server that accepts connections and never answers, and tells when the client let go. */
interface Silent {
  url: string;
  opened: () => number;
  closed: () => number;
  stop: () => Promise<void>;
}

function track(server: Server): Pick<Silent, 'opened' | 'closed' | 'stop'> {
  const sockets = new Set<Socket>();
  let opened = 0;
  let closed = 0;
  server.on('connection', (socket: Socket) => {
    opened += 1;
    sockets.add(socket);
    socket.on('close', () => {
      closed += 1;
      sockets.delete(socket);
    });
  });
  return {
    opened: () => opened,
    closed: () => closed,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** TLS completes, the request is read, no response ever comes. */
async function silentHttps(pki: TestPki): Promise<Silent> {
  const server = createHttpsServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req) => {
    req.resume();
  });
  const tracked = track(server);
  return { url: `https://127.0.0.1:${await listen(server)}`, ...tracked };
}

/** TCP accepts and never speaks: the TLS handshake hangs. Reads (and drops) what comes, so it sees the client's FIN. */
async function silentTcp(): Promise<Silent> {
  const server = createTcpServer((socket) => socket.resume());
  const tracked = track(server);
  return { url: `https://127.0.0.1:${await listen(server)}`, ...tracked };
}

/** Answers PutMetricData per request: stored when `accept(body)`, otherwise as `otherwise` says. */
async function scriptedCloudWatch(
  pki: TestPki,
  accept: (body: string) => boolean,
  otherwise: 'hang' | 500,
): Promise<Silent> {
  const server = createHttpsServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (accept(body)) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      } else if (otherwise === 500) {
        res
          .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
          .end(JSON.stringify({ __type: 'InternalServiceError', message: 'scripted failure' }));
      }
    });
  });
  const tracked = track(server);
  return { url: `https://127.0.0.1:${await listen(server)}`, ...tracked };
}

async function eventually(check: () => boolean, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}

describe('CloudWatchSink when CloudWatch fails', () => {
  const TIMEOUT_MS = 400;
  const SLACK_MS = 600;
  let pki: TestPki;

  beforeAll(() => {
    pki = createTestPki();
  });

  async function publishWithFallback(
    endpoint: string,
    points: Datapoint[],
    sinkOptions: { maxBatchSize?: number } = {},
  ) {
    const emf = memoryWriter();
    const sink = new CloudWatchSink({
      client: cloudWatchClient(pki, endpoint),
      namespace: 'CanaryTest',
      timeoutMs: TIMEOUT_MS,
      fallback: new EmfSink({ namespace: 'CanaryTest', writer: emf }),
      ...sinkOptions,
    });
    const started = performance.now();
    const outcome = await sink.publish(points);
    return { outcome, elapsed: performance.now() - started, emf: emf.lines() };
  }

  it.each([
    ['answers nothing after the request', 'https' as const],
    ['never completes the TLS handshake', 'tcp' as const],
  ])('writes every datapoint as EMF within the deadline when CloudWatch %s', async (_label, kind) => {
    // Prepare
    const server = kind === 'https' ? await silentHttps(pki) : await silentTcp();
    const points = runPoints(recent());

    try {
      // Act
      const { outcome, elapsed, emf } = await publishWithFallback(server.url, points);

      // Assess
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(outcome).toMatchObject({ sink: 'cloudwatch', published: 0, fallback: 33, failed: 0 });
      expect(outcome.reason).toContain(`PutMetricData timed out after ${TIMEOUT_MS} ms`);
      expect(outcome.reason).toContain('33 datapoint(s) sent to emf');
      expect(sortedKeys(pointsFromEmf(emf))).toEqual(sortedKeys(points));
      // The deadline really ended the call: the client closed its connection.
      await eventually(() => server.closed() === server.opened(), 1000);
      expect(server.opened()).toBe(1);
      expect(server.closed()).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('writes every datapoint as EMF at once when the port refuses connections', async () => {
    const port = await freePort();
    const points = runPoints(recent());

    const { outcome, elapsed, emf } = await publishWithFallback(`https://127.0.0.1:${port}`, points);

    expect(elapsed).toBeLessThan(TIMEOUT_MS);
    expect(outcome).toMatchObject({ published: 0, fallback: 33, failed: 0 });
    expect(outcome.reason).toContain('ECONNREFUSED');
    expect(sortedKeys(pointsFromEmf(emf))).toEqual(sortedKeys(points));
  });

  it('writes every datapoint as EMF when CloudWatch answers with an error', async () => {
    const server = await scriptedCloudWatch(pki, () => false, 500);
    const points = runPoints(recent());

    try {
      const { outcome, emf } = await publishWithFallback(server.url, points);

      expect(outcome).toMatchObject({ published: 0, fallback: 33, failed: 0 });
      // The SDK maps an unknown error code to CloudWatch's own InternalServiceFault.
      expect(outcome.reason).toMatch(
        /^PutMetricData failed: HTTP 500 \w+ scripted failure; 33 datapoint\(s\) sent to emf$/,
      );
      expect(sortedKeys(pointsFromEmf(emf))).toEqual(sortedKeys(points));
    } finally {
      await server.stop();
    }
  });

  it('falls back only for the batches that failed, all within one deadline', async () => {
    // Batches holding target-a are stored; those holding target-b hang.
    const server = await scriptedCloudWatch(pki, (body) => !body.includes('target-b'), 'hang');
    const points = runPoints(recent());
    const hanging = points.filter((p) => p.dimensions.Target === 'target-b');

    try {
      const { outcome, elapsed, emf } = await publishWithFallback(server.url, points, { maxBatchSize: 8 });

      expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      expect(outcome).toMatchObject({ published: 33 - 16, fallback: 16, failed: 0 });
      expectAccountedFor(outcome, 33);
      expect(sortedKeys(pointsFromEmf(emf))).toEqual(sortedKeys(hanging));
    } finally {
      await server.stop();
    }
  });

  it('counts datapoints the fallback could not deliver as failed, without throwing', async () => {
    const port = await freePort();
    const broken: MetricSink = {
      name: 'broken',
      publish: () => Promise.reject(new Error('disk full')),
    };
    const sink = new CloudWatchSink({
      client: cloudWatchClient(pki, `https://127.0.0.1:${port}`),
      timeoutMs: TIMEOUT_MS,
      fallback: broken,
    });

    const outcome = await sink.publish(runPoints(recent()));

    expect(outcome).toMatchObject({ published: 0, fallback: 0, failed: 33 });
    expect(outcome.reason).toContain('fallback threw: Error disk full');
  });

  it('rejects a batch size above the API limit when built', () => {
    const client = cloudWatchClient(pki, 'https://127.0.0.1:1');

    expect(() => new CloudWatchSink({ client, maxBatchSize: 1001 })).toThrow(
      'maxBatchSize must be an integer from 1 to 1000, got 1001',
    );
    expect(() => new CloudWatchSink({ client, timeoutMs: 0 })).toThrow('timeoutMs must be > 0, got 0');
  });

  it('publishes nothing and calls nothing for no datapoints', async () => {
    const recorder = { calls: 0 };
    const sink = new CloudWatchSink({ client: cloudWatchClient(pki, 'https://127.0.0.1:1', recorder) });

    const outcome = await sink.publish([]);

    expect(outcome).toMatchObject({ published: 0, fallback: 0, failed: 0, reason: null });
    expect(recorder.calls).toBe(0);
  });
});
