/**
 * Incident state per target: when a run's result opens an incident, reminds about it, or closes it.
 *
 * `decide` is the whole policy, a pure function of the previous state, one result record, the settings and
 * the clock. lib/alerting/notify.ts applies it through lib/alerting/outbox.ts: one conditional write per record that
 * records the notification as owed, so a record delivered twice, two overlapping invocations and records arriving out
 * of order never page twice, and a page SNS refused is sent later rather than lost. When the state cannot be
 * read or written the notifier fails open (`failOpenDecision`): a failed result is alerted anyway.
 * (Just over 300 lines on purpose: the policy and the silences' effect on it read best as one unit.)
 */
import {
  type FailureKind,
  type Phase,
  type ResultRecord,
  STEP_NAMES,
  type StepName,
  type StepResult,
  type TargetResult,
} from '../types.ts';
import type { ActiveMute, MaintenanceWindow } from './silences.ts';

export interface AlertSettings {
  /** Consecutive failed runs of a target that open an incident. */
  failuresBeforeAlert: number;
  /** Minutes between reminders while an incident lasts; 0 or less: no reminders. */
  renotifyMinutes: number;
  /** Maintenance windows (`alerts.mute`): pages held while one covers a target. */
  mute?: readonly MaintenanceWindow[];
  /** Days an incident's history item is kept (its TTL). Default 90. */
  historyDays?: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = { failuresBeforeAlert: 2, renotifyMinutes: 60 } as const;

export type IncidentStatus = 'ok' | 'failing' | 'incident';
export type NotificationState = 'ALARM' | 'REMINDER' | 'RECOVERED';

/** Which step failed and how; enough to route and explain a notification. */
export interface FailureSummary {
  step: StepName;
  kind: FailureKind;
  phase: Phase;
  status?: number;
}

/**
 * How urgent a page is, for paging tools and filter policies: a failed assertion is a `warning` (the path works;
 * the repository is not as it should be, e.g. a mirror that stopped syncing), every other failure `critical`.
 * Both go through the same incident policy and topic; the severity lets a receiver route them apart.
 *
 * @example
 * severityOf({ step: 'expect' }) // 'warning'
 */
export function severityOf(failure: Pick<FailureSummary, 'step'> | null): 'critical' | 'warning' {
  return failure?.step === 'expect' ? 'warning' : 'critical';
}

export interface IncidentState {
  target: string;
  status: IncidentStatus;
  consecutiveFailures: number;
  /** The newest record applied: `(lastAt, lastRunId)` orders records, so older ones are recognised. */
  lastRunId: string;
  lastAt: string;
  /** `at` of the first failed run of the current streak. */
  failingSince: string | null;
  incidentOpenedAt: string | null;
  lastNotifiedAt: string | null;
  lastNotification: NotificationState | null;
  lastFailure: FailureSummary | null;
  updatedAt: string;
  /** The incident's ALARM was held by a silence or window and has not paged yet: it pages once the mute ends. */
  held: boolean;
  /** The mute that held the page (shown when it finally pages). */
  heldBy: ActiveMute | null;
  /** A mute covered some of the incident (for its history). */
  silenced: boolean;
  /** Reminders sent for the incident. */
  reminders: number;
}

export interface Notification {
  state: NotificationState;
  target: string;
  /** Incident id + state + run: the same for every send of this notification. */
  dedupKey: string;
  runId: string;
  /** `at` of the record that caused the notification. */
  at: string;
  failingSince: string | null;
  consecutiveFailures: number;
  incidentOpenedAt: string | null;
  /** ALARM and REMINDER: this run's failure. RECOVERED: the incident's last failure. */
  failure: FailureSummary | null;
  /** Set when the incident table could not be used: the alert goes out without de-duplication. */
  failOpen?: string;
  /** An ALARM held by this mute, sent now that it ended. */
  heldBy?: ActiveMute;
}

export type Decision =
  | { action: 'write'; state: IncidentState; notification: Notification | null }
  | { action: 'ignore'; reason: 'duplicate' | 'stale' | 'invalid' };

/**
 * The failed step of a result (sts first: when it fails, git is skipped), or null.
 *
 * @example
 * failedStep(result)?.stepResult.failure?.kind // 'timeout'
 */
export function failedStep(result: TargetResult): { step: StepName; stepResult: StepResult } | null {
  for (const step of STEP_NAMES) {
    const stepResult = result.steps[step];
    if (stepResult?.failure) return { step, stepResult };
  }
  return null;
}

function failureSummary(result: TargetResult): FailureSummary | null {
  const failed = failedStep(result);
  const failure = failed?.stepResult.failure;
  if (!failed || !failure) return null;
  return {
    step: failed.step,
    kind: failure.kind,
    phase: failure.phase,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
  };
}

/** ISO-8601 in one canonical form, so strings order like times; null when unparseable. */
function canonicalTime(at: string): string | null {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The incident policy. Records order by `(at, runId)`; the same record again is a duplicate, an older one is
 * stale, both ignored. Reminders are timed on `now` (the processing clock), so a backlog of records
 * delivered at once pages once; durations shown to people (failing since, recovered after) use the records' `at`.
 *
 * @example
 * const d = decide(previous, record, { failuresBeforeAlert: 2, renotifyMinutes: 60 }, new Date());
 * if (d.action === 'write' && d.notification) send(d.notification);
 */
export function decide(
  previous: IncidentState | null,
  record: ResultRecord,
  settings: AlertSettings,
  now: Date,
  mute: ActiveMute | null = null,
): Decision {
  const decision = decideUnmuted(previous, record, settings, now);
  return decision.action === 'ignore' ? decision : applyMute(previous, decision, mute, now);
}

/**
 * Silences and windows: while `mute` is set nothing pages (an ALARM is held, reminders are skipped) except the
 * RECOVERED of an incident whose ALARM already went out, so a paging tool can resolve it. Once no mute applies, an
 * incident still open whose ALARM was held pages once; one that closed in the meantime never does.
 */
function applyMute(
  previous: IncidentState | null,
  decision: Extract<Decision, { action: 'write' }>,
  mute: ActiveMute | null,
  now: Date,
): Decision {
  const { state, notification } = decision;
  const opened = notification?.state === 'ALARM';
  const inIncident = state.status === 'incident' || notification?.state === 'RECOVERED';
  const wasHeld = !opened && (previous?.held ?? false);
  const next: IncidentState = {
    ...state,
    held: state.status === 'incident' && wasHeld,
    heldBy: state.status === 'incident' && wasHeld ? (previous?.heldBy ?? null) : null,
    silenced: inIncident && ((!opened && (previous?.silenced ?? false)) || mute !== null),
    reminders: opened || !inIncident ? 0 : (previous?.reminders ?? 0),
  };
  if (mute) {
    if (opened) return { action: 'write', state: { ...next, held: true, heldBy: mute }, notification: null };
    if (notification?.state === 'RECOVERED' && !wasHeld) return { action: 'write', state: next, notification };
    return { action: 'write', state: next, notification: null };
  }
  if (wasHeld && notification?.state === 'RECOVERED') return { action: 'write', state: next, notification: null };
  if (wasHeld && state.status === 'incident') {
    const nowIso = now.toISOString();
    const paged: IncidentState = {
      ...next,
      held: false,
      heldBy: null,
      lastNotifiedAt: nowIso,
      lastNotification: 'ALARM',
    };
    const heldBy = previous?.heldBy;
    const alarm: Notification = {
      ...notificationOf('ALARM', state, state.lastRunId, state.lastAt, state.lastFailure),
      ...(heldBy ? { heldBy } : {}),
    };
    return { action: 'write', state: paged, notification: alarm };
  }
  if (notification?.state === 'REMINDER') next.reminders += 1;
  return { action: 'write', state: next, notification };
}

/** A notification about `from`'s incident, sent for the run `runId` at `at`. */
function notificationOf(
  state: NotificationState,
  from: IncidentState,
  runId: string,
  at: string,
  failure: FailureSummary | null,
): Notification {
  return {
    state,
    target: from.target,
    // One incident (target + when it opened), one state, one run: a re-send carries the same key.
    dedupKey: `${from.target}/${from.incidentOpenedAt ?? from.failingSince ?? at}/${state}/${runId}`,
    runId,
    at,
    failingSince: from.failingSince,
    consecutiveFailures: from.consecutiveFailures,
    incidentOpenedAt: from.incidentOpenedAt,
    failure,
  };
}

function decideUnmuted(
  previous: IncidentState | null,
  record: ResultRecord,
  settings: AlertSettings,
  now: Date,
): Decision {
  const at = canonicalTime(record.at);
  if (at === null) return { action: 'ignore', reason: 'invalid' };
  if (previous) {
    if (record.runId === previous.lastRunId && at === previous.lastAt) return { action: 'ignore', reason: 'duplicate' };
    const older = at < previous.lastAt || (at === previous.lastAt && record.runId <= previous.lastRunId);
    if (older) return { action: 'ignore', reason: 'stale' };
  }
  const target = record.result.name;
  const nowIso = now.toISOString();
  const status = previous?.status ?? 'ok';
  const base = {
    target,
    lastRunId: record.runId,
    lastAt: at,
    updatedAt: nowIso,
    // Set by applyMute, which knows the mute.
    held: false,
    heldBy: null,
    silenced: false,
    reminders: 0,
  };
  const notify = (state: NotificationState, from: IncidentState, failure: FailureSummary | null) =>
    notificationOf(state, from, record.runId, at, failure);

  if (record.result.ok) {
    const next: IncidentState = {
      ...base,
      status: 'ok',
      consecutiveFailures: 0,
      failingSince: null,
      incidentOpenedAt: null,
      lastNotifiedAt: status === 'incident' ? nowIso : (previous?.lastNotifiedAt ?? null),
      lastNotification: status === 'incident' ? 'RECOVERED' : (previous?.lastNotification ?? null),
      lastFailure: previous?.lastFailure ?? null,
    };
    if (status !== 'incident' || !previous) return { action: 'write', state: next, notification: null };
    return { action: 'write', state: next, notification: notify('RECOVERED', previous, previous.lastFailure) };
  }

  const failure = failureSummary(record.result);
  const streak = status === 'ok' || !previous ? 0 : previous.consecutiveFailures;
  const failing: IncidentState = {
    ...base,
    status: status === 'incident' ? 'incident' : 'failing',
    consecutiveFailures: streak + 1,
    failingSince: status === 'ok' ? at : (previous?.failingSince ?? at),
    incidentOpenedAt: previous?.incidentOpenedAt ?? null,
    lastNotifiedAt: previous?.lastNotifiedAt ?? null,
    lastNotification: previous?.lastNotification ?? null,
    lastFailure: failure,
  };
  if (status === 'incident') {
    const renotifyMs = settings.renotifyMinutes * 60_000;
    const last = failing.lastNotifiedAt ? Date.parse(failing.lastNotifiedAt) : Number.NEGATIVE_INFINITY;
    if (renotifyMs <= 0 || now.getTime() - last < renotifyMs) {
      return { action: 'write', state: failing, notification: null };
    }
    const reminded = { ...failing, lastNotifiedAt: nowIso, lastNotification: 'REMINDER' as const };
    return { action: 'write', state: reminded, notification: notify('REMINDER', reminded, failure) };
  }
  if (failing.consecutiveFailures < settings.failuresBeforeAlert) {
    return { action: 'write', state: failing, notification: null };
  }
  const opened: IncidentState = {
    ...failing,
    status: 'incident',
    incidentOpenedAt: nowIso,
    lastNotifiedAt: nowIso,
    lastNotification: 'ALARM',
  };
  return { action: 'write', state: opened, notification: notify('ALARM', opened, failure) };
}

/**
 * What to do without incident state: alert on every failed result (an unexpected page beats a missed one),
 * nothing for a good result (a RECOVERED without knowing of an incident would be noise).
 *
 * @example
 * failOpenDecision(record, 'incident table t unreachable: TimeoutError: …') // { state: 'ALARM', failOpen: '…', … }
 */
export function failOpenDecision(record: ResultRecord, reason: string): Notification | null {
  if (record.result.ok) return null;
  return {
    state: 'ALARM',
    target: record.result.name,
    dedupKey: `${record.result.name}/fail-open/ALARM/${record.runId}`,
    runId: record.runId,
    at: canonicalTime(record.at) ?? record.at,
    failingSince: null,
    consecutiveFailures: 1,
    incidentOpenedAt: null,
    failure: failureSummary(record.result),
    failOpen: reason,
  };
}
