/**
 * What a notification says: subject, text for people, JSON facts for machines. Pure: no clients, no clock.
 * Pages about a target come from `buildAlert`, finding notifications from `findingAlert`; both carry the
 * `dedupKey` of the owed notification, so a receiver can drop a re-send (see lib/alerting/notify.ts).
 * (Over 300 lines on purpose: one page's subject, text and facts must say the same things, so they are built
 * side by side.)
 */

import { addressKind } from '../net/addresses.ts';
import { formatSeconds } from '../net/failure.ts';
import { remediationFor } from '../run/remediation.ts';
import type {
  ExpectStepResult,
  Failure,
  FailureKind,
  Finding,
  FindingsRecord,
  PathResult,
  Phase,
  StepName,
  StepResult,
  TargetResult,
} from '../types.ts';
import { type AlertFormat, httpsBody, placeOf } from './chat.ts';
import { failedStep, type Notification, type NotificationState, severityOf } from './incident-policy.ts';
import { type ActiveMute, describeMute } from './silences.ts';

/** SNS rejects longer subjects (moto and the service accept 100; the docs say "less than 100"). */
export const SUBJECT_MAX_LENGTH = 100;
/** A failure message is one line; cap it so a pathological one cannot push the message past SNS's 256 KB. */
const MESSAGE_MAX_LENGTH = 500;

/** The same facts as the text, for machine subscribers (`sqs`, `lambda`, `http(s)`, `email-json`, `firehose`). */
export interface AlertFacts {
  type: 'codecommit-canary/alert';
  v: 1;
  state: NotificationState;
  /** The same for every send of this notification: a receiver that saw it already drops the re-send. */
  dedupKey: string;
  subject: string;
  target: string;
  repository: string;
  region: string;
  accountId: string | null;
  roleArn: string | null;
  /** ALARM/REMINDER: the failed step of this run. RECOVERED: the step that had failed. */
  step: StepName | null;
  kind: FailureKind | null;
  phase: Phase | null;
  httpStatus: number | null;
  message: string | null;
  elapsedMs: number | null;
  deadlineMs: number | null;
  endpoint: string | null;
  addresses: string[];
  /** True when every address is private (the interface endpoint path). */
  private: boolean | null;
  /** `critical` (the path is broken) or `warning` (a failed assertion: the repository is not as expected). */
  severity: 'critical' | 'warning';
  /** Some but not all of the step's endpoint addresses failed their path check; null without path checks. */
  degraded: boolean | null;
  /** Each endpoint address of the step, checked on its own (empty without path checks). */
  paths: { address: string; zone: string | null; ok: boolean; kind: FailureKind | null; phase: Phase | null }[];
  /** A fetch whose pack stalled: the bytes that arrived first. */
  bytesBeforeStall: number | null;
  /** The assertions that failed. */
  failedExpectations: { check: string; expected: string; found: string | null }[];
  failingSince: string | null;
  /** From the first failed run to this record. */
  failingForMs: number | null;
  consecutiveFailures: number;
  remediation: string | null;
  runId: string;
  at: string;
  /** Why incident state was unavailable; the alert may repeat every run while it is set. */
  failOpen: string | null;
  /** The silence or maintenance window that held this ALARM until it ended (the incident is still open). */
  heldBy: ActiveMute | null;
  /** The text people get, for subscribers that forward it (chat, tickets). */
  text: string;
}

export interface Alert<Facts extends object = AlertFacts> {
  /** Stable across re-sends of one notification (incident id + state + run); also in facts and attributes. */
  dedupKey: string;
  subject: string;
  text: string;
  /** A result's facts, or a finding's. */
  facts: Facts;
  /** SNS MessageAttributes (String) for subscription filter policies. */
  attributes: { target: string; step: string; kind: string; state: AlertState; dedupKey: string; severity: string };
}

/** Anything a sink delivers: a page about a target, or a finding notification. */
export type AnyAlert = Alert<AlertFacts> | Alert<FindingFacts>;

/** A page's states, plus a finding appearing or clearing (low severity: not a page). */
export type AlertState = NotificationState | 'FINDING' | 'CLEARED';

