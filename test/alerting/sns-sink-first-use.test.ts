import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../../harness/moto.ts';
import { createTestPki, type TestPki } from '../../harness/sandbox.ts';
import { motoClientOptions } from '../../harness/sqs.ts';
import { createSnsClient, SnsAlertSink } from '../../lib/alerting/sinks.ts';
import type { AnyAlert } from '../../lib/alerting/text.ts';
import { jsonLogger } from '../../lib/log.ts';

/**
 * The stack's SNS sink builds its client on the first publish (lib/run/alert-path.ts): most notifier invocations
 * send nothing, and the client costs the cold start several milliseconds to build.
 */

let pki: TestPki;
let moto: Moto;
let topicArn: string;
const built: SNSClient[] = [];

beforeAll(async () => {
  pki = createTestPki();
  moto = await startMoto(pki);
  const admin = createSnsClient(motoClientOptions(moto, pki));
  topicArn = (await admin.send(new CreateTopicCommand({ Name: 'first-use' }))).TopicArn ?? '';
  admin.destroy();
});
afterAll(async () => {
  for (const client of built) client.destroy();
  await moto?.stop();
});

const finding = (dedupKey: string): AnyAlert => {
  const text = 'The regional STS endpoint answers, but the global one does not.';
  return {
    dedupKey,
    subject: '[FINDING] global-sts-unreachable',
    text,
    facts: {
      type: 'codecommit-canary/finding',
      finding: {
        code: 'global-sts-unreachable',
        severity: 'warning',
        subject: 'https://sts.amazonaws.com',
        message: text,
        remediation: 'set sts_regional_endpoints = regional',
      },
      state: 'FINDING',
      dedupKey,
      runId: 'run-1',
      at: '2026-11-29T07:20:00.000Z',
      text,
    },
    attributes: {
      target: 'none',
      step: 'none',
      kind: 'none',
      state: 'FINDING',
      dedupKey,
      severity: 'warning',
    },
  };
};

describe('SnsAlertSink with a client built on first use', () => {
  it('builds no client until it sends, then one client for every send', async () => {
    // Prepare
    const sink = new SnsAlertSink({
      client: () => {
        const client = createSnsClient(motoClientOptions(moto, pki));
        built.push(client);
        return client;
      },
      topicArn,
      logger: jsonLogger({ write: () => true }),
    });
    const before = built.length;
    // Act
    const deliveries = [await sink.send(finding('first-use/1')), await sink.send(finding('first-use/2'))];
    // Assess
    expect(before).toBe(0);
    expect(built).toHaveLength(1);
    expect(deliveries).toEqual([
      { delivered: true, messageId: expect.any(String) },
      { delivered: true, messageId: expect.any(String) },
    ]);
  });
});
