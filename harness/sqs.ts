/**
 * Reading SNS alerts back through an SQS queue on moto_server, and TargetResult fixtures for alert tests.
 */
import { readFileSync } from 'node:fs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type BoundedClientOptions, boundedClientConfig } from '../lib/net/aws-clients.ts';
import type { PkiFiles } from '../lib/sandbox/pki.ts';
import type { GitStepResult, Phases, ResultRecord, StsStepResult, TargetResult } from '../lib/types.ts';
import { zeroPhases } from '../lib/types.ts';
import { FAKE_SOURCE_CREDENTIALS, type Moto } from './moto.ts';

export const TEST_REGION = 'us-east-1';

/** Client options for moto: loopback endpoint, the test CA, fake credentials. */
export const motoClientOptions = (moto: Moto, pki: PkiFiles, timeoutMs = 2000): BoundedClientOptions => ({
  region: TEST_REGION,
  endpoint: moto.url,
  ca: readFileSync(pki.caFile),
  credentials: FAKE_SOURCE_CREDENTIALS,
  timeoutMs,
});

/** The SNS envelope an SQS subscriber receives when RawMessageDelivery is off. */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

export const createSqsClient = (options: BoundedClientOptions): SQSClient =>
  new SQSClient(boundedClientConfig(options));

/** Creates a queue and subscribes it to the topic (RawMessageDelivery false: the SNS envelope arrives). */
export async function subscribeQueue(sns: SNSClient, sqs: SQSClient, topicArn: string, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'false' },
    }),
  );
  return QueueUrl;
}

/** Every message now in the queue (moto delivers during Publish), deleted as read. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<SnsEnvelope[]> {
  const envelopes: SnsEnvelope[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages || Messages.length === 0) return envelopes;
    for (const message of Messages) {
      envelopes.push(JSON.parse(message.Body ?? '{}') as SnsEnvelope);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

// ---- Fixtures ----

const ROLE_ARN = 'arn:aws:iam::111122223333:role/canary-reader';

/** A step that succeeded through private addresses in `durationMs` of its deadline, resolving in 2 ms and connecting in 3. */
const okStep = (
  endpoint: string,
  addresses: string[],
  [durationMs, deadlineMs]: [number, number],
  phases: Pick<Phases, 'tlsMs' | 'firstByteMs' | 'transferMs'>,
) => ({
  ok: true,
  endpoint,
  addresses,
  private: true,
  durationMs,
  deadlineMs,
  phases: { ...zeroPhases(), dnsMs: 2, connectMs: 3, ...phases },
  failure: null,
});

/** A healthy result of target `name`; `options` override fields of either step. */
export function targetResult(
  name = 'team-repo',
  options: { sts?: Partial<StsStepResult>; git?: Partial<GitStepResult> } = {},
): TargetResult {
  const sts: StsStepResult = {
    ...okStep(`https://sts.${TEST_REGION}.amazonaws.com`, ['10.0.1.10', '10.0.2.10'], [180, 5000], {
      tlsMs: 20,
      firstByteMs: 150,
      transferMs: 1,
    }),
    accountId: '111122223333',
    ...options.sts,
  };
  const git: GitStepResult = {
    ...okStep(
      `https://git-codecommit.${TEST_REGION}.amazonaws.com/v1/repos/${name}`,
      ['10.0.1.20', '10.0.2.20'],
      [420, 10_000],
      { tlsMs: 25, firstByteMs: 380, transferMs: 4 },
    ),
    refs: 3,
    head: 'refs/heads/main',
    headSha: '5f1c0a4c2f7e1d9b8a6c3e2d1f0a9b8c7d6e5f4a',
    ...options.git,
  };
  return {
    name,
    ok: sts.ok && git.ok,
    repository: name,
    region: TEST_REGION,
    roleArn: ROLE_ARN,
    steps: { sts, git },
  };
}

/** git ls-remote hung in the TLS handshake until its 10 s deadline. */
export const gitTlsTimeout = (name = 'team-repo'): TargetResult =>
  targetResult(name, {
    git: {
      ok: false,
      durationMs: 10_000,
      phases: { ...zeroPhases(), dnsMs: 2, connectMs: 3, tlsMs: 9995 },
      failure: {
        kind: 'timeout',
        phase: 'tls',
        message: 'TLS handshake with git-codecommit.us-east-1.amazonaws.com did not finish within 10000 ms',
      },
      refs: 0,
      head: null,
      headSha: null,
    },
  });

/** AssumeRole hung connecting (security group), git skipped. */
export const stsConnectTimeout = (name = 'team-repo'): TargetResult => {
  const result = targetResult(name, {
    sts: {
      ok: false,
      durationMs: 5000,
      phases: { ...zeroPhases(), dnsMs: 2, connectMs: 4998 },
      failure: { kind: 'timeout', phase: 'connect', message: 'connect to 10.0.1.10:443 did not finish within 5000 ms' },
    },
    git: { ok: false, skipped: true, durationMs: 0, addresses: [], refs: 0, head: null, headSha: null },
  });
  delete result.steps.sts.accountId;
  return result;
};

export const record = (runId: string, at: Date | string, result: TargetResult): ResultRecord => ({
  type: 'codecommit-canary/result',
  v: 1,
  runId,
  at: typeof at === 'string' ? at : at.toISOString(),
  result,
});

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A Logger that keeps what it is given. */
export function recordingLogger(): { entries: LogEntry[]; info: LogFn; warn: LogFn; error: LogFn } {
  const entries: LogEntry[] = [];
  const log =
    (level: LogEntry['level']): LogFn =>
    (message, fields = {}) => {
      entries.push({ level, message, fields });
    };
  return { entries, info: log('info'), warn: log('warn'), error: log('error') };
}
type LogFn = (message: string, fields?: Record<string, unknown>) => void;
