/**
 * The alert path's one entry point, run by the notifier (records from the probe's log), by the probe itself in
 * `direct` mode (the records it just wrote) and by the demo (in memory). (Over 300 lines on purpose: the order of
 * re-sends, new work, fail-open and the per-invocation tallies is one story, best read in one place.)
 *
 * 1. Re-send what is still owed, oldest first, before new work.
 * 2. Each target's result records, oldest first: incident policy → one conditional write that also records the
 *    notification as owed → publish → settle. Targets run concurrently.
 * 3. Findings records: the same with the findings policy.
 *
 * Silences (the `#silences` item, read once per invocation) and the config's maintenance windows hold pages
 * (lib/alerting/silences.ts); each incident's history item is written in the transaction that changes it.
 *
 * Without the table (unreachable) a failed target still pages, failing open: once per target per invocation,
 * and once per `renotifyMinutes` per warm container. After a publish fails because SNS is down, hangs or
 * throttles, the rest wait for the next invocation (owed), rather than each waiting out its own deadline. Never throws: what could not be done is
 * in the summary, for the handler to decide whether Lambda must retry the event.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { FindingsRecord, ResultRecord } from '../types.ts';
import { decideFindings, type FindingsState, findingKey } from './finding-policy.ts';
import { DEFAULT_HISTORY_DAYS, historyEntry } from './history.ts';
import {
  type AlertSettings,
  decide,
  type FailureSummary,
  failOpenDecision,
  type IncidentState,
  type NotificationState,
} from './incident-policy.ts';
import type { ItemDecision, Outbox } from './outbox.ts';
import { type ActiveMute, activeMute, readSilences, SILENCES_ITEM_KEY, type Silence } from './silences.ts';
import type { AlertSink } from './sinks.ts';
import { type AlertState, type AnyAlert, buildAlert, findingAlert } from './text.ts';
import type { OwedNotification } from './versioned-table.ts';

/** The item that holds the active findings (its key cannot collide with a target: names are [\w.-]). */
export const FINDINGS_ITEM_KEY = '#findings';

export interface NotifyDeps {
  outbox: Outbox;
  sink: AlertSink;
  logger: Logger;
  settings: AlertSettings;
  clock: Pick<Clock, 'now'>;
  /** Milliseconds left in this invocation (Lambda's `getRemainingTimeInMillis`); unlimited when absent. */
  remainingMs?: () => number;
  /** Below this many ms left, no new work starts; what is left stays owed or is retried. Default 10 s. */
  reserveMs?: number;
  /** Per warm container: when each target last paged failing open (epoch ms), so an outage of the table does not page every run. */
  failOpenSent?: Map<string, number>;
}

export interface SentNotification {
  target: string;
  state: AlertState;
  dedupKey: string;
  subject: string;
  delivered: boolean;
  /** Sent again, owed from an earlier invocation. */
  resent: boolean;
  failOpen: boolean;
}

export interface NotifySummary {
  records: number;
  notifications: SentNotification[];
  /** Notifications this invocation left owed (not delivered, or not tried): the next invocation sends them. */
  owed: number;
  /** Fail-open pages SNS did not take: recorded nowhere, so the event must be retried. */
  unrecorded: number;
  /** Records not applied for lack of time: the event must be retried (applied ones are recognised). */
  deferred: number;
  /** The table could not be read or written for at least one record or the re-send scan. */
  stateUnavailable: boolean;
}

const DEFAULT_RESERVE_MS = 10_000;

const byTime = (a: { at: string; runId: string }, b: { at: string; runId: string }): number =>
  Date.parse(a.at) - Date.parse(b.at) || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/**
 * Records and findings → incident and finding state → SNS, with nothing owed left behind unless SNS refused it.
 *
 * @example
 * const summary = await notify(records, findings, { outbox, sink, logger, settings: config.alerts, clock: systemClock });
 * if (summary.unrecorded > 0 || summary.deferred > 0) throw new Error('retry the event');
 */
export async function notify(
  records: readonly ResultRecord[],
  findings: readonly FindingsRecord[],
  deps: NotifyDeps,
): Promise<NotifySummary> {
  const run = new NotifyRun(deps);
  await run.resendOwed();
  await run.loadSilences();
  const byTarget = new Map<string, ResultRecord[]>();
  for (const record of records) byTarget.set(record.result.name, [...(byTarget.get(record.result.name) ?? []), record]);
  await Promise.all([...byTarget.values()].map((list) => run.applyResults([...list].sort(byTime))));
  for (const record of [...findings].sort(byTime)) await run.applyFindings(record);
  return { records: records.length, ...run.summary() };
}

/** One invocation's work and tallies. */
class NotifyRun {
  readonly #deps: NotifyDeps;
  readonly #sent: SentNotification[] = [];
  #owed = 0;
  #unrecorded = 0;
  #deferred = 0;
  #stateUnavailable = false;
  /** Set by the first failed publish: SNS is refusing or hanging, the rest wait for the next invocation. */
  #snsFailing = false;
  /** The silences people set, read once per invocation; none when they cannot be read (failing open). */
  #silences: Silence[] = [];

