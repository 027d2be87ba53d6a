/**
 * The fault matrix's world: the sandbox (moto for STS, CloudWatch, SNS, SQS, DynamoDB; the CodeCommit server
 * wrapping `git http-backend`), the misbehaving endpoints of lib/sandbox/fault-servers.ts, the topic with one SQS
 * queue subscribed (where a page counts as delivered), and a table per run. The clients of a broken dependency:
 * clients.ts.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request } from 'node:https';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSnsClient } from '../../lib/alerting/sinks.ts';
import { createAlertTableClient } from '../../lib/alerting/versioned-table.ts';
import { parseConfig } from '../../lib/config/config.ts';
import { createMetricsClient } from '../../lib/metrics/sinks.ts';
import type { Resolve } from '../../lib/net/resolve.ts';
import { serversResolve } from '../../lib/net/resolve.ts';
import type { MonitorConfig } from '../../lib/run/monitor.ts';
import type { ProbeDeps } from '../../lib/run/probe.ts';
import { startAwsStandIns } from '../../lib/sandbox/aws-stand-ins.ts';
import { type DnsServer, startDnsServer } from '../../lib/sandbox/dns.ts';
import {
  type FaultEndpoint,
  type FaultMode,
  faultServer,
  NETWORK_FAULTS,
  startFault,
} from '../../lib/sandbox/fault-servers.ts';
import { listenOnLoopback } from '../../lib/sandbox/listen.ts';
import { stsErrorXml } from '../../lib/sandbox/sts-xml.ts';
import { createAlertTable } from '../alert-path.ts';
import { FAKE_SOURCE_CREDENTIALS } from '../moto.ts';
import { CAPTURED_REPOSITORY } from '../repos.ts';
import { type Sandbox, startSandbox } from '../sandbox.ts';
import { credentialSecrets, motoSecrets, type Secret } from '../secrets.ts';
import { createSqsClient, motoClientOptions, type SnsEnvelope, subscribeQueue, TEST_REGION } from '../sqs.ts';
import { ALERT_SETTINGS, ANSWER_LOST, TIMING } from './matrix.ts';

const STEP_CAP_BYTES = 256 * 1024;
export const SILENT_HOST = 'silent.canary.test';
const NXDOMAIN_HOST = 'nxdomain.canary.test';

export interface MatrixEnv {
  sandbox: Sandbox;
  /** A DNS server that never answers (the "DNS no answer" fault). */
  silentDns: DnsServer;
  /** The endpoint URL of each fault (and of the answer-losing SNS). */
  endpoints: Record<string, string>;
  /** Waits until every Publish the answer-losing server forwarded has been answered by moto (and so delivered). */
  answerLost: { settled(): Promise<void>; forwarded(): number };
  probe: ProbeDeps;
  /**
   * Where a target that must probe healthy goes: the in-process STS and CodeCommit stand-ins of lib/sandbox
   * (same wire formats, SigV4 and CodeCommit's password checked). The sandbox's `git http-backend` looks every password up
   * in moto's state dump, which the matrix's own traffic makes slow enough to fail now and then (HTTP 500): a
   * healthy target must not fail for the test's sake.
   */
  healthyTarget: { stsEndpoint: string; gitEndpoint: string };
  /** The config of a run, with `samplesPerRun` samples (1 s apart, slept through instantly). */
  config(samples: number): MonitorConfig;
  topicArn: string;
  healthy: { sns: SNSClient; dynamodb: DynamoDBClient; cloudwatch: CloudWatchClient };
  mailbox: Mailbox;
  /** A fresh alert table (partition key `target`, S) for one run of a cell. */
  table(): Promise<{ name: string }>;
  /** The alert states an item of a table still owes (its `owed` map, as lib/alerting/versioned-table.ts stores it). */
  owedStates(tableName: string, key: string): Promise<string[]>;
  /** Every output a cell produced, for the secret scan. */
  outputs: Map<string, string>;
  secrets(): Promise<Secret[]>;
  stop(): Promise<void>;
}

async function startFaultEndpoints(
  sandbox: Sandbox,
): Promise<{ urls: Record<string, string>; stops: FaultEndpoint[] }> {
  const server = (mode: FaultMode) => faultServer(sandbox.pki, mode);
  const throttling = stsErrorXml('Sender', 'Throttling', 'Rate exceeded');
  const started: Record<string, Promise<FaultEndpoint>> = {
    ...Object.fromEntries(NETWORK_FAULTS.map((fault) => [fault, startFault(fault, sandbox.pki)])),
    'http-403': server({ status: 403, body: 'denied' }),
    'http-404': server({ status: 404, body: 'not found' }),
    throttled: server({ status: 429, body: throttling, headers: { 'content-type': 'text/xml' } }),
    'http-503': server({ status: 503, body: 'service unavailable' }),
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
 * SNS that takes the message and loses the answer: each request is forwarded to moto (which publishes, and so
 * delivers to the queue) and moto's answer is dropped, so the caller times out not knowing that SNS has it —
 * the ambiguous timeout after which a re-send carries the same dedupKey.
 */
async function answerLosingSns(
  sandbox: Sandbox,
): Promise<FaultEndpoint & { settled(): Promise<void>; forwarded(): number }> {
  const ca = readFileSync(sandbox.pki.caFile);
  const upstream = new URL(sandbox.moto.url);
  const inFlight = new Set<Promise<void>>();
  let forwarded = 0;
  const handle = (req: IncomingMessage, _res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      forwarded++;
      const done = new Promise<void>((resolve) => {
        const out = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
            ca,
            agent: false,
          },
          (answer) => {
            answer.resume(); // read and dropped: the caller never hears of it
            answer.on('end', () => resolve());
            answer.on('error', () => resolve());
          },
        );
        out.on('error', () => resolve());
        out.end(Buffer.concat(chunks));
      });
      inFlight.add(done);
      void done.then(() => inFlight.delete(done));
    });
  };
  const server = createHttpsServer({ key: sandbox.pki.keyPem, cert: sandbox.pki.certPem }, handle);
  return {
    ...(await listenOnLoopback(server)),
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    forwarded: () => forwarded,
  };
}

