import { createServer, type Server, type Socket } from 'node:net';
import { CreateTableCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertSettings,
  createIncidentTableClient,
  type Decision,
  DynamoDbIncidentStore,
  decide,
  failOpenDecision,
  type IncidentState,
  MemoryIncidentStore,
  type Notification,
} from '../lib/incidents.ts';
import { jsonLogger } from '../lib/log.ts';
import type { ResultRecord } from '../lib/types.ts';
import { freePort, type Moto, startMoto } from './support/moto.ts';
import { createTestPki, type TestPki } from './support/pki.ts';
import {
  gitTlsTimeout,
  motoClientOptions,
  record,
  recordingLogger,
  stsConnectTimeout,
  targetResult,
} from './support/sqs.ts';

const SETTINGS: AlertSettings = { failuresBeforeAlert: 2, renotifyMinutes: 60 };
const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** Runs records through `decide` one per minute, as the notifier would; returns the notifications. */
function run(records: ResultRecord[], settings = SETTINGS) {
  let state: IncidentState | null = null;
  const decisions: Decision[] = [];
  for (const r of records) {
    const decision = decide(state, r, settings, new Date(r.at));
    decisions.push(decision);
    if (decision.action === 'write') state = decision.state;
  }
  const notifications = decisions.flatMap((d) => (d.action === 'write' && d.notification ? [d.notification] : []));
  return { state, decisions, notifications };
}

const failing = (from: number, count: number, name = 'team-repo') =>
  Array.from({ length: count }, (_, i) => record(`run-${from + i}`, minutes(from + i), gitTlsTimeout(name)));
const healthy = (at: number, name = 'team-repo') => record(`run-${at}`, minutes(at), targetResult(name));