/** A finding notification's facts for machine subscribers. */
export interface FindingFacts {
  type: 'codecommit-canary/finding';
  finding: Finding;
  state: 'FINDING' | 'CLEARED';
  dedupKey: string;
  runId: string;
  at: string;
  text: string;
}

// ---- Formatting (pure) ----

const describeAddresses = (addresses: readonly string[]): string => {
  const kind = addressKind(addresses);
  if (kind === 'public') return 'public: not through an interface endpoint';
  if (kind === 'unknown') return "unknown: global IPv6, private only inside the VPC's IPv6 CIDR";
  return kind;
};

const STEP_LABELS: Record<StepName, string> = {
  sts: 'sts AssumeRole',
  git: 'git ls-remote',
  fetch: 'git fetch',
  expect: 'ref assertions',
};
const SUBJECT_TAGS: Record<NotificationState, string> = { ALARM: 'ALARM', REMINDER: 'REMINDER', RECOVERED: 'OK' };

/**
 * A duration for people.
 *
 * @example
 * [formatDuration(45_000), formatDuration(720_000), formatDuration(11_100_000)] // ['45 s', '12 min', '3 h 5 min']
 */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000));
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Removes what could be a credential from free text: URL user info and long base64/hex runs
 * (secret keys are 40 characters, session tokens hundreds, CodeCommit git passwords 80).
 *
 * @example
 * redact('https://AKID%token@host/x denied') // 'https://[redacted]@host/x denied'
 */
export const redact = (text: string): string =>
  text.replace(URL_USER_INFO, '$1[redacted]@').replace(/[A-Za-z0-9/+=]{40,}/g, '[redacted]');

/**
 * `scheme://userinfo@`, every repetition bounded: unbounded, a long run of scheme-like characters made the
 * engine rescan to the end from each start (65 KB of a server's text took 4 s). A scheme is at most 32
 * characters; user info (`AKID%token`) at most 8 KiB, more than any session token.
 */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^/\s@]{1,8192}@/gi;

/** A URL without user info and query (where a presigned token would be); the path stays readable. */
const redactUrl = (url: string): string => url.replace(URL_USER_INFO, '$1[redacted]@').replace(/\?\S*/, '');

/**
 * Printable ASCII only, one line, at most 100 characters (SNS's rules for Subject).
 *
 * @example
 * sanitizeSubject('[ALARM] dépôt\n: x') // '[ALARM] d?p?t : x'
 */
export function sanitizeSubject(subject: string): string {
  const printable = subject
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return printable.length <= SUBJECT_MAX_LENGTH ? printable : `${printable.slice(0, SUBJECT_MAX_LENGTH - 3)}...`;
}

/** What went wrong in a few words, after the step's label (`timed out in tls after 10.0 s`). */
function failureWords(failure: Failure, durationMs: number): string {
  const after = `after ${formatSeconds(durationMs)}`;
  const http = failure.status !== undefined ? ` (HTTP ${failure.status})` : '';
  switch (failure.kind) {
    case 'timeout':
      return `timed out in ${failure.phase} ${after}`;
    case 'dns':
      return `DNS lookup failed ${after}`;
    case 'refused':
      return `connection refused ${after}`;
    case 'reset':
      return `connection reset in ${failure.phase} ${after}`;
    case 'tls':
      return `TLS handshake failed ${after}`;
    case 'auth':
      return `access denied${http}`;
    case 'not-found':
      return `not found${http}`;
    case 'throttled':
      return `throttled${http}`;
    case 'http':
      return `failed${http}`;
    case 'protocol':
      return `unexpected response in ${failure.phase}`;
    case 'assertion':
      return `failed: ${failure.message}`;
  }
}

/**
 * The failing paths when they tell the story: only a path check failed (the step's own call got through), or the
 * step is degraded and its own failure is the one a failing path had (its call went to the broken interface).
 */
function leadingPaths(stepResult: StepResult): PathResult[] | null {
  const failure = stepResult.failure;
  const failing = (stepResult.paths ?? []).filter((path) => !path.ok);
  if (!failure || failing.length === 0) return null;
  if (failure.address !== undefined) return failing;
  const sameFailure = failing.some((p) => p.failure?.kind === failure.kind && p.failure.phase === failure.phase);
  return stepResult.degraded && sameFailure ? failing : null;
}

