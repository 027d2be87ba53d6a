import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertPlumbing, startAlertPlumbing } from '../../harness/alert-path.ts';
import { FAKE_SOURCE_CREDENTIALS, type Moto, startMoto } from '../../harness/moto.ts';
import { createTestPki, type TestPki } from '../../harness/sandbox.ts';
import {
  drainQueue,
  gitTlsTimeout,
  motoClientOptions,
  record,
  recordingLogger,
  type SnsEnvelope,
  stsConnectTimeout,
  targetResult,
} from '../../harness/sqs.ts';
import type { AlertSettings, Notification } from '../../lib/alerting/incident-policy.ts';
import { notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import { ConsoleAlertSink, createSnsClient, SnsAlertSink } from '../../lib/alerting/sinks.ts';
import {
  type AlertFacts,
  buildAlert,
  describeFailure,
  formatDuration,
  redact,
  sanitizeSubject,
  snsMessage,
} from '../../lib/alerting/text.ts';
import { createAlertTableClient, DynamoDbTable } from '../../lib/alerting/versioned-table.ts';
import { boundedClientConfig } from '../../lib/net/aws-clients.ts';
import { freePort } from '../../lib/sandbox/listen.ts';
import type { ResultRecord, TargetResult } from '../../lib/types.ts';

const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  state: 'ALARM',
  target: 'team-repo',
  dedupKey: `team-repo/${minutes(2).toISOString()}/ALARM/run-2`,
  runId: 'run-2',
  at: minutes(2).toISOString(),
  failingSince: minutes(1).toISOString(),
  consecutiveFailures: 2,
  incidentOpenedAt: minutes(2).toISOString(),
  failure: { step: 'git', kind: 'timeout', phase: 'tls' },
  ...overrides,
});

/** The SNS attributes of a page about team-repo's git timeout. */
const gitTimeoutAttributes = (state: string, dedupKey: string) => ({
  target: 'team-repo',
  step: 'git',
  kind: 'timeout',
  state,
  dedupKey,
  severity: 'critical',
});

/** Strings that would mean a credential leaked into an alert or a log line. */
const SECRET_MARKERS = [
  FAKE_SOURCE_CREDENTIALS.secretAccessKey,
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN',
  'SecretAccessKey',
  'SessionToken',
  'password',
];
const expectNoSecrets = (text: string) => {
  for (const marker of SECRET_MARKERS) expect(text.toLowerCase()).not.toContain(marker.toLowerCase());
};

