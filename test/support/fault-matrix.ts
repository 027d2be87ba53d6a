/**
 * The fault matrix: every dependency of a monitor run crossed with every way a dependency breaks, each cell run
 * end to end in every delivery mode that uses the dependency, with its expected outcome stated and checked.
 * Used by test/reliability.test.ts (one assertion per cell) and scripts/reliability.ts (the printed table).
 *
 * Dependencies: `sts` and `git` (the probe's two steps), `cloudwatch` (PutMetricData, direct mode), `sns` and
 * `dynamodb` (whoever raises alerts: the notifier in log mode, the probe itself in direct mode). A dependency is
 * broken by pointing its client at a misbehaving server on 127.0.0.1 (test/support/faults.ts), or, for the two
 * DNS faults, at a name the local DNS server does not answer (silently, or with NXDOMAIN). Everything else is the
 * sandbox: moto (STS, CloudWatch, SNS, SQS, DynamoDB) and the CodeCommit stand-in wrapping `git http-backend`.
 *
 * A cell passes when, in each of its runs:
 * - the probe result says what broke (kind and phase of the failed step, for `sts` and `git`);
 * - zero datapoints are lost: every datapoint the run handed to its metric sink is stored in CloudWatch (read
 *   back with GetMetricData) or written as EMF (counted in the captured stdout), and none is counted failed;
 * - zero alerts are lost and none is duplicated: the incident the failure opens pages exactly once, read back
 *   from an SQS queue subscribed to the topic, or, when SNS is the broken one, as the logged
 *   `codecommit-canary/undelivered-alert` line; with DynamoDB broken the page goes out failing open;
 * - every invocation returns before its deadline.
 */
import { Resolver } from 'node:dns';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchClient as CloudWatchClientClass } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createSnsClient, type ProcessSummary, processResults, SnsAlertSink } from '../../lib/alerts.ts';
import { type BoundedClientOptions, boundedClientConfig } from '../../lib/aws-clients.ts';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig, type ResolvedTarget } from '../../lib/config.ts';
import { DynamoDbFindingStore } from '../../lib/finding-state.ts';
import { type AlertSettings, createIncidentTableClient, DynamoDbIncidentStore } from '../../lib/incidents.ts';
import { jsonLogger } from '../../lib/log.ts';
import {
  type AwsLogsEvent,
  decodeSubscriptionEvent,
  FINDINGS_RECORD_TYPE,
  RESULT_RECORD_TYPE,
} from '../../lib/log-records.ts';
import {
  CloudWatchSink,
  createMetricsClient,
  EmfSink,
  type MetricSink,
  type PublishOutcome,
} from '../../lib/metric-sinks.ts';
import type { Datapoint } from '../../lib/metrics.ts';
import { announceFindings, type MonitorConfig, type MonitorDeps, runMonitor } from '../../lib/monitor.ts';
import type { Resolve } from '../../lib/net/resolve.ts';
import { serversResolve } from '../../lib/net/resolve.ts';
import type { ProbeDeps } from '../../lib/probe.ts';
import type { FailureKind, Phase, ResultRecord, StepName } from '../../lib/types.ts';
import { type DnsServer, startDnsServer } from './dns-server.ts';
import {
  connectHang,
  type FaultEndpoint,
  type FaultMode,
  faultServer,
  refusedPort,
  tlsHang,
  untrustedTls,
} from './faults.ts';
import { FAKE_SOURCE_CREDENTIALS } from './moto.ts';
import { type Sandbox, startSandbox } from './sandbox.ts';
import { CapturedOutput, motoSecrets, type Secret } from './secrets.ts';
import {
  createSqsClient,
  drainQueue,
  motoClientOptions,
  type SnsEnvelope,
  subscribeQueue,
  TEST_REGION,
} from './sqs.ts';
import { stsError } from './stubs.ts';

// ---- The matrix ----

export const DEPENDENCIES = ['sts', 'git', 'cloudwatch', 'sns', 'dynamodb'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];
export type Mode = 'log' | 'direct';

export interface Fault {
  id: string;
  label: string;
  /** What the probe's step reports when this fault is at its endpoint. */
  probe: { kind: FailureKind; phase: Phase };
}