/**
 * `ap-northeast-1c failing, 1 of 3 addresses, timeout in connect (10.0.3.15)`: where first (the zones, else the
 * addresses), so a subject cut for length keeps it, then how many and how; `withAddresses` false drops the trailing
 * addresses (for a subject that would not fit).
 */
function pathsSummary(stepResult: StepResult, failing: readonly PathResult[], withAddresses: boolean): string {
  const total = stepResult.paths?.length ?? failing.length;
  const first = failing[0]?.failure;
  const how = first ? `, ${first.kind} in ${first.phase}` : '';
  const zones = [...new Set(failing.map((path) => path.zone).filter((zone) => zone !== null))];
  const everyZoneKnown = failing.every((path) => path.zone !== null);
  const where = everyZoneKnown ? zones.join(', ') : failing.map(placeOf).join(', ');
  const trailing = everyZoneKnown && withAddresses ? ` (${failing.map((path) => path.address).join(', ')})` : '';
  return `${where} failing, ${failing.length} of ${total} addresses${how}${trailing}`;
}

/** A size for people: `512 bytes`, `64.0 KiB`, `3.0 MiB`. */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Exact, and for people: `65536 bytes (64.0 KiB)`. */
const formatBytes = (bytes: number): string =>
  bytes < 1024 ? `${bytes} bytes` : `${bytes} bytes (${formatSize(bytes)})`;

/** The bytes a fetch got before its pack stalled (a timeout in body), else null. */
const stalledBytes = (step: StepName, stepResult: StepResult): number | null => {
  if (step !== 'fetch' || stepResult.failure?.kind !== 'timeout' || stepResult.failure.phase !== 'body') return null;
  const bytes = 'bytesBeforeStall' in stepResult ? stepResult.bytesBeforeStall : null;
  return typeof bytes === 'number' ? bytes : null;
};

/**
 * The failure in a few words, for the subject. `brief` leaves out what the body says anyway (the addresses of the
 * failing paths), for a subject that would not fit.
 *
 * @example
 * describeFailure('git', result.steps.git) // 'git ls-remote timed out in tls after 10.0 s'
 * describeFailure('git', degraded.steps.git) // 'git ls-remote: ap-northeast-1c failing, 1 of 3 addresses, timeout in connect (10.0.3.15)'
 * describeFailure('fetch', stalled.steps.fetch) // 'git fetch: refs reachable but pack transfer stalled after 65536 bytes'
 */
export function describeFailure(step: StepName, stepResult: StepResult, brief = false): string {
  const label = STEP_LABELS[step];
  const failure = stepResult.failure;
  if (!failure) return `${label} failed`;
  const paths = leadingPaths(stepResult);
  if (paths) return `${label}: ${pathsSummary(stepResult, paths, !brief)}`;
  const stalled = stalledBytes(step, stepResult);
  if (stalled !== null) return `${label}: refs reachable but pack transfer stalled after ${stalled} bytes`;
  return `${label} ${failureWords(failure, stepResult.durationMs)}`;
}

const accountOf = (result: TargetResult): string | null =>
  result.steps.sts.accountId ?? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(result.roleArn ?? '')?.[1] ?? null;

const addressesLine = (step: StepResult): string =>
  step.addresses.length === 0
    ? '(none resolved)'
    : `${step.addresses.join(', ')} (${describeAddresses(step.addresses)})`;

const field = (label: string, value: string): string => `${`${label}:`.padEnd(15)}${value}`;

/** At most this many paths are listed one per line (an endpoint name may resolve to 64 addresses). */
const PATH_LINES = 8;
const CONTINUATION = ' '.repeat(17);

