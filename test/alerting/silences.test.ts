import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertPlumbing, startAlertPlumbing } from '../../harness/alert-path.ts';
import { type Moto, startMoto } from '../../harness/moto.ts';
import { createTestPki, type TestPki } from '../../harness/sandbox.ts';
import { gitTlsTimeout, record, recordingLogger, type SnsEnvelope, targetResult } from '../../harness/sqs.ts';
import { HISTORY_PREFIX, SILENCE_LOG_PREFIX } from '../../lib/alerting/history.ts';
import {
  type AlertSettings,
  decide,
  type IncidentState,
  type Notification,
} from '../../lib/alerting/incident-policy.ts';
import { notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import { SilenceStore } from '../../lib/alerting/silence-store.ts';
import {
  type ActiveMute,
  activeMute,
  type MaintenanceWindow,
  parseCron,
  parseDuration,
  windowCovering,
} from '../../lib/alerting/silences.ts';
import { SnsAlertSink } from '../../lib/alerting/sinks.ts';
import { DynamoDbTable } from '../../lib/alerting/versioned-table.ts';
import type { ResultRecord } from '../../lib/types.ts';

const SETTINGS: AlertSettings = { failuresBeforeAlert: 2, renotifyMinutes: 60 };
const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const iso = (n: number) => minutes(n).toISOString();
const MUTE: ActiveMute = { kind: 'silence', reason: 'endpoint swap', by: 'arn:aws:iam::1:user/ana', until: iso(30) };

const failing = (at: number, name = 'team-repo') => record(`run-${at}`, minutes(at), gitTlsTimeout(name));
const healthy = (at: number, name = 'team-repo') => record(`run-${at}`, minutes(at), targetResult(name));

/** Runs records through `decide`, muted when `muted(minute)` says so; returns the notifications and last state. */
function run(records: ResultRecord[], muted: (at: Date) => ActiveMute | null) {
  let state: IncidentState | null = null;
  const notifications: Notification[] = [];
  for (const r of records) {
    const decision = decide(state, r, SETTINGS, new Date(r.at), muted(new Date(r.at)));
    if (decision.action !== 'write') continue;
    state = decision.state;
    if (decision.notification) notifications.push(decision.notification);
  }
  return { state, notifications };
}

describe('durations, cron and windows', () => {
  it('reads durations and refuses what is not one', () => {
    expect([parseDuration('2h'), parseDuration('90m'), parseDuration('1h30m'), parseDuration('1d')]).toEqual([
      7_200_000, 5_400_000, 5_400_000, 86_400_000,
    ]);
    expect([parseDuration('soon'), parseDuration('0h'), parseDuration('2 h'), parseDuration('')]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });

  it('matches 5-field cron in UTC with names, ranges and steps', () => {
    expect(parseCron('0 2 * * SUN')).not.toBeNull();
    expect(parseCron('*/15 1-3 1,15 JAN-MAR MON-FRI')).not.toBeNull();
    expect([parseCron('0 2 * *'), parseCron('60 2 * * *'), parseCron('0 2 * * FUNDAY')]).toEqual([null, null, null]);
    // 2026-11-29 is a Sunday.
    const sundayWindow: MaintenanceWindow = { targets: ['*'], cron: '0 2 * * SUN', duration: '2h', reason: 'patching' };
    expect(windowCovering(sundayWindow, new Date('2026-11-29T02:00:00Z'))).toEqual({
      until: '2026-11-29T04:00:00.000Z',
    });
    expect(windowCovering(sundayWindow, new Date('2026-11-29T03:59:59Z'))).toEqual({
      until: '2026-11-29T04:00:00.000Z',
    });
    expect(windowCovering(sundayWindow, new Date('2026-11-29T04:00:00Z'))).toBeNull();
    expect(windowCovering(sundayWindow, new Date('2026-11-30T02:30:00Z'))).toBeNull();
  });

  it('names the mute that lasts longest, for the target or for all', () => {
    const windows: MaintenanceWindow[] = [
      { targets: ['other'], from: iso(0), to: iso(90), reason: 'not this one' },
      { targets: ['team-repo'], from: iso(0), to: iso(20), reason: 'planned change' },
    ];
    const silences = [{ target: '*', from: iso(0), until: iso(30), reason: 'all', by: 'arn:x' }];
    expect(activeMute('team-repo', minutes(10), silences, windows)).toEqual({
      kind: 'silence',
      reason: 'all',
      by: 'arn:x',
      until: iso(30),
    });
    expect(activeMute('team-repo', minutes(10), [], windows)?.reason).toBe('planned change');
    expect(activeMute('team-repo', minutes(20), [], windows)).toBeNull();
  });
});

describe('decide with a silence', () => {
  it('holds the ALARM of an outage during the silence and pages it once when the silence expires', () => {
    const records = [failing(0), failing(1), failing(2), failing(29), failing(30), failing(31), failing(32)];
    const { notifications, state } = run(records, (at) => (at < minutes(30) ? MUTE : null));
    expect(notifications.map((n) => `${n.state}@${n.runId}`)).toEqual(['ALARM@run-30']);
    expect(notifications[0]?.heldBy).toEqual(MUTE);
    expect(state).toMatchObject({ status: 'incident', held: false, silenced: true });
  });

  it('never pages an incident that opened and closed inside the silence', () => {
    const records = [failing(0), failing(1), failing(2), healthy(3), healthy(40)];
    const { notifications, state } = run(records, (at) => (at < minutes(30) ? MUTE : null));
    expect(notifications).toEqual([]);
    expect(state).toMatchObject({ status: 'ok', held: false });
  });

  it('still sends the RECOVERED of an incident that paged before the silence began', () => {
    const records = [failing(0), failing(1), failing(5), healthy(6)];
    const { notifications } = run(records, (at) => (at >= minutes(5) ? MUTE : null));
    expect(notifications.map((n) => n.state)).toEqual(['ALARM', 'RECOVERED']);
  });

  it('skips reminders while muted and counts those it sends', () => {
    const records = [failing(0), failing(1), failing(70), failing(140), failing(190)];
    const { notifications, state } = run(records, (at) => (at >= minutes(60) && at < minutes(100) ? MUTE : null));
    expect(notifications.map((n) => `${n.state}@${n.runId}`)).toEqual(['ALARM@run-1', 'REMINDER@run-140']);
    expect(state?.reminders).toBe(1);
  });
});

describe('silences and incident history against moto_server', () => {
  let pki: TestPki;
  let moto: Moto;
  let plumbing: AlertPlumbing;

  beforeAll(async () => {
    pki = createTestPki();
    moto = await startMoto(pki);
    plumbing = await startAlertPlumbing(moto, pki, 'silence-alerts');
  });
  afterAll(async () => {
    plumbing?.destroy();
    await moto?.stop();
  });

  function notifier() {
    const clock = { at: T0, now: () => clock.at };
    const logger = recordingLogger();
    const table = new DynamoDbTable(plumbing.dynamodb, plumbing.tableName);
    const deps = {
      outbox: new Outbox(table, { clock }),
      sink: new SnsAlertSink({ client: plumbing.sns, topicArn: plumbing.topicArn, logger }),
      logger,
      settings: { ...SETTINGS, historyDays: 30 },
      clock,
    };
    return { clock, deps, table, silences: new SilenceStore(table, { clock, historyDays: 30 }) };
  }
  const pagesFor = async (target: string): Promise<SnsEnvelope[]> =>
    (await plumbing.drain()).filter((e) => e.MessageAttributes?.target?.Value === target);
  const item = async (key: string) => {
    const output = await plumbing.dynamodb.send(
      new GetItemCommand({ TableName: plumbing.tableName, Key: { target: { S: key } }, ConsistentRead: true }),
    );
    return output.Item ? unmarshall(output.Item) : undefined;
  };

  it('mute during an outage, then expiry: results count, nothing pages, then one ALARM; history has it all', async () => {
    const n = notifier();
    const target = 'muted-repo';
    const muted = await n.silences.mute({
      target,
      from: iso(0),
      until: iso(30),
      reason: 'endpoint swap',
      by: 'arn:aws:iam::123456789012:user/ana',
    });
    expect(muted.outcome).toBe('written');
    for (const at of [1, 2, 3, 29]) {
      n.clock.at = minutes(at);
      await notify([failing(at, target)], [], n.deps);
    }
    expect(await pagesFor(target)).toEqual([]);
    const during = await item(target);
    expect(during).toMatchObject({ status: 'incident', held: true, consecutiveFailures: 4 });
    for (const at of [31, 32, 33]) {
      n.clock.at = minutes(at);
      await notify([failing(at, target)], [], n.deps);
    }
    const pages = await pagesFor(target);
    expect(pages.map((p) => p.Subject?.slice(0, 8))).toEqual(['[ALARM] ']);
    const facts = JSON.parse(JSON.parse(pages[0]?.Message ?? '{}').sqs ?? pages[0]?.Message ?? '{}');
    expect(facts.heldBy).toMatchObject({ kind: 'silence', reason: 'endpoint swap' });
    // Recovery, then the history item: one incident, silenced, paged, closed, with a TTL 30 days out.
    n.clock.at = minutes(40);
    await notify([healthy(40, target)], [], n.deps);
    expect((await pagesFor(target)).map((p) => p.Subject?.slice(0, 5))).toEqual(['[OK] ']);
    const history = (await n.table.scanPrefix(`${HISTORY_PREFIX}${target}/`, AbortSignal.timeout(3000))) as Array<
      Record<string, unknown>
    >;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      type: 'incident',
      target: `${HISTORY_PREFIX}${target}/${iso(2)}`,
      openedAt: iso(2),
      failingSince: iso(1),
      closedAt: iso(40),
      durationMs: 39 * 60_000,
      silenced: true,
      paged: true,
      failure: { step: 'git', kind: 'timeout', phase: 'tls' },
    });
    expect(history[0]?.expiresAt).toBe(Math.floor(minutes(40).getTime() / 1000) + 30 * 86_400);
    const log = await n.table.scanPrefix(`${SILENCE_LOG_PREFIX}${target}/`, AbortSignal.timeout(3000));
    expect(log).toMatchObject([{ type: 'silence', reason: 'endpoint swap', from: iso(0), until: iso(30) }]);
  });

  it('unmute pages an open incident at the next run; the silence log ends at the unmute', async () => {
    const n = notifier();
    const target = 'unmuted-repo';
    await n.silences.mute({ target, from: iso(0), until: iso(600), reason: 'drill', by: 'arn:aws:iam::1:user/bo' });
    for (const at of [1, 2, 3]) {
      n.clock.at = minutes(at);
      await notify([failing(at, target)], [], n.deps);
    }
    expect(await pagesFor(target)).toEqual([]);
    n.clock.at = minutes(4);
    const unmuted = await n.silences.unmute(target);
    expect(unmuted.outcome === 'written' && unmuted.silences.filter((s) => s.target === target)).toEqual([]);
    n.clock.at = minutes(5);
    await notify([failing(5, target)], [], n.deps);
    await notify([failing(6, target)], [], n.deps);
    expect((await pagesFor(target)).map((p) => p.Subject?.slice(0, 8))).toEqual(['[ALARM] ']);
    const log = await n.table.scanPrefix(`${SILENCE_LOG_PREFIX}${target}/`, AbortSignal.timeout(3000));
    expect(log).toMatchObject([{ until: iso(4) }]);
  });

  it('a maintenance window from the config holds pages without the table', async () => {
    const n = notifier();
    const target = 'window-repo';
    n.deps.settings = {
      ...n.deps.settings,
      mute: [{ targets: [target], from: iso(0), to: iso(10), reason: 'planned' }],
    };
    for (const at of [1, 2, 3]) {
      n.clock.at = minutes(at);
      await notify([failing(at, target)], [], n.deps);
    }
    expect(await pagesFor(target)).toEqual([]);
    n.clock.at = minutes(11);
    await notify([failing(11, target)], [], n.deps);
    expect((await pagesFor(target)).map((p) => p.Subject?.slice(0, 8))).toEqual(['[ALARM] ']);
    expect(await item(target)).toMatchObject({ held: false, silenced: true });
  });
});