/** The faults, in the order. */
export const FAULTS: readonly Fault[] = [
  { id: 'dns-silent', label: 'DNS no answer', probe: { kind: 'timeout', phase: 'dns' } },
  { id: 'nxdomain', label: 'NXDOMAIN', probe: { kind: 'dns', phase: 'dns' } },
  { id: 'connect-hang', label: 'connect never completes', probe: { kind: 'timeout', phase: 'connect' } },
  { id: 'refused', label: 'connection refused', probe: { kind: 'refused', phase: 'connect' } },
  { id: 'reset', label: 'reset mid-response', probe: { kind: 'reset', phase: 'body' } },
  { id: 'tls-hang', label: 'TLS never answered', probe: { kind: 'timeout', phase: 'tls' } },
  { id: 'untrusted', label: 'untrusted certificate', probe: { kind: 'tls', phase: 'tls' } },
  { id: 'headers-hang', label: 'headers never sent', probe: { kind: 'timeout', phase: 'response' } },
  { id: 'trickle', label: 'body trickling', probe: { kind: 'timeout', phase: 'body' } },
  { id: 'http-403', label: 'HTTP 403', probe: { kind: 'auth', phase: 'response' } },
  { id: 'http-404', label: 'HTTP 404', probe: { kind: 'not-found', phase: 'response' } },
  { id: 'throttled', label: 'HTTP 429 Throttling', probe: { kind: 'throttled', phase: 'response' } },
  { id: 'http-503', label: 'HTTP 503', probe: { kind: 'http', phase: 'response' } },
  { id: 'garbage', label: 'garbage body', probe: { kind: 'protocol', phase: 'body' } },
  { id: 'endless', label: 'endless body', probe: { kind: 'protocol', phase: 'body' } },
];

/** The delivery modes a dependency takes part in. */
export const modesOf = (dependency: Dependency): Mode[] =>
  dependency === 'cloudwatch' ? ['direct'] : ['log', 'direct'];

export interface Cell {
  dependency: Dependency;
  fault: Fault;
}

export const CELLS: readonly Cell[] = DEPENDENCIES.flatMap((dependency) =>
  FAULTS.map((fault) => ({ dependency, fault })),
);

export const cellName = ({ dependency, fault }: Cell): string => `${dependency} × ${fault.label}`;

/**
 * Deadlines. A broken dependency gets short ones (the matrix must be fast); healthy ones keep room for moto
 * under the matrix's own load. The handler's reporting reserve is computed from them the way handlers/probe.ts
 * sizes its own (the sum of the reporting calls' deadlines).
 */
export const TIMING = {
  /** The broken step's deadline. */
  brokenStepMs: 600,
  /** The healthy sts step's deadline when git is the broken one. */
  healthyStsMs: 2400,
  /** Probe budget of a run (runMonitor cuts every step to what is left of it). */
  budgetMs: 3000,
  /** Deadline of one call to a broken SDK dependency (sink timeout, store deadline, publish deadline)… */
  brokenCallMs: 600,
  /** …and of each attempt in it (connect and request timeouts of the bounded clients). */
  brokenAttemptMs: 300,
  /** The same for healthy ones. */
  healthyCallMs: 2500,
  healthyAttemptMs: 1500,
  /** Writing records and EMF, scheduling on a loaded 2-core machine. */
  slackMs: 400,
} as const;

/** The alert policy of the matrix: one failure opens the incident, so every cell's run pages exactly once. */
export const ALERT_SETTINGS: AlertSettings = { failuresBeforeAlert: 1, renotifyMinutes: 60 };

const STEP_CAP_BYTES = 256 * 1024;

// ---- The environment: the sandbox, the broken endpoints, the alert plumbing ----

export interface MatrixEnv {
  sandbox: Sandbox;
  /** A DNS server that never answers (the "DNS no answer" fault). */
  silentDns: DnsServer;
  /** The endpoint URL of each fault. */
  endpoints: Record<string, string>;
  /** Resolves `silent.canary.test` at the silent server, every other name at the sandbox's. */
  resolve: Resolve;
  probe: ProbeDeps;
  config: MonitorConfig;
  tableName: string;
  topicArn: string;
  healthy: { sns: SNSClient; dynamodb: DynamoDBClient; cloudwatch: CloudWatchClient };
  mailbox: Mailbox;
  /** Every output a cell produced, for the secret scan. */
  outputs: Map<string, string>;
  secrets(): Promise<Secret[]>;
  stop(): Promise<void>;
}

const SILENT_HOST = 'silent.canary.test';
const NXDOMAIN_HOST = 'nxdomain.canary.test';

