/**
 * Incident state per target: when a run's result opens an incident, reminds about it, or closes it.
 *
 * `decide` is the whole policy, a pure function of the previous state, one result record, the settings and
 * the clock. `DynamoDbIncidentStore` applies it to a table (partition key `target`, S) with one conditional
 * write per record; the write that changes the state is also the claim on the notification, so a record
 * delivered twice, two overlapping invocations and records arriving out of order never page twice.
 * When the table cannot be reached the store fails open: a failed result is alerted anyway.
 */
import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type BoundedClientOptions, boundedClientConfig, describeError, untilAborted } from './aws-clients.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { FailureKind, Phase, ResultRecord, StepName, StepResult, TargetResult } from './types.ts';

export interface AlertSettings {
  /** Consecutive failed runs of a target that open an incident. */
  failuresBeforeAlert: number;
  /** Minutes between reminders while an incident lasts; 0 or less: no reminders. */
  renotifyMinutes: number;
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

export interface IncidentState {
  target: string;
  /** Incremented by every write; the next write is conditional on it. */
  version: number;
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
}

export interface Notification {
  state: NotificationState;
  target: string;
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
  if (result.steps.sts.failure) return { step: 'sts', stepResult: result.steps.sts };
  if (result.steps.git.failure) return { step: 'git', stepResult: result.steps.git };
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
    version: (previous?.version ?? 0) + 1,
    lastRunId: record.runId,
    lastAt: at,
    updatedAt: nowIso,
  };
  const notify = (state: NotificationState, from: IncidentState, failure: FailureSummary | null): Notification => ({
    state,
    target,
    runId: record.runId,
    at,
    failingSince: from.failingSince,
    consecutiveFailures: from.consecutiveFailures,
    incidentOpenedAt: from.incidentOpenedAt,
    failure,
  });

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
    runId: record.runId,
    at: canonicalTime(record.at) ?? record.at,
    failingSince: null,
    consecutiveFailures: 1,
    incidentOpenedAt: null,
    failure: failureSummary(record.result),
    failOpen: reason,
  };
}

export type IncidentOutcome =
  | { outcome: 'applied'; state: IncidentState; notification: Notification | null }
  | { outcome: 'duplicate' | 'stale' | 'invalid' | 'lost-race'; notification: null }
  | { outcome: 'fail-open'; reason: string; notification: Notification | null };

/** Applies result records to incident state; never throws. */
export interface IncidentStore {
  apply(record: ResultRecord): Promise<IncidentOutcome>;
}

/**
 * Incident state in memory, for the local demo and the CLI; one process only.
 *
 * @example
 * const incidents = new MemoryIncidentStore({ failuresBeforeAlert: 1, renotifyMinutes: 60 });
 * await processResults(records, { incidents, sink: new ConsoleAlertSink(), logger: jsonLogger() });
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly states = new Map<string, IncidentState>();
  constructor(
    private readonly settings: AlertSettings = DEFAULT_ALERT_SETTINGS,
    private readonly clock: Pick<Clock, 'now'> = { now: () => new Date() },
  ) {}

  async apply(record: ResultRecord): Promise<IncidentOutcome> {
    const decision = decide(this.states.get(record.result.name) ?? null, record, this.settings, this.clock.now());
    if (decision.action === 'ignore') return { outcome: decision.reason, notification: null };
    this.states.set(decision.state.target, decision.state);
    return { outcome: 'applied', state: decision.state, notification: decision.notification };
  }
}

// ---- DynamoDB ----

/**
 * A DynamoDB client for the incident table; build it once at module load.
 *
 * @example
 * const client = createIncidentTableClient({ region: process.env.AWS_REGION ?? 'us-east-1', timeoutMs: 2000 });
 */
export const createIncidentTableClient = (options: BoundedClientOptions): DynamoDBClient =>
  new DynamoDBClient(boundedClientConfig(options));

export interface DynamoDbIncidentStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  settings: AlertSettings;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  /** Deadline for all table calls of one record (ms); past it the store fails open. Default 3000. */
  deadlineMs?: number;
}

/**
 * Incident state in a DynamoDB table (partition key `target`, S).
 *
 * Every record is applied with read (consistent) → `decide` → `PutItem` conditional on the version read.
 * Losing that condition means another invocation changed the target meanwhile: read again and decide again,
 * which for the same record yields `duplicate` (the other invocation sent the notification). Any other error
 * or the deadline → fail open (`failOpenDecision`), logged.
 *
 * @example
 * const store = new DynamoDbIncidentStore({ client, tableName: process.env.CANARY_TABLE!,
 *   settings: config.alerts, clock: systemClock, logger });
 * const { notification } = await store.apply(record);
 */
/** Conditional-write conflicts tolerated per record before giving up (someone else is applying this target). */
const MAX_CONFLICTS = 4;

export class DynamoDbIncidentStore implements IncidentStore {
  readonly #options: DynamoDbIncidentStoreOptions;