  constructor(deps: NotifyDeps) {
    this.#deps = deps;
  }

  summary() {
    return {
      notifications: this.#sent,
      owed: this.#owed,
      unrecorded: this.#unrecorded,
      deferred: this.#deferred,
      stateUnavailable: this.#stateUnavailable,
    };
  }

  #outOfTime(): boolean {
    const { remainingMs, reserveMs = DEFAULT_RESERVE_MS } = this.#deps;
    return remainingMs !== undefined && remainingMs() < reserveMs;
  }

  async resendOwed(): Promise<void> {
    const { outbox, logger } = this.#deps;
    let due: Awaited<ReturnType<Outbox['due']>>;
    try {
      due = await outbox.due();
    } catch (error) {
      this.#stateUnavailable = true;
      logger.error('owed notifications could not be read; they are sent by a later invocation', {
        type: 'codecommit-canary/outbox-unavailable',
        reason: String(error),
      });
      return;
    }
    for (const { key, owed } of due) {
      if (this.#snsFailing || this.#outOfTime()) {
        this.#owed++;
        continue;
      }
      const claimed = await outbox.claim(key, owed.dedupKey);
      if (claimed) await this.#publishOwed(key, claimed, true);
    }
  }

  async loadSilences(): Promise<void> {
    try {
      this.#silences = readSilences(await this.#deps.outbox.state(SILENCES_ITEM_KEY));
    } catch (error) {
      this.#stateUnavailable = true;
      this.#deps.logger.warn('silences could not be read; pages are not held by them this run', {
        type: 'codecommit-canary/silences-unavailable',
        reason: String(error),
      });
    }
  }

  /** The silence or maintenance window covering the target at `at`, if any. */
  #muteOf(target: string, at: Date): ActiveMute | null {
    return activeMute(target, at, this.#silences, this.#deps.settings.mute);
  }

  /** One target's records, oldest first. */
  async applyResults(records: readonly ResultRecord[]): Promise<void> {
    const { outbox, settings, clock } = this.#deps;
    for (const [index, record] of records.entries()) {
      if (this.#outOfTime()) {
        this.#deferred += records.length - index;
        return;
      }
      const target = record.result.name;
      const change = await outbox.change(target, (stored): ItemDecision<null> => {
        const previous = readIncidentState(stored, target);
        const mute = this.#muteOf(target, new Date(record.at));
        const decision = decide(previous, record, settings, clock.now(), mute);
        if (decision.action === 'ignore') return { write: false, result: null };
        const history = historyEntry(
          previous,
          decision.state,
          clock.now(),
          settings.historyDays ?? DEFAULT_HISTORY_DAYS,
        );
        const { notification } = decision;
        // The table is back after an outage during which this container paged the target failing open: the
        // incident it opens now is the one already paged.
        const pagedFailingOpen = notification?.state === 'ALARM' && this.#pagedFailingOpen(target);
        const alerts = notification && !pagedFailingOpen ? [buildAlert(notification, record.result)] : [];
        const { target: _key, ...state } = decision.state;
        return {
          write: true,
          state,
          alerts,
          // A newer reminder or the recovery makes an older reminder still owed pointless.
          supersedes: (owed) => notification !== null && owed.alert.attributes.state === 'REMINDER',
          ...(history ? { extra: [history] } : {}),
          result: null,
        };
      });
      if (change.outcome === 'written') {
        for (const owed of change.owed) await this.#publishOwed(target, owed, false);
      } else if (change.outcome === 'unavailable') {
        await this.#failOpen(records.slice(index), change.reason);
        return;
      }
    }
  }

  async applyFindings(record: FindingsRecord): Promise<void> {
    const { outbox, logger } = this.#deps;
    if (this.#outOfTime()) {
      this.#deferred++;
      return;
    }
    const change = await outbox.change(FINDINGS_ITEM_KEY, (stored): ItemDecision<null> => {
      const decision = decideFindings(readFindingsState(stored), record);
      if (decision.action === 'ignore') return { write: false, result: null };
      const announce = (state: 'FINDING' | 'CLEARED') => (finding: FindingsRecord['findings'][number]) =>
        findingAlert(finding, state, record, `${FINDINGS_ITEM_KEY}/${findingKey(finding)}/${state}/${record.runId}`);
      return {
        write: true,
        state: { ...decision.state },
        alerts: [
          ...decision.changes.appeared.map(announce('FINDING')),
          ...decision.changes.cleared.map(announce('CLEARED')),
        ],
        result: null,
      };
    });
    if (change.outcome === 'written') {
      for (const owed of change.owed) await this.#publishOwed(FINDINGS_ITEM_KEY, owed, false);
    } else if (change.outcome === 'unavailable') {
      // Findings are not pages: without their state they wait for the next run rather than repeat every run.
      this.#stateUnavailable = true;
      logger.warn('finding state unavailable; findings not announced this run', {
        type: 'codecommit-canary/finding-state-unavailable',
        reason: change.reason,
      });
    }
  }

  /** Publishes an owed notification this invocation holds the lease on, then settles or releases it. */
  async #publishOwed(key: string, owed: OwedNotification, resent: boolean): Promise<void> {
    const { outbox, sink, logger } = this.#deps;
    if (this.#snsFailing) {
      await outbox.release(key, owed.dedupKey);
      this.#owed++;
      return;
    }
    const delivery = await sink.send(owed.alert);
    this.#record(owed.alert, delivery.delivered, resent, false);
    if (delivery.delivered) {
      // If this write fails the lease runs out and the notification goes again, with the same dedupKey.
      await outbox.settle(key, owed.dedupKey);
      return;
    }
    // SNS down or hanging: the rest wait for the next invocation. One message refused: the others still go.
    if (delivery.transient) this.#snsFailing = true;
    this.#owed++;
    await outbox.release(key, owed.dedupKey);
    logger.warn(`alert owed: ${owed.alert.subject}`, {
      type: 'codecommit-canary/alert-owed',
      dedupKey: owed.dedupKey,
      owedSince: owed.owedSince,
      reason: delivery.reason,
    });
  }

  /** This container paged the target failing open within `renotifyMinutes`. */
  #pagedFailingOpen(target: string): boolean {
    const { failOpenSent, settings, clock } = this.#deps;
    const lastSent = failOpenSent?.get(target);
    return lastSent !== undefined && clock.now().getTime() - lastSent < settings.renotifyMinutes * 60_000;
  }

  /**
   * The table is unreachable for this target: page once for the newest failed record of the rest, unless this
   * container paged for the target within `renotifyMinutes`.
   */
  async #failOpen(records: readonly ResultRecord[], reason: string): Promise<void> {
    const { sink, logger, clock, failOpenSent } = this.#deps;
    this.#stateUnavailable = true;
    const newestFailed = [...records].reverse().find((r) => !r.result.ok);
    const target = records[0]?.result.name ?? '';
    const fullReason = `incident state unavailable: ${reason}`;
    // Maintenance windows are in the config, so they hold fail-open pages too; silences are in the table.
    const window = this.#muteOf(target, clock.now());
    const quiet = this.#pagedFailingOpen(target) || window !== null;
    logger.error('incident state unavailable: failing open', {
      type: 'codecommit-canary/incident-fail-open',
      target,
      records: records.length,
      reason: fullReason,
      decision: !newestFailed
        ? 'no alert (the results are ok)'
        : window
          ? 'no alert (a maintenance window covers the target)'
          : quiet
            ? 'no alert (this container paged for the target failing open within renotifyMinutes)'
            : 'one alert without incident state',
    });
    const notification = newestFailed && !quiet ? failOpenDecision(newestFailed, fullReason) : null;
    if (!notification || !newestFailed) return;
    const alert = buildAlert(notification, newestFailed.result);
    const delivery = this.#snsFailing ? null : await sink.send(alert);
    this.#record(alert, delivery?.delivered ?? false, false, true);
    if (delivery?.delivered) {
      failOpenSent?.set(target, clock.now().getTime());
      return;
    }
    if (delivery?.transient) this.#snsFailing = true;
    this.#unrecorded++;
    logger.error(`alert not delivered: ${alert.subject}`, {
      type: 'codecommit-canary/undelivered-alert',
      reason: delivery ? delivery.reason : 'SNS failed earlier in this invocation',
      dedupKey: alert.dedupKey,
      facts: alert.facts,
    });
  }

  #record(alert: AnyAlert, delivered: boolean, resent: boolean, failOpen: boolean): void {
    this.#sent.push({
      target: alert.attributes.target,
      state: alert.attributes.state,
      dedupKey: alert.dedupKey,
      subject: alert.subject,
      delivered,
      resent,
      failOpen,
    });
  }
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The stored incident state (written by `decide`; items from before the outbox had nulls left out). */
export function readIncidentState(stored: Record<string, unknown> | null, target: string): IncidentState | null {
  if (!stored) return null;
  const status = stored.status;
  const failure = stored.lastFailure as FailureSummary | null | undefined;
  return {
    target,
    status: status === 'failing' || status === 'incident' ? status : 'ok',
    consecutiveFailures: Number(stored.consecutiveFailures ?? 0),
    lastRunId: str(stored.lastRunId) ?? '',
    lastAt: str(stored.lastAt) ?? '',
    failingSince: str(stored.failingSince),
    incidentOpenedAt: str(stored.incidentOpenedAt),
    lastNotifiedAt: str(stored.lastNotifiedAt),
    lastNotification: (str(stored.lastNotification) as NotificationState | null) ?? null,
    lastFailure: failure ?? null,
    updatedAt: str(stored.updatedAt) ?? '',
    held: stored.held === true,
    heldBy: (stored.heldBy as ActiveMute | null | undefined) ?? null,
    silenced: stored.silenced === true,
    reminders: Number(stored.reminders ?? 0),
  };
}

/** The stored findings state (items from before the outbox kept the list as JSON text). */
export function readFindingsState(stored: Record<string, unknown> | null): FindingsState | null {
  if (!stored) return null;
  const findings = typeof stored.findings === 'string' ? JSON.parse(stored.findings) : (stored.findings ?? []);
  return { at: str(stored.at) ?? '', runId: str(stored.runId) ?? '', findings };
}