async function startFaultEndpoints(
  sandbox: Sandbox,
): Promise<{ urls: Record<string, string>; stops: FaultEndpoint[] }> {
  const server = (mode: FaultMode) => faultServer(sandbox.pki, mode);
  const throttling = stsError('Sender', 'Throttling', 'Rate exceeded');
  const started: Record<string, Promise<FaultEndpoint>> = {
    'connect-hang': connectHang(),
    refused: refusedPort(),
    reset: server({ resetAfterBytes: 64 }),
    'tls-hang': tlsHang(),
    untrusted: untrustedTls(),
    'headers-hang': server({ headersHang: true }),
    trickle: server({ trickle: { intervalMs: 100, chunk: 'a' } }),
    'http-403': server({ status: 403, body: 'denied' }),
    'http-404': server({ status: 404, body: 'not found' }),
    throttled: server({ status: 429, body: throttling, headers: { 'content-type': 'text/xml' } }),
    'http-503': server({ status: 503, body: 'service unavailable' }),
    garbage: server({ garbage: true }),
    endless: server({ endless: true }),
  };
  const urls: Record<string, string> = {
    'dns-silent': `https://${SILENT_HOST}`,
    nxdomain: `https://${NXDOMAIN_HOST}`,
  };
  const stops: FaultEndpoint[] = [];
  for (const [id, promise] of Object.entries(started)) {
    const endpoint = await promise;
    urls[id] = endpoint.url;
    stops.push(endpoint);
  }
  return { urls, stops };
}

/**
 * SNS messages read back from one queue subscribed to the topic, filed by their `target` attribute. Moto delivers
 * to SQS during Publish, so once a run has returned its messages are in the queue; drains are serialized because
 * cells run concurrently.
 */
export class Mailbox {
  readonly #byTarget = new Map<string, SnsEnvelope[]>();
  #draining: Promise<void> = Promise.resolve();
  constructor(
    private readonly sqs: ReturnType<typeof createSqsClient>,
    private readonly queueUrl: string,
  ) {}

  async take(target: string): Promise<SnsEnvelope[]> {
    const drained = this.#draining.then(async () => {
      for (const envelope of await drainQueue(this.sqs, this.queueUrl)) {
        const key = envelope.MessageAttributes?.target?.Value ?? 'none';
        this.#byTarget.set(key, [...(this.#byTarget.get(key) ?? []), envelope]);
      }
    });
    this.#draining = drained.catch(() => {});
    await drained;
    const taken = this.#byTarget.get(target) ?? [];
    this.#byTarget.delete(target);
    return taken;
  }
}

export async function startMatrixEnv(): Promise<MatrixEnv> {
  const sandbox = await startSandbox();
  const silentDns = await startDnsServer({});
  silentDns.setSilent(true);
  const { urls, stops } = await startFaultEndpoints(sandbox);
  const sandboxResolve = sandbox.deps.resolve;
  const silentResolve = serversResolve([silentDns.server]);
  const resolve: Resolve = (host, signal) =>
    host === SILENT_HOST ? silentResolve(host, signal) : sandboxResolve(host, signal);

  const healthyOptions = motoClientOptions(sandbox.moto, sandbox.pki, TIMING.healthyAttemptMs);
  const sns = createSnsClient(healthyOptions);
  const dynamodb = createIncidentTableClient(healthyOptions);
  const cloudwatch = createMetricsClient(healthyOptions);
  const sqs = createSqsClient(healthyOptions);
  const tableName = 'matrix-incidents';
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
    }),
  );
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'matrix-alerts' }))).TopicArn as string;
  const queueUrl = await subscribeQueue(sns, sqs, topicArn, 'matrix-oncall');

  const config = parseConfig({
    region: TEST_REGION,
    // The global-STS and endpoint-name checks are test/diagnosis.test.ts's; here they would only add findings
    // traffic shared by all cells.
    checks: { globalSts: false, path: false },
    metrics: { namespace: 'CanaryMatrix', detail: 'phases' },
    alerts: ALERT_SETTINGS,
    targets: [{ name: 'placeholder', repository: 'test_repo', roleArn: 'arn:aws:iam::111111111111:role/SwitchRole' }],
  });
  const outputs = new Map<string, string>();
  return {
    sandbox,
    silentDns,
    endpoints: urls,
    resolve,
    probe: {
      ...sandbox.deps,
      resolve,
      maxAdvertisementBytes: STEP_CAP_BYTES,
    },
    config,
    tableName,
    topicArn,
    healthy: { sns, dynamodb, cloudwatch },
    mailbox: new Mailbox(sqs, queueUrl),
    outputs,
    secrets: () => motoSecrets(sandbox.moto),
    async stop() {
      for (const client of [sns, dynamodb, cloudwatch, sqs]) client.destroy();
      await Promise.allSettled([...stops.map((s) => s.stop()), silentDns.stop()]);
      await sandbox.stop();
    },
  };
}

// ---- Clients of a broken dependency ----

/**
 * The agent's lookup for SDK clients whose endpoint is a name: asked of the matrix's DNS servers, as getaddrinfo
 * would ask the VPC resolver (glibc's defaults: 5 s per try, 2 tries — far past any deadline here). The
 * bounded clients resolve through the system resolver, which here would send `*.canary.test` to the host's real
 * DNS; with this lookup no query leaves 127.0.0.1. `cancel` ends the lookups still waiting when a cell ends.
 */