  constructor(options: DynamoDbIncidentStoreOptions) {
    this.#options = options;
  }

  /** The stored state of a target; throws when the table cannot be read. */
  async read(target: string, abortSignal?: AbortSignal): Promise<IncidentState | null> {
    const signal = abortSignal ?? AbortSignal.timeout(this.#options.deadlineMs ?? 3000);
    const output = await untilAborted(
      this.#options.client.send(
        new GetItemCommand({
          TableName: this.#options.tableName,
          Key: { target: { S: target } },
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      ),
      signal,
    );
    return output.Item ? fromItem(output.Item) : null;
  }

  async apply(record: ResultRecord): Promise<IncidentOutcome> {
    const { client, tableName, settings, clock, logger } = this.#options;
    const abortSignal = AbortSignal.timeout(this.#options.deadlineMs ?? 3000);
    const target = record.result.name;
    try {
      for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
        const previous = await this.read(target, abortSignal);
        const decision = decide(previous, record, settings, clock.now());
        if (decision.action === 'ignore') {
          logger.info(`result record ignored: ${decision.reason}`, { target, runId: record.runId, at: record.at });
          return { outcome: decision.reason, notification: null };
        }
        try {
          await untilAborted(
            client.send(
              new PutItemCommand({
                TableName: tableName,
                Item: toItem(decision.state),
                // The claim: only the invocation that still sees the version it decided on may write (and notify).
                ExpressionAttributeNames: { '#version': 'version' },
                ...(previous?.version
                  ? {
                      ConditionExpression: '#version = :version',
                      ExpressionAttributeValues: { ':version': { N: String(previous.version) } },
                    }
                  : { ConditionExpression: 'attribute_not_exists(#version)' }),
              }),
              { abortSignal },
            ),
            abortSignal,
          );
          return { outcome: 'applied', state: decision.state, notification: decision.notification };
        } catch (error) {
          if (!(error instanceof Error) || error.name !== 'ConditionalCheckFailedException') throw error;
          logger.info('incident state changed concurrently; deciding again', { target, runId: record.runId, attempt });
        }
      }
      logger.warn('incident state kept changing concurrently; leaving this record to the other invocation', {
        target,
        runId: record.runId,
      });
      return { outcome: 'lost-race', notification: null };
    } catch (error) {
      const reason = `incident table ${tableName} unreachable: ${describeError(error)}`;
      const notification = failOpenDecision(record, reason);
      logger.error('incident state unavailable: failing open', {
        type: 'codecommit-canary/incident-fail-open',
        target,
        runId: record.runId,
        reason,
        decision: notification ? 'send the alert without incident state' : 'no alert (the result is ok)',
      });
      return { outcome: 'fail-open', reason, notification };
    }
  }
}

// Item shape: every IncidentState field as an attribute of the same name; nulls are left out.
const STRING_FIELDS = [
  'lastRunId',
  'lastAt',
  'failingSince',
  'incidentOpenedAt',
  'lastNotifiedAt',
  'lastNotification',
  'updatedAt',
] as const;

function toItem(state: IncidentState): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    target: { S: state.target },
    version: { N: String(state.version) },
    status: { S: state.status },
    consecutiveFailures: { N: String(state.consecutiveFailures) },
  };
  for (const field of STRING_FIELDS) {
    const value = state[field];
    if (value !== null) item[field] = { S: value };
  }
  if (state.lastFailure) {
    const { step, kind, phase, status } = state.lastFailure;
    item.lastFailure = {
      M: {
        step: { S: step },
        kind: { S: kind },
        phase: { S: phase },
        ...(status !== undefined ? { status: { N: String(status) } } : {}),
      },
    };
  }
  return item;
}

function fromItem(item: Record<string, AttributeValue>): IncidentState {
  const s = (value: AttributeValue | undefined): string | null => value?.S ?? null;
  const n = (value: AttributeValue | undefined): number => Number(value?.N ?? 0);
  const failure = item.lastFailure?.M;
  const status = s(item.status);
  return {
    target: s(item.target) ?? '',
    version: n(item.version),
    status: status === 'failing' || status === 'incident' ? status : 'ok',
    consecutiveFailures: n(item.consecutiveFailures),
    lastRunId: s(item.lastRunId) ?? '',
    lastAt: s(item.lastAt) ?? '',
    failingSince: s(item.failingSince),
    incidentOpenedAt: s(item.incidentOpenedAt),
    lastNotifiedAt: s(item.lastNotifiedAt),
    lastNotification: (s(item.lastNotification) as NotificationState | null) ?? null,
    lastFailure: failure
      ? {
          step: s(failure.step) as StepName,
          kind: s(failure.kind) as FailureKind,
          phase: s(failure.phase) as Phase,
          ...(failure.status?.N !== undefined ? { status: n(failure.status) } : {}),
        }
      : null,
    updatedAt: s(item.updatedAt) ?? '',
  };
}