describe('decide (the incident policy)', () => {
  it('sends nothing for healthy runs', () => {
    const { notifications, state } = run([healthy(0), healthy(1)]);
    expect(notifications).toEqual([]);
    expect(state).toMatchObject({ status: 'ok', consecutiveFailures: 0, version: 2, lastRunId: 'run-1' });
  });

  it('sends nothing for one failure below the threshold', () => {
    const { notifications, state } = run(failing(0, 1));
    expect(notifications).toEqual([]);
    expect(state).toMatchObject({ status: 'failing', consecutiveFailures: 1, failingSince: minutes(0).toISOString() });
  });

  it('opens the incident with one ALARM on the threshold-th consecutive failure', () => {
    const { notifications, state } = run(failing(0, 3));
    expect(notifications).toEqual<Notification[]>([
      {
        state: 'ALARM',
        target: 'team-repo',
        runId: 'run-1',
        at: minutes(1).toISOString(),
        failingSince: minutes(0).toISOString(),
        consecutiveFailures: 2,
        incidentOpenedAt: minutes(1).toISOString(),
        failure: { step: 'git', kind: 'timeout', phase: 'tls' },
      },
    ]);
    expect(state).toMatchObject({ status: 'incident', consecutiveFailures: 3, lastNotification: 'ALARM' });
  });

  it('opens at the first failure when failuresBeforeAlert is 1', () => {
    const { notifications } = run(failing(0, 1), { failuresBeforeAlert: 1, renotifyMinutes: 60 });
    expect(notifications.map((n) => n.state)).toEqual(['ALARM']);
  });

  it('does not count failures before a healthy run', () => {
    const { notifications } = run([...failing(0, 1), healthy(1), ...failing(2, 1), healthy(3)]);
    expect(notifications).toEqual([]);
  });

  it('reminds once per renotify interval, timed on the clock', () => {
    // Failing from minute 0 to 150: ALARM at 1, REMINDER at 61 and 121.
    const { notifications } = run(failing(0, 151));
    expect(notifications.map((n) => [n.state, n.runId, n.consecutiveFailures])).toEqual([
      ['ALARM', 'run-1', 2],
      ['REMINDER', 'run-61', 62],
      ['REMINDER', 'run-121', 122],
    ]);
  });

  it('reminds on the processing clock, so a backlog delivered at once pages once', () => {
    let state: IncidentState | null = null;
    const states: string[] = [];
    for (const r of failing(0, 150)) {
      const d = decide(state, r, SETTINGS, minutes(150));
      if (d.action === 'write') {
        state = d.state;
        if (d.notification) states.push(d.notification.state);
      }
    }
    expect(states).toEqual(['ALARM']);
  });

  it('never reminds when renotifyMinutes is 0', () => {
    const { notifications } = run(failing(0, 200), { failuresBeforeAlert: 2, renotifyMinutes: 0 });
    expect(notifications.map((n) => n.state)).toEqual(['ALARM']);
  });

  it('closes the incident with exactly one RECOVERED that names the last failure', () => {
    const { notifications, state } = run([...failing(0, 12), healthy(12), healthy(13)]);
    expect(notifications.map((n) => n.state)).toEqual(['ALARM', 'RECOVERED']);
    expect(notifications[1]).toMatchObject({
      runId: 'run-12',
      failingSince: minutes(0).toISOString(),
      consecutiveFailures: 12,
      failure: { step: 'git', kind: 'timeout', phase: 'tls' },
    });
    expect(state).toMatchObject({ status: 'ok', failingSince: null, incidentOpenedAt: null });
  });

  it('opens a new incident after a recovery', () => {
    const { notifications } = run([...failing(0, 2), healthy(2), ...failing(3, 2)]);
    expect(notifications.map((n) => `${n.state}@${n.runId}`)).toEqual([
      'ALARM@run-1',
      'RECOVERED@run-2',
      'ALARM@run-4',
    ]);
  });

  it('takes the failure from the step that failed', () => {
    const { notifications } = run([
      record('a', minutes(0), stsConnectTimeout()),
      record('b', minutes(1), stsConnectTimeout()),
    ]);
    expect(notifications[0]?.failure).toEqual({ step: 'sts', kind: 'timeout', phase: 'connect' });
  });

  it('ignores the same record again, older records, and records without a time', () => {
    const [first, second] = failing(0, 2) as [ResultRecord, ResultRecord];
    const after = run([first, second]).state;
    expect(decide(after, second, SETTINGS, minutes(5))).toEqual({ action: 'ignore', reason: 'duplicate' });
    expect(decide(after, first, SETTINGS, minutes(5))).toEqual({ action: 'ignore', reason: 'stale' });
    expect(decide(after, { ...second, at: 'yesterday' }, SETTINGS, minutes(5))).toEqual({
      action: 'ignore',
      reason: 'invalid',
    });
  });

  it('orders records of the same time by run id', () => {
    const at = minutes(0);
    const { decisions } = run([record('run-b', at, gitTlsTimeout()), record('run-a', at, gitTlsTimeout())]);
    expect(decisions[1]).toEqual({ action: 'ignore', reason: 'stale' });
  });

  it('fails open: a failed result is alerted with the reason, a good one is not', () => {
    const reason = 'incident table t unreachable: Error: connect ECONNREFUSED 127.0.0.1:1';
    expect(failOpenDecision(record('r', T0, gitTlsTimeout()), reason)).toMatchObject({
      state: 'ALARM',
      failOpen: reason,
      failingSince: null,
      failure: { step: 'git', kind: 'timeout', phase: 'tls' },
    });
    expect(failOpenDecision(record('r', T0, targetResult()), reason)).toBeNull();
  });
});

describe('MemoryIncidentStore', () => {
  it('applies the same policy in memory', async () => {
    let now = minutes(0);
    const store = new MemoryIncidentStore(SETTINGS, { now: () => now });
    const outcomes = [];
    for (const r of [...failing(0, 2), healthy(2)]) {
      now = new Date(r.at);
      outcomes.push((await store.apply(r)).notification?.state ?? null);
    }
    expect(outcomes).toEqual([null, 'ALARM', 'RECOVERED']);
    expect((await store.apply(healthy(2))).notification).toBeNull();
  });
});