function matrixLookup(env: MatrixEnv): { lookup: LookupFunction; cancel(): void } {
  const pending = new Set<Resolver>();
  const lookup: LookupFunction = (hostname, options, callback) => {
    const resolver = new Resolver({ timeout: 5000, tries: 2 });
    resolver.setServers([hostname === SILENT_HOST ? env.silentDns.server : env.sandbox.dns.server]);
    pending.add(resolver);
    resolver.resolve4(hostname, (error, addresses) => {
      pending.delete(resolver);
      const all = (options as { all?: boolean }).all;
      if (error || addresses.length === 0) {
        (callback as (e: Error) => void)(error ?? Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }));
      } else if (all) {
        (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(
          null,
          addresses.map((address) => ({ address, family: 4 })),
        );
      } else callback(null, addresses[0] as string, 4);
    });
  };
  return {
    lookup,
    cancel() {
      for (const resolver of pending) resolver.cancel();
      pending.clear();
    },
  };
}

type SdkClient = SNSClient | DynamoDBClient | CloudWatchClient;

/** The client a handler builds for `dependency`, pointed at the fault's endpoint, with the broken deadlines. */
function brokenClient(
  env: MatrixEnv,
  dependency: 'sns' | 'dynamodb' | 'cloudwatch',
  fault: Fault,
  lookup: LookupFunction,
) {
  const options: BoundedClientOptions = {
    region: TEST_REGION,
    endpoint: env.endpoints[fault.id] as string,
    ca: readFileSync(env.sandbox.pki.caFile),
    credentials: FAKE_SOURCE_CREDENTIALS,
    timeoutMs: TIMING.brokenAttemptMs,
  };
  const byName = fault.id === 'dns-silent' || fault.id === 'nxdomain';
  if (!byName) {
    if (dependency === 'sns') return createSnsClient(options);
    if (dependency === 'dynamodb') return createIncidentTableClient(options);
    return createMetricsClient(options);
  }
  // The same settings as the factories above (boundedClientConfig), with the matrix's lookup in the agent.
  const config = {
    ...boundedClientConfig({ ...options, ...(dependency === 'cloudwatch' ? { maxAttempts: 1 } : {}) }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: TIMING.brokenAttemptMs,
      requestTimeout: TIMING.brokenAttemptMs,
      throwOnRequestTimeout: true,
      httpsAgent: new Agent({ keepAlive: true, ca: options.ca, lookup }),
    }),
  };
  if (dependency === 'sns') return new SNSClient(config);
  if (dependency === 'dynamodb') return new DynamoDBClient(config);
  return new CloudWatchClientClass(config);
}

// ---- One run ----

/** A MetricSink that counts what the run hands over before passing it on. */
class CountingSink implements MetricSink {
  readonly name: string;
  readonly points: Datapoint[] = [];
  constructor(private readonly inner: MetricSink) {
    this.name = inner.name;
  }
  publish(points: readonly Datapoint[]): Promise<PublishOutcome> {
    this.points.push(...points);
    return this.inner.publish(points);
  }
}

/** What a CloudWatch Logs subscription with the stack's filter delivers of the probe's stdout. */
export function subscriptionEvent(lines: readonly string[]): AwsLogsEvent {
  const logEvents = lines
    .filter((line) => {
      const type = (JSON.parse(line) as { type?: unknown }).type;
      return type === RESULT_RECORD_TYPE || type === FINDINGS_RECORD_TYPE;
    })
    .map((message, i) => ({ id: String(i), timestamp: Date.now(), message }));
  const payload = { messageType: 'DATA_MESSAGE', owner: '111111111111', logGroup: '/aws/lambda/probe', logEvents };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}

/** EMF values in the captured lines (a metric's value may be an array of values). */
export function emfValueCount(objects: readonly Record<string, unknown>[]): number {
  let count = 0;
  for (const object of objects) {
    const aws = object._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics) {
        const value = object[Name];
        count += Array.isArray(value) ? value.length : 1;
      }
    }
  }
  return count;
}

/**
 * Datapoints CloudWatch (moto) stored under a namespace, counted in moto's store. (GetMetricData would be the API
 * to ask, but moto 5.2 drops the namespace filter of a query that has dimensions, so the `CertDaysLeft` of an
 * endpoint that several cells share would be counted in each of them.)
 */
