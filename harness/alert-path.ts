/**
 * The alert path as tests build it: the notifier's deps over a table in memory or in moto's DynamoDB, the
 * table itself, and the subscription hop with the stack's log group, account and a Lambda log stream.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AlertSettings } from '../lib/alerting/incident-policy.ts';
import type { NotifyDeps } from '../lib/alerting/notify.ts';
import { Outbox } from '../lib/alerting/outbox.ts';
import { type AlertSink, createSnsClient } from '../lib/alerting/sinks.ts';
import { createAlertTableClient, DynamoDbTable, MemoryTable } from '../lib/alerting/versioned-table.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import {
  type AwsLogsEvent,
  type DecodedRecords,
  decodeSubscriptionEvent,
  encodeSubscriptionEvent,
  probeLogGroupName,
} from '../lib/metrics/log-records.ts';
import type { Moto } from './moto.ts';
import type { TestPki } from './sandbox.ts';
import { createSqsClient, drainQueue, motoClientOptions, type SnsEnvelope, subscribeQueue } from './sqs.ts';

export const TEST_ACCOUNT = '111111111111';
export const TEST_STACK = 'canary-test';
/** Where the stack's probe logs: the only source the notifier accepts. */
export const TEST_LOG_SOURCE = {
  owner: TEST_ACCOUNT,
  logGroup: probeLogGroupName(TEST_STACK),
  logStream: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
} as const;

/** Creates the stack's alert table (partition key `target`, S). */
export async function createAlertTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    // Callers name each table once; "in use" is the SDK retrying a CreateTable moto served late (a loaded machine).
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
}

export interface AlertPathOptions {
  sink: AlertSink;
  logger: Logger;
  settings?: AlertSettings;
  clock?: Pick<Clock, 'now'>;
  /** Moto's DynamoDB; in memory when absent. */
  table?: { client: DynamoDBClient; tableName: string };
}

/** The notifier's deps, as lib/run/lambda-env.ts builds them for the stack, with test parts. */
export function alertPath(options: AlertPathOptions): NotifyDeps {
  const clock = options.clock ?? { now: () => new Date() };
  const table = options.table ? new DynamoDbTable(options.table.client, options.table.tableName) : new MemoryTable();
  return {
    outbox: new Outbox(table, { clock }),
    sink: options.sink,
    logger: options.logger,
    settings: options.settings ?? { failuresBeforeAlert: 2, renotifyMinutes: 60 },
    clock,
    failOpenSent: new Map(),
  };
}

/** What the stack's subscription delivers of the probe's stdout. */
export const testSubscriptionEvent = (lines: readonly string[] | string): AwsLogsEvent =>
  encodeSubscriptionEvent(typeof lines === 'string' ? lines.split('\n') : lines, TEST_LOG_SOURCE);

/** The notifier's decoding, expecting the test stack's probe log group and account. */
export const decodeTestEvent = (event: AwsLogsEvent): DecodedRecords =>
  decodeSubscriptionEvent(event, { logGroup: TEST_LOG_SOURCE.logGroup, account: TEST_ACCOUNT });

export interface AlertPlumbing {
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  sqs: SQSClient;
  tableName: string;
  topicArn: string;
  /** A queue subscribed to the topic (SNS envelopes, RawMessageDelivery off). */
  queueUrl: string;
  /** Everything on the queue now, emptied as read. */
  drain(): Promise<SnsEnvelope[]>;
  destroy(): void;
}

/** On moto: the stack's table, its topic and an on-call queue subscribed to it, all named after `name`. */
export async function startAlertPlumbing(moto: Moto, pki: TestPki, name: string): Promise<AlertPlumbing> {
  const options = motoClientOptions(moto, pki);
  const dynamodb = createAlertTableClient(options);
  const sns = createSnsClient(options);
  const sqs = createSqsClient(options);
  const tableName = `${name}-table`;
  await createAlertTable(dynamodb, tableName);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn ?? '';
  const queueUrl = await subscribeQueue(sns, sqs, topicArn, `${name}-oncall`);
  return {
    dynamodb,
    sns,
    sqs,
    tableName,
    topicArn,
    queueUrl,
    drain: () => drainQueue(sqs, queueUrl),
    destroy() {
      for (const client of [dynamodb, sns, sqs]) client.destroy();
    },
  };
}