/** The Paths field: how many failed, then one line per address, the failing ones first. */
function pathLines(stepResult: StepResult): string[] {
  const paths = stepResult.paths ?? [];
  if (paths.length === 0) return [];
  const failing = paths.filter((path) => !path.ok);
  const state = stepResult.degraded ? ' (degraded: the other addresses answer)' : '';
  const listed = [...failing, ...paths.filter((path) => path.ok)].slice(0, PATH_LINES).map((path) => {
    const how = path.failure
      ? `${path.failure.kind} in ${path.failure.phase} after ${formatSeconds(path.durationMs)}`
      : `ok in ${formatSeconds(path.durationMs)}`;
    return `${CONTINUATION}${placeOf(path)}: ${how}`;
  });
  const more = paths.length > PATH_LINES ? [`${CONTINUATION}and ${paths.length - PATH_LINES} more`] : [];
  return [
    field('Paths', `${failing.length} of ${paths.length} endpoint addresses failing${state}`),
    ...listed,
    ...more,
  ];
}

/** The Step field: the failed step, and what ran fine before it. */
function stepLine(step: StepName, result: TargetResult): string {
  const { sts, git } = result.steps;
  const before =
    step === 'sts'
      ? ''
      : step === 'git'
        ? ` (${STEP_LABELS.sts} ok in ${formatSeconds(sts.durationMs)})`
        : ` (${STEP_LABELS.git} ok in ${formatSeconds(git.durationMs)}, ${git.refs} refs)`;
  const own = result.steps[step]?.failure?.address !== undefined ? '; its own call succeeded, a path check failed' : '';
  return field('Step', `${STEP_LABELS[step]}${before}${own}`);
}

/** The assertions that failed, one line each. */
function expectationLines(expect: ExpectStepResult): string[] {
  const failed = expect.expectations.filter((e) => !e.ok);
  if (failed.length === 0) return [];
  return [
    field('Expectations', `${failed.length} of ${expect.expectations.length} failed`),
    ...failed.map(
      (e) => `${CONTINUATION}${e.check}: expected ${redact(e.expected)}, found ${redact(e.found ?? 'nothing')}`,
    ),
  ];
}

/**
 * The alert for a notification about a result: subject, text and facts say the same things.
 *
 * @example
 * const alert = buildAlert(notification, record.result);
 * alert.subject // '[ALARM] team-repo: git ls-remote timed out in tls after 10.0 s'
 */