async function storedByNamespace(env: MatrixEnv): Promise<Map<string, number>> {
  const data = (await env.sandbox.moto.data()) as { cloudwatch?: { MetricDatum?: Array<{ namespace: string }> } };
  const counts = new Map<string, number>();
  for (const { namespace } of data.cloudwatch?.MetricDatum ?? [])
    counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
  return counts;
}

/** Checks a run's datapoints against what CloudWatch stored under its namespace. */
function settleDatapoints(cell: Cell, run: RunOutcome, stored: number): void {
  const { produced, emf } = run.datapoints;
  run.datapoints.stored = stored;
  run.datapoints.lost = Math.max(0, produced - stored - emf);
  if (run.datapoints.lost > 0) run.problems.push(`datapoints: ${produced} produced, ${stored} stored, ${emf} EMF`);
  if (stored + emf > produced) run.problems.push(`datapoints duplicated: ${stored} stored + ${emf} EMF of ${produced}`);
  const wantStored = run.mode === 'direct' && cell.dependency !== 'cloudwatch';
  if (wantStored ? stored !== produced : emf !== produced) {
    run.problems.push(
      `datapoints went ${stored} to CloudWatch, ${emf} to EMF; expected all to ${wantStored ? 'CloudWatch' : 'EMF'}`,
    );
  }
}

/** One invocation's time against its deadline. */
export interface Invocation {
  what: string;
  elapsedMs: number;
  deadlineMs: number;
}

export interface RunOutcome {
  mode: Mode;
  target: string;
  /** The run's CloudWatch namespace (its own, so stored datapoints are counted per run). */
  namespace: string;
  /** The failed step's failure as the probe reported it, e.g. `timeout/dns`. */
  probe: string;
  datapoints: { produced: number; stored: number; emf: number; failed: number; lost: number };
  alerts: { pages: number; delivered: number; logged: number; failOpen: number; lost: number; duplicates: number };
  invocations: Invocation[];
  problems: string[];
}

export interface CellOutcome extends Cell {
  runs: RunOutcome[];
  /** Short, for the table: the probe's classification, or where the datapoints or alert went. */
  observed: string;
  expected: string;
  asExpected: boolean;
  problems: string[];
}

/** What the cell's column promises, in a few words. */
export function expectedSummary({ dependency, fault }: Cell): string {
  switch (dependency) {
    case 'sts':
    case 'git':
      return `${fault.probe.kind}/${fault.probe.phase}`;
    case 'cloudwatch':
      return 'EMF';
    case 'sns':
      return 'logged';
    case 'dynamodb':
      return 'fail-open';
  }
}