describe('jsonLogger', () => {
  it('writes one JSON object per line, type first', () => {
    const lines: string[] = [];
    jsonLogger({ write: (line: string) => lines.push(line) }).error('boom', {
      type: 'codecommit-canary/x',
      target: 't',
    });
    expect(lines).toEqual(['{"type":"codecommit-canary/x","level":"error","message":"boom","target":"t"}\n']);
  });
});

describe('DynamoDbIncidentStore against moto_server', () => {
  let pki: TestPki;
  let moto: Moto;
  let client: DynamoDBClient;
  const TABLE = 'canary-incidents';

  beforeAll(async () => {
    pki = createTestPki();
    moto = await startMoto(pki);
    client = createIncidentTableClient(motoClientOptions(moto, pki));
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'target', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'target', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  const storeAt = (clock: () => Date, logger = recordingLogger()) =>
    new DynamoDbIncidentStore({ client, tableName: TABLE, settings: SETTINGS, clock: { now: clock }, logger });

  it('opens, reminds and closes an incident through conditional writes', async () => {
    // Prepare
    let now = minutes(0);
    const store = storeAt(() => now);
    const target = 'lifecycle';
    const sequence = [
      healthy(0, target),
      ...failing(1, 2, target), // ALARM at 2
      ...failing(3, 30, target), // nothing
      record('late', minutes(63), gitTlsTimeout(target)), // REMINDER (61 min after the ALARM)
      healthy(64, target), // RECOVERED
    ];
    // Act
    const states: (string | null)[] = [];
    for (const r of sequence) {
      now = new Date(r.at);
      states.push((await store.apply(r)).notification?.state ?? null);
    }
    // Assess
    expect(states.filter((s) => s !== null)).toEqual(['ALARM', 'REMINDER', 'RECOVERED']);
    expect(states.indexOf('ALARM')).toBe(2);
    const { Item } = await client.send(new GetItemCommand({ TableName: TABLE, Key: { target: { S: target } } }));
    expect(Item).toEqual({
      target: { S: target },
      version: { N: String(sequence.length) },
      status: { S: 'ok' },
      consecutiveFailures: { N: '0' },
      lastRunId: { S: 'run-64' },
      lastAt: { S: minutes(64).toISOString() },
      lastNotifiedAt: { S: minutes(64).toISOString() },
      lastNotification: { S: 'RECOVERED' },
      lastFailure: { M: { step: { S: 'git' }, kind: { S: 'timeout' }, phase: { S: 'tls' } } },
      updatedAt: { S: minutes(64).toISOString() },
    });
  });

  it('pages once when the same records are applied twice', async () => {
    const store = storeAt(() => minutes(10));
    const records = failing(0, 3, 'redelivered');
    const first = [];
    for (const r of records) first.push(await store.apply(r));
    const again = [];
    for (const r of records) again.push(await store.apply(r));
    expect(first.map((o) => o.notification?.state ?? null)).toEqual([null, 'ALARM', null]);
    expect(again.map((o) => o.outcome)).toEqual(['stale', 'stale', 'duplicate']);
  });

  it('pages once when two invocations apply the same records concurrently', async () => {
    const records = failing(0, 4, 'concurrent');
    const invocation = async () => {
      const store = storeAt(() => minutes(10));
      const sent: Notification[] = [];
      for (const r of records) {
        const { notification } = await store.apply(r);
        if (notification) sent.push(notification);
      }
      return sent;
    };
    const [a, b] = await Promise.all([invocation(), invocation()]);
    expect([...a, ...b].map((n) => n.state)).toEqual(['ALARM']);
  });

  it('does nothing when it loses the claim to another invocation for the same record', async () => {
    // Prepare: invocation A reads the state, then waits until invocation B has applied the same record.
    const [r0, r1] = failing(0, 2, 'claimed') as [ResultRecord, ResultRecord];
    await storeAt(() => minutes(1)).apply(r0);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let paused = false;
    const gated = {
      async send(command: unknown, options: unknown) {
        const output = await client.send(command as GetItemCommand, options as { abortSignal: AbortSignal });
        if (command instanceof GetItemCommand && !paused) {
          paused = true;
          await gate;
        }
        return output;
      },
    } as unknown as DynamoDBClient;
    const logger = recordingLogger();
    const a = new DynamoDbIncidentStore({
      client: gated,
      tableName: TABLE,
      settings: SETTINGS,
      clock: { now: () => minutes(1) },
      logger,
    });
    // Act
    const pendingA = a.apply(r1);
    while (!paused) await new Promise((resolve) => setTimeout(resolve, 5));
    const b = await storeAt(() => minutes(1)).apply(r1);
    release();
    const outcomeA = await pendingA;
    // Assess
    expect(b.notification?.state).toBe('ALARM');
    expect(outcomeA).toEqual({ outcome: 'duplicate', notification: null });
    expect(logger.entries.map((e) => e.message)).toEqual([
      'incident state changed concurrently; deciding again',
      'result record ignored: duplicate',
    ]);
  });

  it('does not regress on an older record delivered late', async () => {
    const store = storeAt(() => minutes(10));
    const [older, newer] = [healthy(0, 'late-delivery'), record('run-1', minutes(1), gitTlsTimeout('late-delivery'))];
    await store.apply(newer);
    expect(await store.apply(older)).toEqual({ outcome: 'stale', notification: null });
    expect(await store.read('late-delivery')).toMatchObject({ status: 'failing', lastRunId: 'run-1' });
  });

  it('fails open when the table is unreachable: the failure is alerted and the reason logged', async () => {
    // Prepare: a port on 127.0.0.1 where nothing listens
    const refused = `https://127.0.0.1:${await freePort()}`;
    const unreachable = createIncidentTableClient({ ...motoClientOptions(moto, pki), endpoint: refused });
    const logger = recordingLogger();
    const store = new DynamoDbIncidentStore({
      client: unreachable,
      tableName: TABLE,
      settings: SETTINGS,
      clock: { now: () => minutes(0) },
      logger,
    });
    // Act
    const failed = await store.apply(record('r1', minutes(0), gitTlsTimeout('unreachable')));
    const ok = await store.apply(healthy(1, 'unreachable'));
    unreachable.destroy();
    // Assess
    expect(failed).toMatchObject({ outcome: 'fail-open', notification: { state: 'ALARM', target: 'unreachable' } });
    expect(failed.notification?.failOpen).toMatch(/incident table canary-incidents unreachable: .*ECONNREFUSED/);
    expect(ok).toMatchObject({ outcome: 'fail-open', notification: null });
    expect(logger.entries.map((e) => [e.level, e.fields.type, e.fields.decision])).toEqual([
      ['error', 'codecommit-canary/incident-fail-open', 'send the alert without incident state'],
      ['error', 'codecommit-canary/incident-fail-open', 'no alert (the result is ok)'],
    ]);
  });

  it('fails open within its deadline when the table hangs', async () => {
    // Prepare: accepts connections and never answers
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const hanging = createIncidentTableClient({
      ...motoClientOptions(moto, pki, 5000),
      endpoint: `https://127.0.0.1:${port}`,
    });
    const store = new DynamoDbIncidentStore({
      client: hanging,
      tableName: TABLE,
      settings: SETTINGS,
      clock: { now: () => minutes(0) },
      logger: recordingLogger(),
      deadlineMs: 500,
    });
    // Act
    const started = performance.now();
    const outcome = await store.apply(record('r1', minutes(0), gitTlsTimeout('hanging')));
    const elapsed = performance.now() - started;
    hanging.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'fail-open', notification: { state: 'ALARM' } });
    expect(elapsed).toBeLessThan(2000);
  });
});