export function buildAlert(notification: Notification, result: TargetResult): Alert {
  const failed = failedStep(result);
  // RECOVERED: point at the step that had failed, with what it measures now.
  const step: StepName | null = failed?.step ?? notification.failure?.step ?? null;
  const stepResult = step ? result.steps[step] : null;
  const failure = failed?.stepResult.failure ?? null;
  const recovered = notification.state === 'RECOVERED';
  const failingForMs = notification.failingSince
    ? Date.parse(notification.at) - Date.parse(notification.failingSince)
    : null;

  const summaryOf = (brief: boolean) =>
    recovered
      ? `recovered after ${failingForMs === null ? 'an incident' : formatDuration(failingForMs)}`
      : notification.state === 'REMINDER' && failingForMs !== null
        ? `still failing after ${formatDuration(failingForMs)}: ${failed ? describeFailure(failed.step, failed.stepResult, brief) : 'failed'}`
        : failed
          ? describeFailure(failed.step, failed.stepResult, brief)
          : 'failed';
  const subjectOf = (summary: string) =>
    sanitizeSubject(`[${SUBJECT_TAGS[notification.state]}] ${result.name}: ${summary}`);
  const summary = summaryOf(false);
  // Cut what the body says anyway before SNS's length cuts the end off.
  const subject = subjectOf(summary).endsWith('...') ? subjectOf(summaryOf(true)) : subjectOf(summary);

  const accountId = accountOf(result);
  const severity = severityOf(failed ? { step: failed.step } : notification.failure);
  const leading = failed ? leadingPaths(failed.stepResult) : null;
  const firstPath = leading?.[0];
  // A degraded step whose own call hit the broken interface gets the path's hint, naming the address and zone.
  const hintFor = failure && firstPath ? { ...failure, address: firstPath.address, zone: firstPath.zone } : failure;
  const remediation = !recovered && failed && hintFor ? remediationFor(failed.step, hintFor, result.region) : null;
  const stalled = failed ? stalledBytes(failed.step, failed.stepResult) : null;
  const fetchStep = result.steps.fetch;
  const expectStep = result.steps.expect;
  const message = failure ? redact(failure.message).slice(0, MESSAGE_MAX_LENGTH) : null;
  const endpoint = stepResult ? redactUrl(stepResult.endpoint) : null;
  const was = notification.failure;

  const lines = [`${notification.state}: ${result.name}: ${summary}`, ''];
  if (notification.failOpen) {
    lines.push(
      `NOTE: incident state unavailable (${redact(notification.failOpen)}); sent without de-duplication, may repeat every run.`,
      '',
    );
  }
  if (notification.heldBy) {
    lines.push(`NOTE: held while ${redact(describeMute(notification.heldBy))}; the incident is still open.`, '');
  }
  lines.push(
    field('Target', result.name),
    field('Repository', result.repository),
    field('Account/role', `${accountId ?? 'unknown account'} / ${result.roleArn ?? "the probe's own role"}`),
    field('Region', result.region),
  );
  if (recovered) {
    if (was) lines.push(field('Was', `${STEP_LABELS[was.step]}: ${was.kind} in ${was.phase}`));
    const fetched =
      fetchStep && !fetchStep.skipped
        ? `, ${STEP_LABELS.fetch} ${formatSeconds(fetchStep.durationMs)} (${formatSize(fetchStep.packBytes)} pack)`
        : '';
    lines.push(
      field(
        'Now',
        `${STEP_LABELS.sts} ${formatSeconds(result.steps.sts.durationMs)}, ${STEP_LABELS.git} ${formatSeconds(result.steps.git.durationMs)} (${result.steps.git.refs} refs)${fetched}`,
      ),
    );
  } else if (failed && stepResult) {
    if (severity === 'warning') {
      lines.push(field('Severity', 'warning: the path works, the repository is not as expected (not an outage)'));
    }
    lines.push(
      stepLine(failed.step, result),
      field('Failure', failure ? `${failure.kind} in ${failure.phase}: ${message}` : 'unknown'),
    );
    if (failed.step !== 'expect') {
      lines.push(
        field('Elapsed', `${formatSeconds(stepResult.durationMs)} of ${formatSeconds(stepResult.deadlineMs)} deadline`),
      );
    }
    if (stalled !== null && fetchStep) {
      const quiet =
        fetchStep.stalledForMs === null
          ? ''
          : `; nothing arrived for the last ${formatSeconds(fetchStep.stalledForMs)}`;
      lines.push(field('Pack', `refs reachable, transfer stalled after ${formatBytes(stalled)}${quiet}`));
    }
    if (failed.step === 'expect' && expectStep) lines.push(...expectationLines(expectStep));
  }
  if (stepResult) {
    lines.push(field('Endpoint', endpoint ?? ''), field('Addresses', addressesLine(stepResult)));
    if (!recovered) lines.push(...pathLines(stepResult));
  }
  lines.push(
    field(
      'Failing since',
      notification.failingSince
        ? `${notification.failingSince} (${notification.consecutiveFailures} failed runs${failingForMs !== null ? `, ${formatDuration(failingForMs)}` : ''})`
        : 'unknown (incident state unavailable)',
    ),
  );
  if (recovered) lines.push(field('Recovered at', notification.at));
  if (remediation) lines.push(field('Remediation', remediation));
  lines.push(field('Run id', notification.runId));
  const text = `${lines.join('\n')}\n`;

  const facts: AlertFacts = {
    type: 'codecommit-canary/alert',
    v: 1,
    state: notification.state,
    dedupKey: notification.dedupKey,
    subject,
    target: result.name,
    repository: result.repository,
    region: result.region,
    accountId,
    roleArn: result.roleArn,
    step,
    kind: failure?.kind ?? was?.kind ?? null,
    phase: failure?.phase ?? was?.phase ?? null,
    httpStatus: failure?.status ?? null,
    message,
    elapsedMs: stepResult?.durationMs ?? null,
    deadlineMs: stepResult?.deadlineMs ?? null,
    endpoint,
    addresses: stepResult?.addresses ?? [],
    private: stepResult ? stepResult.private : null,
    severity,
    degraded: stepResult?.paths ? (stepResult.degraded ?? false) : null,
    paths: (stepResult?.paths ?? []).map((path) => ({
      address: path.address,
      zone: path.zone,
      ok: path.ok,
      kind: path.failure?.kind ?? null,
      phase: path.failure?.phase ?? null,
    })),
    bytesBeforeStall: recovered ? null : stalled,
    failedExpectations:
      recovered || !expectStep
        ? []
        : expectStep.expectations
            .filter((e) => !e.ok)
            .map((e) => ({
              check: e.check,
              expected: redact(e.expected),
              found: e.found === null ? null : redact(e.found),
            })),
    failingSince: notification.failingSince,
    failingForMs,
    consecutiveFailures: notification.consecutiveFailures,
    remediation,
    runId: notification.runId,
    at: notification.at,
    failOpen: notification.failOpen ? redact(notification.failOpen) : null,
    heldBy: notification.heldBy ?? null,
    text,
  };
  return {
    dedupKey: notification.dedupKey,
    subject,
    text,
    facts,
    attributes: {
      target: result.name,
      step: facts.step ?? 'none',
      kind: facts.kind ?? 'none',
      state: notification.state,
      dedupKey: notification.dedupKey,
      severity,
    },
  };
}