describe('buildAlert', () => {
  it('writes the ALARM subject, text and attributes a person and a filter need', () => {
    const alert = buildAlert(notification(), gitTlsTimeout());
    expect(alert.subject).toBe('[ALARM] team-repo: git ls-remote timed out in tls after 10.0 s');
    expect(alert.attributes).toEqual(
      gitTimeoutAttributes('ALARM', `team-repo/${minutes(2).toISOString()}/ALARM/run-2`),
    );
    expect(alert.text).toBe(
      [
        'ALARM: team-repo: git ls-remote timed out in tls after 10.0 s',
        '',
        'Target:        team-repo',
        'Repository:    team-repo',
        'Account/role:  111122223333 / arn:aws:iam::111122223333:role/canary-reader',
        'Region:        us-east-1',
        'Step:          git ls-remote (sts AssumeRole ok in 180 ms)',
        'Failure:       timeout in tls: TLS handshake with git-codecommit.us-east-1.amazonaws.com did not finish within 10000 ms',
        'Elapsed:       10.0 s of 10.0 s deadline',
        'Endpoint:      https://git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo',
        'Addresses:     10.0.1.20, 10.0.2.20 (private)',
        'Failing since: 2026-11-27T06:01:00.000Z (2 failed runs, 1 min)',
        `Remediation:   ${alert.facts.remediation}`,
        'Run id:        run-2',
        '',
      ].join('\n'),
    );
    expect(alert.facts.remediation).toContain('com.amazonaws.us-east-1.git-codecommit');
  });

  it('says an STS failure is in AssumeRole, with the account taken from the role ARN', () => {
    const alert = buildAlert(notification({ failure: { step: 'sts', kind: 'timeout', phase: 'connect' } }), {
      ...stsConnectTimeout(),
      steps: { ...stsConnectTimeout().steps },
    });
    expect(alert.subject).toBe('[ALARM] team-repo: sts AssumeRole timed out in connect after 5.0 s');
    expect(alert.facts).toMatchObject({ accountId: '111122223333', step: 'sts', elapsedMs: 5000, deadlineMs: 5000 });
    expect(alert.text).toContain('Step:          sts AssumeRole\n');
    expect(alert.text).toContain('Remediation:   The connection to sts.us-east-1.amazonaws.com hangs');
  });

  it('reminds with how long the incident lasts', () => {
    const alert = buildAlert(
      notification({ state: 'REMINDER', at: minutes(62).toISOString(), consecutiveFailures: 62 }),
      gitTlsTimeout(),
    );
    expect(alert.subject).toBe(
      '[REMINDER] team-repo: still failing after 61 min: git ls-remote timed out in tls after 10.0 s',
    );
    expect(alert.attributes.state).toBe('REMINDER');
  });

  it('closes with [OK] and how long it failed, routed like the alarm', () => {
    const alert = buildAlert(
      notification({ state: 'RECOVERED', at: minutes(13).toISOString(), consecutiveFailures: 12 }),
      targetResult(),
    );
    expect(alert.subject).toBe('[OK] team-repo: recovered after 12 min');
    expect(alert.attributes).toEqual(gitTimeoutAttributes('RECOVERED', notification().dedupKey));
    expect(alert.text).toContain('Was:           git ls-remote: timeout in tls\n');
    expect(alert.text).toContain('Now:           sts AssumeRole 180 ms, git ls-remote 420 ms (3 refs)\n');
    expect(alert.text).toContain('Recovered at:  2026-11-27T06:13:00.000Z\n');
    expect(alert.facts.remediation).toBeNull();
  });

  it('says when it was sent without incident state', () => {
    const alert = buildAlert(
      notification({ failOpen: 'incident table t unreachable: Error: timeout', failingSince: null }),
      gitTlsTimeout(),
    );
    expect(alert.text).toContain('NOTE: incident state unavailable (incident table t unreachable: Error: timeout)');
    expect(alert.text).toContain('Failing since: unknown (incident state unavailable)');
    expect(alert.facts.failOpen).toBe('incident table t unreachable: Error: timeout');
  });

  it('shows public addresses as such', () => {
    const result = gitTlsTimeout();
    result.steps.git.addresses = ['52.94.0.10'];
    result.steps.git.private = false;
    expect(buildAlert(notification(), result).text).toContain(
      'Addresses:     52.94.0.10 (public: not through an interface endpoint)',
    );
  });

  it("never calls a dual-stack interface endpoint's global IPv6 address public", () => {
    const result = gitTlsTimeout();
    result.steps.git.addresses = ['10.0.1.20', '2600:1f18:4a3:6a00::10'];
    result.steps.git.private = false;
    expect(buildAlert(notification(), result).text).toContain(
      "Addresses:     10.0.1.20, 2600:1f18:4a3:6a00::10 (unknown: global IPv6, private only inside the VPC's IPv6 CIDR)",
    );
    result.steps.git.addresses = ['52.94.0.10', '2600:1f18:4a3:6a00::10'];
    expect(buildAlert(notification(), result).text).toContain('(public: not through an interface endpoint)');
  });

  it('keeps credential-looking strings out of the subject, text and facts', () => {
    const result = gitTlsTimeout();
    result.steps.git.failure = {
      kind: 'auth',
      phase: 'response',
      status: 403,
      message: `denied for ASIAFAKE%IQoJb3JpZ2luX2VjEFAKESESSIONTOKEN0123456789abcdefABCDEF with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
    };
    result.steps.git.endpoint = 'https://user:hunter2@git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo';
    const alert = buildAlert(notification(), result);
    const everything = `${alert.subject}\n${snsMessage(alert)}`;
    expectNoSecrets(everything);
    expect(everything).not.toContain('hunter2');
    expect(alert.facts.message).toBe('denied for ASIAFAKE%[redacted] with [redacted]');
  });
});

describe('subjects', () => {
  it('are at most 100 printable ASCII characters on one line', () => {
    const long = buildAlert(notification(), gitTlsTimeout(`t-${'x'.repeat(150)}`)).subject;
    expect(long).toHaveLength(100);
    expect(long.endsWith('...')).toBe(true);
    expect(sanitizeSubject('[ALARM] dépôt\n\tchaîne: 超时')).toBe('[ALARM] d?p?t cha?ne: ??');
    for (const subject of [long, sanitizeSubject('x\u0000y\u007f'.repeat(80))]) {
      expect(subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    }
  });

  it('describe every failure kind in a few words', () => {
    const result = gitTlsTimeout();
    const say = (kind: (typeof result.steps.git.failure & object)['kind'], status?: number) =>
      describeFailure('git', {
        ...result.steps.git,
        durationMs: 1234,
        failure: { kind, phase: 'response', message: 'm', ...(status ? { status } : {}) },
      });
    expect([
      say('timeout'),
      say('dns'),
      say('refused'),
      say('reset'),
      say('tls'),
      say('auth', 403),
      say('not-found', 404),
      say('throttled', 429),
      say('http', 503),
      say('protocol'),
    ]).toEqual([
      'git ls-remote timed out in response after 1.2 s',
      'git ls-remote DNS lookup failed after 1.2 s',
      'git ls-remote connection refused after 1.2 s',
      'git ls-remote connection reset in response after 1.2 s',
      'git ls-remote TLS handshake failed after 1.2 s',
      'git ls-remote access denied (HTTP 403)',
      'git ls-remote not found (HTTP 404)',
      'git ls-remote throttled (HTTP 429)',
      'git ls-remote failed (HTTP 503)',
      'git ls-remote unexpected response in response',
    ]);
  });

  it('round durations for people', () => {
    expect([formatDuration(45_000), formatDuration(12 * 60_000), formatDuration(185 * 60_000)]).toEqual([
      '45 s',
      '12 min',
      '3 h 5 min',
    ]);
    expect(redact('https://a:b@host/x')).toBe('https://[redacted]@host/x');
  });
});

describe('snsMessage', () => {
  it('gives people the text and machines the JSON facts', () => {
    const alert = buildAlert(notification(), gitTlsTimeout());
    const message = JSON.parse(snsMessage(alert)) as Record<string, string>;
    expect(message.default).toBe(alert.text);
    expect(message.email).toBe(alert.text);
    expect(message.sms).toBe(alert.subject);
    for (const protocol of ['sqs', 'lambda', 'http', 'https', 'email-json', 'firehose']) {
      expect(JSON.parse(message[protocol] ?? '')).toEqual(alert.facts);
    }
  });
});

describe('ConsoleAlertSink', () => {
  it('prints the subject and the text', async () => {
    let printed = '';
    const alert = buildAlert(notification(), gitTlsTimeout());
    const writer = { write: (text: string) => (printed += text) };
    expect(await new ConsoleAlertSink(writer).send(alert)).toEqual({ delivered: true });
    expect(printed).toBe(`\n=== ${alert.subject} ===\n${alert.text}`);
  });
});

describe('alerts end to end against moto_server (DynamoDB, SNS, SQS)', () => {
  const SETTINGS: AlertSettings = { failuresBeforeAlert: 2, renotifyMinutes: 60 };
  const TABLE = 'canary-alerts-table';
  let pki: TestPki;
  let moto: Moto;
  let plumbing: AlertPlumbing;
  let dynamodb: DynamoDBClient;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  let queueUrl: string;
  let alarmsOnlyQueueUrl: string;

  beforeAll(async () => {
    pki = createTestPki();
    moto = await startMoto(pki);
    plumbing = await startAlertPlumbing(moto, pki, 'canary-alerts');
    ({ dynamodb, sns, sqs, topicArn, queueUrl } = plumbing);
    // A subscriber that filters on the message attributes: only openings of incidents.
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'alarms-only' }));
    alarmsOnlyQueueUrl = QueueUrl ?? '';
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: alarmsOnlyQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { FilterPolicy: JSON.stringify({ state: ['ALARM'] }) },
      }),
    );
  });
  afterAll(async () => {
    plumbing?.destroy();
    await moto?.stop();
  });

  /** A notifier with an injected clock, its log recorded. */
  function notifier(options: { dynamodb?: DynamoDBClient; sns?: SNSClient } = {}) {
    const state = { now: T0 };
    const logger = recordingLogger();
    const clock = { now: () => state.now };
    const deps = {
      outbox: new Outbox(new DynamoDbTable(options.dynamodb ?? dynamodb, TABLE), { clock }),
      sink: new SnsAlertSink({ client: options.sns ?? sns, topicArn, logger }),
      logger,
      settings: SETTINGS,
      clock,
    };
    return {
      state,
      logger,
      /** One probe run at minute `at`: the clock is set to it, the records processed. */
      async run(at: number, ...results: TargetResult[]) {
        state.now = minutes(at);
        return notify(
          results.map((result) => record(`run-${at}`, minutes(at), result)),
          [],
          deps,
        );
      },
      process: (records: ResultRecord[]) => notify(records, [], deps),
    };
  }

  const received = async () => {
    const envelopes = await drainQueue(sqs, queueUrl);
    for (const envelope of envelopes) expectNoSecrets(JSON.stringify(envelope));
    return envelopes;
  };
  const factsOf = (envelope: SnsEnvelope) => JSON.parse(envelope.Message) as AlertFacts;
  const attributesOf = (envelope: SnsEnvelope) =>
    Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]));

  it('pages once per incident: ALARM at the threshold, one REMINDER per interval, one RECOVERED', async () => {
    // Prepare
    const n = notifier();
    const target = 'team-repo';
    // Act + Assess, run by run
    await n.run(0, targetResult(target), targetResult('other-repo'));
    expect(await received()).toEqual([]);

    await n.run(1, gitTlsTimeout(target), targetResult('other-repo'));
    expect(await received()).toEqual([]);

    const second = await n.run(2, gitTlsTimeout(target), targetResult('other-repo'));
    expect(second.notifications).toEqual([
      expect.objectContaining({ target, state: 'ALARM', delivered: true, failOpen: false }),
    ]);
    const [alarm, ...more] = await received();
    expect(more).toEqual([]);
    expect(alarm?.Subject).toBe('[ALARM] team-repo: git ls-remote timed out in tls after 10.0 s');
    expect(attributesOf(alarm as SnsEnvelope)).toEqual({
      target,
      step: 'git',
      kind: 'timeout',
      state: 'ALARM',
      dedupKey: expect.stringMatching(new RegExp(`^${target}/.+/ALARM/run-2$`)),
      severity: 'critical',
    });
    expect(factsOf(alarm as SnsEnvelope)).toMatchObject({
      type: 'codecommit-canary/alert',
      state: 'ALARM',
      target,
      repository: target,
      region: 'us-east-1',
      accountId: '111122223333',
      roleArn: 'arn:aws:iam::111122223333:role/canary-reader',
      step: 'git',
      kind: 'timeout',
      phase: 'tls',
      elapsedMs: 10_000,
      deadlineMs: 10_000,
      endpoint: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/team-repo',
      addresses: ['10.0.1.20', '10.0.2.20'],
      private: true,
      failingSince: minutes(1).toISOString(),
      consecutiveFailures: 2,
      runId: 'run-2',
    });
    const text = factsOf(alarm as SnsEnvelope).text;
    for (const line of [
      'Elapsed:       10.0 s of 10.0 s deadline',
      'Addresses:     10.0.1.20, 10.0.2.20 (private)',
      'Remediation:   TCP to git-codecommit.us-east-1.amazonaws.com connected but the TLS handshake got no answer',
      'Run id:        run-2',
    ]) {
      expect(text).toContain(line);
    }
    expect((await drainQueue(sqs, alarmsOnlyQueueUrl)).map((e) => e.Subject)).toEqual([alarm?.Subject]);

    await n.run(3, gitTlsTimeout(target));
    await n.run(30, gitTlsTimeout(target));
    await n.run(61, gitTlsTimeout(target)); // 59 min after the ALARM
    expect(await received()).toEqual([]);

    await n.run(62, gitTlsTimeout(target)); // 60 min after the ALARM
    await n.run(63, gitTlsTimeout(target));
    const reminders = await received();
    expect(reminders.map((e) => e.Subject)).toEqual([
      '[REMINDER] team-repo: still failing after 61 min: git ls-remote timed out in tls after 10.0 s',
    ]);
    expect(attributesOf(reminders[0] as SnsEnvelope).state).toBe('REMINDER');

    await n.run(73, targetResult(target));
    await n.run(74, targetResult(target));
    const recovered = await received();
    expect(recovered.map((e) => [e.Subject, attributesOf(e).state])).toEqual([
      ['[OK] team-repo: recovered after 72 min', 'RECOVERED'],
    ]);
    expect(factsOf(recovered[0] as SnsEnvelope)).toMatchObject({ failingSince: minutes(1).toISOString() });
    expect(await drainQueue(sqs, alarmsOnlyQueueUrl)).toEqual([]);
    expectNoSecrets(JSON.stringify(n.logger.entries));
  });

  it('pages once when the same records are processed twice', async () => {
    const n = notifier();
    const batch = [0, 1, 2].map((at) => record(`run-${at}`, minutes(at), gitTlsTimeout('redelivered')));
    n.state.now = minutes(2);
    await n.process(batch);
    await n.process(batch);
    await n.process([...batch].reverse());
    expect((await received()).map((e) => e.Subject)).toEqual([
      '[ALARM] redelivered: git ls-remote timed out in tls after 10.0 s',
    ]);
  });

  it('pages once when two processors handle the same records concurrently', async () => {
    const batch = [0, 1, 2, 3].map((at) => record(`run-${at}`, minutes(at), gitTlsTimeout('concurrent')));
    const [a, b] = [notifier(), notifier()];
    a.state.now = minutes(3);
    b.state.now = minutes(3);
    const summaries = await Promise.all([a.process(batch), b.process(batch)]);
    expect(summaries.flatMap((s) => s.notifications).map((x) => x.state)).toEqual(['ALARM']);
    expect((await received()).map((e) => e.Subject)).toEqual([
      '[ALARM] concurrent: git ls-remote timed out in tls after 10.0 s',
    ]);
  });

  it('still alerts when the incident table is unreachable, and logs why', async () => {
    // Prepare: the table's client points at a refused port on 127.0.0.1
    const unreachable = createAlertTableClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const n = notifier({ dynamodb: unreachable });
    // Act
    const summary = await n.run(0, stsConnectTimeout('no-table'));
    unreachable.destroy();
    // Assess
    expect(summary.notifications).toEqual([
      expect.objectContaining({ target: 'no-table', state: 'ALARM', delivered: true, failOpen: true }),
    ]);
    const [alert, ...more] = await received();
    expect(more).toEqual([]);
    expect(alert?.Subject).toBe('[ALARM] no-table: sts AssumeRole timed out in connect after 5.0 s');
    expect(factsOf(alert as SnsEnvelope).failOpen).toMatch(/^incident state unavailable: .*ECONNREFUSED/);
    expect(factsOf(alert as SnsEnvelope).text).toContain('NOTE: incident state unavailable');
    const failOpen = n.logger.entries.find((e) => e.fields.type === 'codecommit-canary/incident-fail-open');
    expect(failOpen).toMatchObject({
      level: 'error',
      fields: { target: 'no-table', decision: 'one alert without incident state' },
    });
    expect(failOpen?.fields.reason).toMatch(/ECONNREFUSED/);
  });

  it('tells a refusal of this message from SNS being unavailable', async () => {
    // Prepare: a topic that does not exist (SNS answers 404) and a refused port (no answer)
    const logger = recordingLogger();
    const missingTopic = new SnsAlertSink({ client: sns, topicArn: `${topicArn}-gone`, logger });
    const refused = createSnsClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const noAnswer = new SnsAlertSink({ client: refused, topicArn, logger });
    const alert = buildAlert(notification(), gitTlsTimeout());
    // Act
    const [refusal, outage] = [await missingTopic.send(alert), await noAnswer.send(alert)];
    refused.destroy();
    // Assess
    expect(refusal).toMatchObject({ delivered: false, transient: false, reason: expect.stringMatching(/NotFound/) });
    expect(outage).toMatchObject({ delivered: false, transient: true, reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('gives up on Publish at its deadline even when the credentials never resolve', async () => {
    // Prepare: the SDK's abortSignal does not cover credential resolution; the sink's deadline must
    const hung = new SNSClient({
      ...boundedClientConfig(motoClientOptions(moto, pki)),
      credentials: () => new Promise<never>(() => {}),
    });
    const logger = recordingLogger();
    const sink = new SnsAlertSink({ client: hung, topicArn, logger, deadlineMs: 300 });
    // Act
    const started = performance.now();
    const delivery = await sink.send(buildAlert(notification(), gitTlsTimeout()));
    const elapsed = performance.now() - started;
    hung.destroy();
    // Assess
    expect(delivery).toMatchObject({ delivered: false, reason: expect.stringMatching(/TimeoutError/) });
    expect(elapsed).toBeLessThan(1000);
  });

  it('keeps an ALARM owed while SNS refuses it and sends it, once, when SNS is back', async () => {
    // Prepare: the same table, SNS's client pointing at a refused port on 127.0.0.1
    const unreachable = createSnsClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const down = notifier({ sns: unreachable });
    const up = notifier();
    // Act: the incident opens while SNS refuses, stays open for two more runs, then SNS is back
    const opened = [await down.run(0, gitTlsTimeout('no-sns')), await down.run(1, gitTlsTimeout('no-sns'))];
    const stillDown = await down.run(2, gitTlsTimeout('no-sns'));
    unreachable.destroy();
    const whileDown = await received();
    up.state.now = minutes(3);
    const back = await up.run(3, gitTlsTimeout('no-sns'));
    // Assess
    expect(opened[1]?.notifications).toEqual([expect.objectContaining({ state: 'ALARM', delivered: false })]);
    expect(opened[1]?.owed).toBe(1);
    expect(stillDown.notifications).toEqual([
      expect.objectContaining({ state: 'ALARM', delivered: false, resent: true }),
    ]);
    expect(whileDown).toEqual([]);
    expect(back.notifications).toEqual([expect.objectContaining({ state: 'ALARM', delivered: true, resent: true })]);
    expect(back.owed).toBe(0);
    const [alarm, ...more] = await received();
    expect(more).toEqual([]);
    expect(alarm?.Subject).toBe('[ALARM] no-sns: git ls-remote timed out in tls after 10.0 s');
    expect(attributesOf(alarm as SnsEnvelope).dedupKey).toBe(`no-sns/${minutes(1).toISOString()}/ALARM/run-1`);
    expect(factsOf(alarm as SnsEnvelope).dedupKey).toBe(attributesOf(alarm as SnsEnvelope).dedupKey);
    expect(down.logger.entries.filter((e) => e.fields.type === 'codecommit-canary/alert-owed')).toHaveLength(2);
  });
});
