/**
 * Incident history: one item per incident, beside the target's state in the alert table, written in the same
 * transaction as the state change that opened, reminded, paged after a mute, or closed it. Kept `historyDays`
 * (DynamoDB deletes it after its `expiresAt`, the table's TTL attribute). Pure: the caller writes it.
 */
import type { FailureSummary, IncidentState } from './incident-policy.ts';

/** Key prefix of incident history items; silence log items use `#silence-log/`. */
export const HISTORY_PREFIX = '#history/';
export const SILENCE_LOG_PREFIX = '#silence-log/';
/** The table's TTL attribute (epoch seconds), on history and silence log items. */
export const TTL_ATTRIBUTE = 'expiresAt';
export const DEFAULT_HISTORY_DAYS = 90;

export interface IncidentHistory {
  type: 'incident';
  target: string;
  /** When the incident opened (its identity, with the target). */
  openedAt: string;
  failingSince: string | null;
  /** `at` of the record that closed it; null while open. */
  closedAt: string | null;
  /** First failed run to the recovering run; null while open. */
  durationMs: number | null;
  failure: FailureSummary | null;
  reminders: number;
  /** A silence or window covered some of it. */
  silenced: boolean;
  /** Its ALARM went out (false: held by a mute all along). */
  paged: boolean;
  /** Epoch seconds: DynamoDB's TTL deletes the item after this. */
  expiresAt: number;
}

/** A row the caller writes in the same transaction as the state: its key and attributes. */
export interface ExtraItem {
  key: string;
  attributes: Record<string, unknown>;
}

export const historyKey = (target: string, openedAt: string): string => `${HISTORY_PREFIX}${target}/${openedAt}`;

/** The target inside a history or silence log key (`<prefix><target>/<time>`). */
export const targetOfKey = (key: unknown, prefix: string): string => {
  const rest = String(key).slice(prefix.length);
  return rest.slice(0, rest.lastIndexOf('/'));
};

export const expiresAt = (now: Date, days: number): number => Math.floor(now.getTime() / 1000) + days * 86_400;

/**
 * The history item a state change writes, or null when the incident's record does not change (a failed run in
 * an incident without a page, or anything outside an incident).
 *
 * @example
 * historyEntry(previous, next, new Date(), 90) // { key: '#history/team-repo/2026-…', attributes: { type: 'incident', … } }
 */
export function historyEntry(
  previous: IncidentState | null,
  next: IncidentState,
  now: Date,
  historyDays: number,
): ExtraItem | null {
  const wasOpen = previous?.status === 'incident' && previous.incidentOpenedAt !== null;
  const closed = wasOpen && next.status !== 'incident';
  const source = closed ? previous : next;
  if (!source?.incidentOpenedAt || (source.status !== 'incident' && !closed)) return null;
  const changed =
    closed ||
    !wasOpen ||
    previous?.lastNotifiedAt !== next.lastNotifiedAt ||
    previous?.held !== next.held ||
    previous?.silenced !== next.silenced;
  if (!changed) return null;
  const entry: IncidentHistory = {
    type: 'incident',
    target: next.target,
    openedAt: source.incidentOpenedAt,
    failingSince: source.failingSince,
    closedAt: closed ? next.lastAt : null,
    durationMs: closed && source.failingSince ? Date.parse(next.lastAt) - Date.parse(source.failingSince) : null,
    failure: source.lastFailure,
    reminders: closed ? source.reminders : next.reminders,
    silenced: closed ? source.silenced || next.silenced : next.silenced,
    paged: !source.held,
    expiresAt: expiresAt(now, historyDays),
  };
  return { key: historyKey(next.target, source.incidentOpenedAt), attributes: { ...entry } };
}