async function runOnce(env: MatrixEnv, cell: Cell, mode: Mode): Promise<RunOutcome> {
  const { dependency, fault } = cell;
  const name = `${dependency}-${fault.id}-${mode}`;
  const namespace = `CanaryMatrix/${name}`;
  const problems: string[] = [];
  const invocations: Invocation[] = [];
  const probeOut = new CapturedOutput();
  const notifierOut = new CapturedOutput();
  const { lookup, cancel } = matrixLookup(env);
  const broken: SdkClient | undefined =
    dependency === 'sns' || dependency === 'dynamodb' || dependency === 'cloudwatch'
      ? brokenClient(env, dependency, fault, lookup)
      : undefined;
  const callMs = (d: Dependency) => (d === dependency ? TIMING.brokenCallMs : TIMING.healthyCallMs);
  try {
    // The target: the broken step's endpoint is the fault; for the alert side, a target that fails fast (refused).
    const faultUrl = env.endpoints[fault.id] as string;
    const target: ResolvedTarget = env.sandbox.target({
      name,
      stsEndpoint:
        dependency === 'sts'
          ? faultUrl
          : dependency === 'git'
            ? env.sandbox.stsEndpoint
            : (env.endpoints.refused as string),
      gitEndpoint: dependency === 'git' ? faultUrl : env.sandbox.gitEndpoint,
      timeouts: {
        stsMs: dependency === 'git' ? TIMING.healthyStsMs : TIMING.brokenStepMs,
        gitMs: TIMING.brokenStepMs,
      },
    });
    const table = dependency === 'dynamodb' ? (broken as DynamoDBClient) : env.healthy.dynamodb;
    const sns = dependency === 'sns' ? (broken as SNSClient) : env.healthy.sns;
    const logger = jsonLogger(mode === 'log' ? notifierOut : probeOut);
    const alerts = {
      findings: new DynamoDbFindingStore({
        client: table,
        tableName: env.tableName,
        logger,
        deadlineMs: callMs('dynamodb'),
      }),
      incidents: new DynamoDbIncidentStore({
        client: table,
        tableName: env.tableName,
        settings: ALERT_SETTINGS,
        clock: systemClock,
        logger,
        deadlineMs: callMs('dynamodb'),
      }),
      sink: new SnsAlertSink({ client: sns, topicArn: env.topicArn, logger, deadlineMs: callMs('sns') }),
      logger,
    };
    const emf = new EmfSink({ namespace, writer: probeOut });
    const metrics = new CountingSink(
      mode === 'log'
        ? emf
        : new CloudWatchSink({
            client: dependency === 'cloudwatch' ? (broken as CloudWatchClient) : env.healthy.cloudwatch,
            namespace,
            fallback: emf,
            timeoutMs: callMs('cloudwatch'),
          }),
    );
    const deps: MonitorDeps = { probe: env.probe, metrics, log: probeOut, ...(mode === 'direct' ? { alerts } : {}) };

    // The probe's invocation. Its deadline, as the handler sizes it: the budget plus the reporting reserve.
    const reserve =
      mode === 'direct'
        ? callMs('cloudwatch') + 2 * callMs('dynamodb') + callMs('sns') + TIMING.slackMs
        : TIMING.slackMs;
    let started = performance.now();
    const summary = await runMonitor(env.config, [target], deps, { stack: name, budgetMs: TIMING.budgetMs });
    invocations.push({
      what: `${mode} probe`,
      elapsedMs: performance.now() - started,
      deadlineMs: TIMING.budgetMs + reserve,
    });

    // Log mode: the notifier's invocation, as handlers/notify.ts runs it; delivered twice (CloudWatch Logs
    // delivers at least once), except with the table down, where failing open pages on each delivery by design.
    if (mode === 'log') {
      const event = subscriptionEvent(probeOut.lines());
      const deliveries = dependency === 'dynamodb' ? 1 : 2;
      for (let delivery = 1; delivery <= deliveries; delivery++) {
        started = performance.now();
        const { records, findings } = decodeSubscriptionEvent(event);
        const processed: ProcessSummary = await processResults(records, alerts);
        for (const record of findings) await announceFindings(record, alerts);
        invocations.push({
          what: `notifier delivery ${delivery}`,
          elapsedMs: performance.now() - started,
          deadlineMs: records.length * (2 * callMs('dynamodb') + callMs('sns')) + TIMING.slackMs,
        });
        if (processed.records !== 1) problems.push(`notifier got ${processed.records} records, expected 1`);
      }
    }

    // The probe result.
    const objects = probeOut.objects();
    const records = objects.filter((o) => o.type === RESULT_RECORD_TYPE) as unknown as ResultRecord[];
    const result = records[0]?.result;
    let probe = 'no result';
    if (records.length !== 1 || !result) problems.push(`${records.length} result records, expected 1`);
    else {
      const step: StepName = dependency === 'git' ? 'git' : 'sts';
      const failure = result.steps[step].failure;
      probe = failure ? `${failure.kind}/${failure.phase}` : 'ok';
      const expected =
        dependency === 'sts' || dependency === 'git' ? fault.probe : { kind: 'refused', phase: 'connect' };
      if (probe !== `${expected.kind}/${expected.phase}`) {
        problems.push(
          `${step} step: ${probe} (${failure?.message ?? ''}), expected ${expected.kind}/${expected.phase}`,
        );
      }
      if (result.steps[step].durationMs > result.steps[step].deadlineMs + TIMING.slackMs) {
        problems.push(
          `${step} step took ${result.steps[step].durationMs} ms, deadline ${result.steps[step].deadlineMs}`,
        );
      }
      if (step === 'sts' && !result.steps.git.skipped) problems.push('git not skipped after sts failed');
      if (step === 'git' && !result.steps.sts.ok) {
        problems.push(`healthy sts failed: ${JSON.stringify(result.steps.sts.failure)}`);
      }
    }

    // Datapoints: handed over = stored + EMF. The stored count is read once, after all cells (see runMatrix).
    const produced = metrics.points.length;
    const emfCount = emfValueCount(objects);
    const failed = summary.metrics.failed;
    if (failed > 0) problems.push(`${failed} datapoint(s) counted failed: ${summary.metrics.reason}`);

    // The page: delivered through SNS (read back from SQS) or logged as undelivered, exactly once.
    const messages = (await env.mailbox.take(name)).filter((m) => m.MessageAttributes?.state?.Value !== 'FINDING');
    const alertLines = [...probeOut.objects(), ...notifierOut.objects()].filter(
      (o) =>
        o.type === 'codecommit-canary/undelivered-alert' &&
        (o.attributes as { target?: string } | undefined)?.target === name,
    );
    const facts = [
      ...messages.map((m) => JSON.parse(m.Message) as Record<string, unknown>),
      ...alertLines.map((o) => o.facts as Record<string, unknown>),
    ];
    const pages = facts.length;
    const failOpen = facts.filter((f) => f.failOpen).length;
    if (dependency === 'sns' && (alertLines.length !== 1 || messages.length !== 0)) {
      problems.push(`alert: ${messages.length} delivered, ${alertLines.length} logged; expected 0 and 1 (logged)`);
    }
    if (dependency !== 'sns' && (messages.length !== 1 || alertLines.length !== 0)) {
      problems.push(`alert: ${messages.length} delivered, ${alertLines.length} logged; expected 1 and 0`);
    }
    if (dependency === 'dynamodb' ? failOpen !== pages : failOpen !== 0) {
      problems.push(`${failOpen} of ${pages} alert(s) failed open`);
    }
    for (const page of facts) {
      const said = `${page.kind}/${page.phase}`;
      if (page.state !== 'ALARM' || said !== probe)
        problems.push(`the page says ${page.state} ${said}, the probe ${probe}`);
    }
    env.outputs.set(`${name}: probe stdout`, probeOut.text());
    env.outputs.set(`${name}: notifier stdout`, notifierOut.text());
    env.outputs.set(`${name}: alerts delivered`, JSON.stringify(messages));

    for (const invocation of invocations) {
      if (invocation.elapsedMs > invocation.deadlineMs) {
        problems.push(
          `${invocation.what} took ${Math.round(invocation.elapsedMs)} ms, deadline ${invocation.deadlineMs} ms`,
        );
      }
    }
    return {
      mode,
      target: name,
      probe,
      namespace,
      datapoints: { produced, stored: 0, emf: emfCount, failed, lost: 0 },
      alerts: {
        pages,
        delivered: messages.length,
        logged: alertLines.length,
        failOpen,
        lost: Math.max(0, 1 - pages),
        duplicates: Math.max(0, pages - 1),
      },
      invocations,
      problems,
    };
  } finally {
    cancel();
    broken?.destroy();
  }
}