/**
 * SNS message body for `MessageStructure: 'json'`: one Publish, and each subscription gets the form for its
 * protocol: people (`default`, `email`) the text, machines (`sqs`, `lambda`, `http`, `https`, `email-json`,
 * `firehose`) the JSON facts, SMS just the subject. Chosen over appending JSON to the text (people would read it)
 * or a second topic (two things to deploy, subscribe and keep in sync). With RawMessageDelivery off, machine
 * subscribers also get Subject and MessageAttributes in the SNS envelope. `alerts.format` `chatbot` or `json`
 * changes what http(s) subscribers get (lib/alerting/chat.ts): AWS Chatbot and webhooks subscribe over https.
 */
export function snsMessage(alert: AnyAlert, format: AlertFormat = 'text'): string {
  // e.g. JSON.parse(snsMessage(alert)).sqs is JSON.stringify(alert.facts)
  const json = JSON.stringify(alert.facts);
  const web = httpsBody(alert, format) ?? json;
  return JSON.stringify({
    default: alert.text,
    email: alert.text,
    sms: alert.subject,
    'email-json': json,
    sqs: json,
    lambda: json,
    http: web,
    https: web,
    firehose: json,
  });
}

/**
 * The low-severity notification for a finding that appeared or cleared.
 *
 * @example
 * findingAlert(finding, 'FINDING', record, key).subject // '[FINDING] global-sts-unreachable: sts.amazonaws.com'
 */
export function findingAlert(
  finding: Finding,
  state: 'FINDING' | 'CLEARED',
  record: Pick<FindingsRecord, 'runId' | 'at'>,
  dedupKey: string,
): Alert<FindingFacts> {
  const verb = state === 'FINDING' ? 'found' : 'cleared';
  const subject = sanitizeSubject(`[${state}] ${finding.code}: ${finding.subject}`);
  const text = [
    `codecommit-canary ${verb}: ${finding.code} (${finding.severity})`,
    '',
    finding.message,
    '',
    `What to change: ${finding.remediation}`,
    '',
    `${finding.target ? `Target: ${finding.target}\n` : ''}About: ${finding.subject}`,
    `Run: ${record.runId} at ${record.at}`,
    state === 'FINDING'
      ? 'This is a finding, not a page: probes still pass. It is announced once, and once more when it clears.'
      : 'The condition is gone as of this run.',
    '',
  ].join('\n');
  return {
    dedupKey,
    subject,
    text,
    facts: { type: 'codecommit-canary/finding', finding, state, dedupKey, runId: record.runId, at: record.at, text },
    attributes: {
      target: finding.target ?? 'none',
      step: 'none',
      kind: finding.code,
      state,
      dedupKey,
      severity: finding.severity,
    },
  };
}
