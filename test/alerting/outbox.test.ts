import { createServer, type Server, type Socket } from 'node:net';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertPlumbing, startAlertPlumbing } from '../../harness/alert-path.ts';
import { type Moto, startMoto } from '../../harness/moto.ts';
import { createTestPki, type TestPki } from '../../harness/sandbox.ts';
import {
  gitTlsTimeout,
  motoClientOptions,
  record,
  recordingLogger,
  type SnsEnvelope,
  targetResult,
} from '../../harness/sqs.ts';
import type { AlertSettings } from '../../lib/alerting/incident-policy.ts';
import { FINDINGS_ITEM_KEY, type NotifyDeps, notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import { createSnsClient, SnsAlertSink } from '../../lib/alerting/sinks.ts';
import { buildAlert } from '../../lib/alerting/text.ts';
import { createAlertTableClient, DynamoDbTable, MemoryTable } from '../../lib/alerting/versioned-table.ts';
import { freePort } from '../../lib/sandbox/listen.ts';
import type { Finding, FindingsRecord } from '../../lib/types.ts';

const SETTINGS: AlertSettings = { failuresBeforeAlert: 1, renotifyMinutes: 60 };
const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const TABLE = 'outbox-alerts-table';

const finding = (subject: string): Finding => ({
  code: 'global-sts-unreachable',
  severity: 'warning',
  subject,
  message: 'sts.amazonaws.com does not answer from this VPC',
  remediation: 'sts_regional_endpoints = regional',
});
const findingsRecord = (runId: string, at: Date, findings: Finding[]): FindingsRecord => ({
  type: 'codecommit-canary/findings',
  v: 1,
  runId,
  at: at.toISOString(),
  findings,
});

describe('owed notifications (the outbox) against moto_server', () => {
  let pki: TestPki;
  let moto: Moto;
  let plumbing: AlertPlumbing;
  let dynamodb: DynamoDBClient;
  let sns: SNSClient;
  let topicArn: string;

  beforeAll(async () => {
    pki = createTestPki();
    moto = await startMoto(pki);
    plumbing = await startAlertPlumbing(moto, pki, 'outbox-alerts');
    ({ dynamodb, sns, topicArn } = plumbing);
  });
  afterAll(async () => {
    plumbing?.destroy();
    await moto?.stop();
  });

  /** A notifier invocation's deps at a settable time; table and SNS clients replaceable to break them. */
  function notifier(options: { table?: DynamoDBClient; sns?: SNSClient; failOpenSent?: Map<string, number> } = {}) {
    const clock = { at: T0, now: () => clock.at };
    const logger = recordingLogger();
    const deps: NotifyDeps = {
      outbox: new Outbox(new DynamoDbTable(options.table ?? dynamodb, TABLE), { clock, leaseMs: 30_000 }),
      sink: new SnsAlertSink({ client: options.sns ?? sns, topicArn, logger }),
      logger,
      settings: SETTINGS,
      clock,
      ...(options.failOpenSent ? { failOpenSent: options.failOpenSent } : {}),
    };
    return { clock, logger, deps };
  }
  /** Messages on the queue for one target (other tests' targets are left alone: names are unique per test). */
  const pagesFor = async (target: string): Promise<SnsEnvelope[]> =>
    (await plumbing.drain()).filter((e) => e.MessageAttributes?.target?.Value === target);
  const item = async (key: string) =>
    (await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { target: { S: key } }, ConsistentRead: true })))
      .Item;

  it('records the ALARM as owed in the write that opens the incident, and settles it once SNS has it', async () => {
    // Prepare
    const n = notifier();
    // Act
    const summary = await notify([record('run-0', minutes(0), gitTlsTimeout('settled'))], [], n.deps);
    // Assess
    expect(summary).toMatchObject({ owed: 0, unrecorded: 0, deferred: 0 });
    expect((await pagesFor('settled')).map((e) => e.Subject)).toEqual([
      '[ALARM] settled: git ls-remote timed out in tls after 10.0 s',
    ]);
    const stored = await item('settled');
    expect(stored?.owed).toBeUndefined();
    expect(stored).toMatchObject({ status: { S: 'incident' }, version: { N: '2' }, lastRunId: { S: 'run-0' } });
  });

  it('re-sends a notification whose invocation died after the write, once its lease has passed', async () => {
    // Prepare: an invocation that wrote the incident (ALARM owed, leased to it) and died before publishing
    const dead = notifier();
    const failed = record('run-0', minutes(0), gitTlsTimeout('crashed'));
    const alert = buildAlert(
      {
        state: 'ALARM',
        target: 'crashed',
        dedupKey: 'crashed/x/ALARM/run-0',
        runId: 'run-0',
        at: failed.at,
        failingSince: failed.at,
        consecutiveFailures: 1,
        incidentOpenedAt: failed.at,
        failure: { step: 'git', kind: 'timeout', phase: 'tls' },
      },
      failed.result,
    );
    const written = await dead.deps.outbox.change('crashed', () => ({
      write: true,
      state: { status: 'incident' },
      alerts: [alert],
      result: null,
    }));
    expect(written.outcome).toBe('written');
    // Act: the next invocations, within the lease and after it, and one more after that
    const next = notifier();
    next.clock.at = new Date(T0.getTime() + 10_000);
    const withinLease = await notify([], [], next.deps);
    next.clock.at = new Date(T0.getTime() + 31_000);
    const afterLease = await notify([], [], next.deps);
    const again = await notify([], [], next.deps);
    // Assess
    expect(withinLease.notifications).toEqual([]);
    expect(afterLease.notifications).toEqual([
      expect.objectContaining({ dedupKey: 'crashed/x/ALARM/run-0', delivered: true, resent: true }),
    ]);
    expect(again.notifications).toEqual([]);
    const pages = await pagesFor('crashed');
    expect(pages.map((e) => e.MessageAttributes?.dedupKey?.Value)).toEqual(['crashed/x/ALARM/run-0']);
  });

  it('sends the RECOVERED that SNS refused at recovery once SNS is back, after the ALARM', async () => {
    // Prepare
    const refused = createSnsClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const up = notifier();
    const down = notifier({ sns: refused });
    await notify([record('run-0', minutes(0), gitTlsTimeout('recovery'))], [], up.deps);
    // Act: recovery while SNS refuses, then one more healthy run with SNS back
    down.clock.at = minutes(1);
    const atRecovery = await notify([record('run-1', minutes(1), targetResult('recovery'))], [], down.deps);
    refused.destroy();
    up.clock.at = minutes(2);
    const back = await notify([record('run-2', minutes(2), targetResult('recovery'))], [], up.deps);
    // Assess
    expect(atRecovery).toMatchObject({ owed: 1, notifications: [{ state: 'RECOVERED', delivered: false }] });
    expect(back).toMatchObject({ owed: 0, notifications: [{ state: 'RECOVERED', delivered: true, resent: true }] });
    expect((await pagesFor('recovery')).map((e) => e.MessageAttributes?.state?.Value)).toEqual(['ALARM', 'RECOVERED']);
  });

  it('leaves records for the retry when the invocation runs out of time, and applies them then', async () => {
    // Prepare
    const n = notifier();
    const records = [record('run-0', minutes(0), gitTlsTimeout('late-budget'))];
    // Act
    const starved = await notify(records, [], { ...n.deps, remainingMs: () => 5_000, reserveMs: 10_000 });
    const retried = await notify(records, [], { ...n.deps, remainingMs: () => 50_000, reserveMs: 10_000 });
    // Assess
    expect(starved).toMatchObject({ deferred: 1, notifications: [] });
    expect(retried).toMatchObject({ deferred: 0, notifications: [{ state: 'ALARM', delivered: true }] });
    expect(await pagesFor('late-budget')).toHaveLength(1);
  });

  it('fails open once per target per invocation, and once per renotify interval per container', async () => {
    // Prepare: the table's client points at a refused port; one container's memory across two invocations
    const refused = createAlertTableClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const memory = new Map<string, number>();
    const n = notifier({ table: refused, failOpenSent: memory });
    const samples = [0, 1, 2].map((i) => record(`run-${i}`, minutes(i), gitTlsTimeout('no-table-storm')));
    // Act
    const first = await notify(samples, [], n.deps);
    n.clock.at = minutes(5);
    const second = await notify([record('run-5', minutes(5), gitTlsTimeout('no-table-storm'))], [], n.deps);
    refused.destroy();
    // Assess
    expect(first.notifications).toEqual([
      expect.objectContaining({
        state: 'ALARM',
        failOpen: true,
        delivered: true,
        dedupKey: 'no-table-storm/fail-open/ALARM/run-2',
      }),
    ]);
    expect(first.stateUnavailable).toBe(true);
    expect(second.notifications).toEqual([]);
    expect(await pagesFor('no-table-storm')).toHaveLength(1);
  });

  it('does not page the ALARM again when the table is back after this container paged failing open', async () => {
    // Prepare: one container (its fail-open memory) whose table refuses for one run, then answers
    const refused = createAlertTableClient({
      ...motoClientOptions(moto, pki),
      endpoint: `https://127.0.0.1:${await freePort()}`,
    });
    const memory = new Map<string, number>();
    const down = notifier({ table: refused, failOpenSent: memory });
    const up = notifier({ failOpenSent: memory });
    // Act
    const outage = await notify([record('run-0', minutes(0), gitTlsTimeout('table-back'))], [], down.deps);
    refused.destroy();
    up.clock.at = minutes(1);
    const back = await notify([record('run-1', minutes(1), gitTlsTimeout('table-back'))], [], up.deps);
    const whileBack = await item('table-back');
    up.clock.at = minutes(2);
    const recovered = await notify([record('run-2', minutes(2), targetResult('table-back'))], [], up.deps);
    // Assess: one ALARM (failing open), the incident open in the table without a second one, one RECOVERED
    expect(outage.notifications).toEqual([expect.objectContaining({ state: 'ALARM', failOpen: true })]);
    expect(back.notifications).toEqual([]);
    expect(whileBack?.status).toEqual({ S: 'incident' });
    expect(recovered.notifications).toEqual([expect.objectContaining({ state: 'RECOVERED', delivered: true })]);
    expect((await pagesFor('table-back')).map((e) => e.MessageAttributes?.state?.Value)).toEqual([
      'ALARM',
      'RECOVERED',
    ]);
  });

  it('fails open within its deadline when the table hangs', async () => {
    // Prepare: accepts connections and never answers
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hanging = createAlertTableClient({
      ...motoClientOptions(moto, pki, 5000),
      endpoint: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    });
    const n = notifier({ table: hanging });
    n.deps.outbox = new Outbox(new DynamoDbTable(hanging, TABLE), { clock: n.clock, deadlineMs: 500 });
    // Act
    const started = performance.now();
    const summary = await notify([record('run-0', minutes(0), gitTlsTimeout('hanging-table'))], [], n.deps);
    const elapsed = performance.now() - started;
    hanging.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    // Assess
    expect(summary.notifications).toEqual([expect.objectContaining({ state: 'ALARM', failOpen: true })]);
    expect(elapsed).toBeLessThan(2500);
    expect(await pagesFor('hanging-table')).toHaveLength(1);
  });

  it('announces a finding once and its clearing once through repeated and racing runs', async () => {
    // Prepare: a fresh findings item; three notifier containers
    await dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { target: { S: FINDINGS_ITEM_KEY }, version: { N: '1' } } }),
    );
    const [a, b, c] = [notifier(), notifier(), notifier()];
    const present = [0, 1, 2].map((i) => findingsRecord(`f-${i}`, minutes(i), [finding('sts.amazonaws.com')]));
    const gone = [3, 4].map((i) => findingsRecord(`f-${i}`, minutes(i), []));
    // Act: the same records re-delivered, and racing invocations
    await Promise.all([notify([], present, a.deps), notify([], present, b.deps), notify([], present.slice(1), c.deps)]);
    await notify([], present, a.deps);
    await Promise.all([notify([], gone, b.deps), notify([], gone, c.deps), notify([], gone.slice(0, 1), a.deps)]);
    // Assess
    const pages = (await plumbing.drain()).filter((e) => e.MessageAttributes?.kind?.Value === 'global-sts-unreachable');
    expect(pages.map((e) => e.MessageAttributes?.state?.Value)).toEqual(['FINDING', 'CLEARED']);
    expect((await item(FINDINGS_ITEM_KEY))?.owed).toBeUndefined();
  });

  it('reads incident and findings items written before the outbox existed', async () => {
    // Prepare: the old formats (findings as JSON text, nulls left out)
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          target: { S: 'legacy' },
          version: { N: '7' },
          status: { S: 'incident' },
          consecutiveFailures: { N: '3' },
          lastRunId: { S: 'old-run' },
          lastAt: { S: minutes(0).toISOString() },
          failingSince: { S: minutes(-2).toISOString() },
          incidentOpenedAt: { S: minutes(-1).toISOString() },
          lastNotifiedAt: { S: minutes(-1).toISOString() },
          lastNotification: { S: 'ALARM' },
          lastFailure: { M: { step: { S: 'git' }, kind: { S: 'timeout' }, phase: { S: 'tls' } } },
          updatedAt: { S: minutes(0).toISOString() },
        },
      }),
    );
    const n = notifier();
    n.clock.at = minutes(1);
    // Act
    const summary = await notify([record('run-1', minutes(1), targetResult('legacy'))], [], n.deps);
    // Assess: the open incident closes with one RECOVERED that knows when it started
    expect(summary.notifications).toEqual([expect.objectContaining({ state: 'RECOVERED', delivered: true })]);
    const [recovered] = await pagesFor('legacy');
    expect(recovered?.Subject).toBe('[OK] legacy: recovered after 3 min');
  });
});

describe('MemoryTable', () => {
  it('keeps the same contract: a write at a stale version is refused', async () => {
    const table = new MemoryTable();
    const first = await table.read('t');
    expect(await table.write(first, { state: { a: 1 }, owed: [] })).toBe(true);
    expect(await table.write(first, { state: { a: 2 }, owed: [] })).toBe(false);
    expect(await table.read('t')).toEqual({ key: 't', version: 1, state: { a: 1 }, owed: [] });
  });
});