function observedSummary(cell: Cell, runs: readonly RunOutcome[]): string {
  const first = runs[0];
  if (!first) return '—';
  switch (cell.dependency) {
    case 'sts':
    case 'git':
      return runs.every((r) => r.probe === first.probe) ? first.probe : runs.map((r) => r.probe).join(' | ');
    case 'cloudwatch':
      return runs.every((r) => r.datapoints.emf === r.datapoints.produced) ? 'EMF' : 'not EMF';
    case 'sns':
      return runs.every((r) => r.alerts.logged === 1 && r.alerts.delivered === 0) ? 'logged' : 'not logged';
    case 'dynamodb':
      return runs.every((r) => r.alerts.failOpen === 1) ? 'fail-open' : 'no fail-open';
  }
}

async function runCellRuns(env: MatrixEnv, cell: Cell): Promise<RunOutcome[]> {
  const runs: RunOutcome[] = [];
  for (const mode of modesOf(cell.dependency)) {
    try {
      runs.push(await runOnce(env, cell, mode));
    } catch (error) {
      runs.push({
        mode,
        target: `${cell.dependency}-${cell.fault.id}-${mode}`,
        namespace: '',
        probe: 'threw',
        datapoints: { produced: 0, stored: 0, emf: 0, failed: 0, lost: 0 },
        alerts: { pages: 0, delivered: 0, logged: 0, failOpen: 0, lost: 1, duplicates: 0 },
        invocations: [],
        problems: [`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`],
      });
    }
  }
  return runs;
}

function summarize(cell: Cell, runs: RunOutcome[]): CellOutcome {
  const problems = runs.flatMap((r) => r.problems.map((p) => `${r.mode}: ${p}`));
  return {
    ...cell,
    runs,
    observed: observedSummary(cell, runs),
    expected: expectedSummary(cell),
    asExpected: problems.length === 0,
    problems,
  };
}

export interface MatrixResult {
  cells: CellOutcome[];
  durationMs: number;
  /** Peak RSS of the process during the matrix, and its RSS before. */
  rss: { beforeMiB: number; peakMiB: number };
  totals: {
    cases: number;
    asExpected: number;
    runs: number;
    datapointsLost: number;
    alertsLost: number;
    duplicatePages: number;
    datapoints: number;
    pages: number;
    /** The largest elapsed/deadline of any invocation. */
    worstDeadlineShare: number;
  };
}