/**
 * SNS messages read back from one queue subscribed to the topic, filed by their `target` attribute. Moto delivers
 * to SQS during Publish, so once a run has returned its messages are in the queue. Runs take their messages
 * concurrently: one drain at a time, and a take that arrives while a drain is waiting to start joins it.
 */
export class Mailbox {
  readonly #byTarget = new Map<string, SnsEnvelope[]>();
  #running: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async #drain(): Promise<void> {
    for (;;) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const envelope = JSON.parse(message.Body ?? '{}') as SnsEnvelope;
        const key = envelope.MessageAttributes?.target?.Value ?? 'none';
        this.#byTarget.set(key, [...(this.#byTarget.get(key) ?? []), envelope]);
      }
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }

  /** Every message for `target` now in the queue (and not taken before). */
  async take(target: string): Promise<SnsEnvelope[]> {
    if (!this.#queued) {
      const queued = this.#running.then(() => {
        this.#queued = null;
        return this.#drain();
      });
      this.#queued = queued;
      this.#running = queued.catch(() => {});
    }
    await this.#queued;
    const taken = this.#byTarget.get(target) ?? [];
    this.#byTarget.delete(target);
    return taken;
  }
}

export async function startMatrixEnv(): Promise<MatrixEnv> {
  const sandbox = await startSandbox();
  const silentDns = await startDnsServer({});
  silentDns.faults.fault = 'hang';
  const { urls, stops } = await startFaultEndpoints(sandbox);
  const answerLost = await answerLosingSns(sandbox);
  const healthy = await startAwsStandIns({
    tls: sandbox.pki,
    region: TEST_REGION,
    sources: [FAKE_SOURCE_CREDENTIALS],
    repositories: [CAPTURED_REPOSITORY],
  });
  const issued: Secret[] = [];
  urls[ANSWER_LOST] = answerLost.url;
  const sandboxResolve = sandbox.deps.resolve;
  const silentResolve = serversResolve([silentDns.server]);
  const resolve: Resolve = (host, signal) =>
    host === SILENT_HOST ? silentResolve(host, signal) : sandboxResolve(host, signal);

  const healthyOptions = motoClientOptions(sandbox.moto, sandbox.pki, TIMING.healthyAttemptMs);
  const sns = createSnsClient(healthyOptions);
  const dynamodb = createAlertTableClient(healthyOptions);
  const cloudwatch = createMetricsClient(healthyOptions);
  const sqs = createSqsClient(healthyOptions);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'matrix-alerts' }))).TopicArn as string;
  const queueUrl = await subscribeQueue(sns, sqs, topicArn, 'matrix-oncall');

  const configs = new Map<number, MonitorConfig>();
  const config = (samples: number): MonitorConfig => {
    let found = configs.get(samples);
    if (!found) {
      found = parseConfig({
        region: TEST_REGION,
        // The global-STS and endpoint-name checks are test/diagnosis.test.ts's; here they would only add findings.
        checks: { globalSts: false, path: false },
        metrics: { namespace: 'CanaryMatrix', detail: 'phases' },
        alerts: ALERT_SETTINGS,
        schedule: { samplesPerRun: samples, intervalSeconds: 1 },
        targets: [
          { name: 'placeholder', repository: 'test_repo', roleArn: 'arn:aws:iam::111111111111:role/SwitchRole' },
        ],
      });
      configs.set(samples, found);
    }
    return found;
  };
  let tables = 0;
  const outputs = new Map<string, string>();
  return {
    sandbox,
    silentDns,
    endpoints: urls,
    answerLost,
    probe: { ...sandbox.deps, resolve, maxAdvertisementBytes: STEP_CAP_BYTES },
    healthyTarget: { stsEndpoint: healthy.sts.url, gitEndpoint: healthy.git.url },
    config,
    topicArn,
    healthy: { sns, dynamodb, cloudwatch },
    mailbox: new Mailbox(sqs, queueUrl),
    async table() {
      const name = `matrix-alerts-${++tables}`;
      await createAlertTable(dynamodb, name);
      return { name };
    },
    async owedStates(tableName, key) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: { target: { S: key } }, ConsistentRead: true }),
      );
      const owed = Item?.owed?.M ?? {};
      return Object.values(owed).map((entry) => {
        const alert = JSON.parse(entry.M?.alert?.S ?? '{}') as { attributes?: { state?: string } };
        return alert.attributes?.state ?? '?';
      });
    },
    outputs,
    async secrets() {
      issued.push(...credentialSecrets(healthy.credentials.takeIssued()));
      return [...(await motoSecrets(sandbox.moto)), ...issued];
    },
    async stop() {
      for (const client of [sns, dynamodb, cloudwatch, sqs]) client.destroy();
      await Promise.allSettled([...stops.map((s) => s.stop()), answerLost.stop(), healthy.stop(), silentDns.stop()]);
      await sandbox.stop();
    },
  };
}