/** Runs the cells, `concurrency` at a time (each cell's runs use their own target names, tables rows, metrics). */
export async function runMatrix(
  env: MatrixEnv,
  options: { concurrency?: number; cells?: readonly Cell[]; onCell?: (cell: Cell) => void } = {},
): Promise<MatrixResult> {
  const cells = options.cells ?? CELLS;
  const started = performance.now();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const cellRuns = new Array<RunOutcome[]>(cells.length);
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const index = next++;
      cellRuns[index] = await runCellRuns(env, cells[index] as Cell);
      options.onCell?.(cells[index] as Cell);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 6, cells.length) }, worker));
  } finally {
    clearInterval(sampler);
  }
  // Moto applies PutMetricData before answering it: once every run has returned, its datapoints are in the store.
  const stored = await storedByNamespace(env);
  const outcomes = cells.map((cell, i) => {
    const runs = cellRuns[i] ?? [];
    for (const run of runs) if (run.namespace) settleDatapoints(cell, run, stored.get(run.namespace) ?? 0);
    return summarize(cell, runs);
  });
  const runs = outcomes.flatMap((c) => c.runs);
  const sum = (f: (r: RunOutcome) => number) => runs.reduce((n, r) => n + f(r), 0);
  const MiB = 1024 * 1024;
  return {
    cells: outcomes,
    durationMs: performance.now() - started,
    rss: { beforeMiB: Math.round(before / MiB), peakMiB: Math.round(Math.max(peak, process.memoryUsage().rss) / MiB) },
    totals: {
      cases: outcomes.length,
      asExpected: outcomes.filter((c) => c.asExpected).length,
      runs: runs.length,
      datapointsLost: sum((r) => r.datapoints.lost),
      alertsLost: sum((r) => r.alerts.lost),
      duplicatePages: sum((r) => r.alerts.duplicates),
      datapoints: sum((r) => r.datapoints.produced),
      pages: sum((r) => r.alerts.pages),
      worstDeadlineShare: Math.max(0, ...runs.flatMap((r) => r.invocations.map((i) => i.elapsedMs / i.deadlineMs))),
    },
  };
}

// ---- The table ----

const COLUMN_TITLES: Record<Dependency, string> = {
  sts: 'sts (probe)',
  git: 'git (probe)',
  cloudwatch: 'cloudwatch (direct)',
  sns: 'sns (alerts)',
  dynamodb: 'dynamodb (alerts)',
};

/** The matrix as a Markdown table (faults × dependencies), a legend, and the closing line. */
export function formatMatrix(result: MatrixResult): string {
  const cell = (dependency: Dependency, fault: Fault) => {
    const found = result.cells.find((c) => c.dependency === dependency && c.fault.id === fault.id);
    if (!found) return '';
    return found.asExpected ? `${found.observed} ✓` : `${found.observed} ✗ (expected ${found.expected})`;
  };
  const header = ['fault', ...DEPENDENCIES.map((d) => COLUMN_TITLES[d])];
  const rows = FAULTS.map((fault) => [fault.label, ...DEPENDENCIES.map((d) => cell(d, fault))]);
  const totals = [
    'as expected',
    ...DEPENDENCIES.map((d) => {
      const column = result.cells.filter((c) => c.dependency === d);
      return `${column.filter((c) => c.asExpected).length}/${column.length}`;
    }),
  ];
  const table = [header, ...rows, totals];
  const widths = header.map((_, i) => Math.max(...table.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) =>
    `| ${row.map((text, i) => text + ' '.repeat((widths[i] ?? 0) - [...text].length)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const t = result.totals;
  const problems = result.cells
    .filter((c) => !c.asExpected)
    .flatMap((c) => [`✗ ${cellName(c)}:`, ...c.problems.map((p) => `    ${p}`)]);
  return [
    line(header),
    rule,
    ...rows.map(line),
    rule,
    line(totals),
    '',
    'Each cell is checked in every delivery mode that uses the dependency (log and direct; cloudwatch: direct):',
    "sts/git: the failed step's kind/phase; cloudwatch: every datapoint written as EMF instead; sns: the page kept",
    'as a logged codecommit-canary/undelivered-alert line; dynamodb: the page sent failing open. In every cell: no',
    'datapoint lost (stored in CloudWatch or written as EMF), exactly one page (delivered or logged), every',
    'invocation back before its deadline.',
    '',
    ...(problems.length > 0 ? [...problems, ''] : []),
    `${t.runs} runs in ${(result.durationMs / 1000).toFixed(1)} s; ${t.datapoints} datapoints, ${t.pages} pages; ` +
      `slowest invocation ${Math.round(t.worstDeadlineShare * 100)}% of its deadline; ` +
      `peak RSS ${result.rss.peakMiB} MiB (${result.rss.beforeMiB} MiB before)`,
    `fault matrix: ${t.cases} cases, ${t.asExpected} as expected, ${t.datapointsLost} datapoints lost, ` +
      `${t.alertsLost} alerts lost, ${t.duplicatePages} duplicate pages`,
  ].join('\n');
}
