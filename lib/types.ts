/** Shared result types: a probe's outcome is data, never an exception. */

import type { Finding, Phases, TargetResult } from './metrics/record-schema.ts';

/**
 * The steps of a target's probe, in order: `sts` (AssumeRole) and `git` (ls-remote) always; `fetch` (a shallow
 * fetch of HEAD) and `expect` (the ref assertions) only for targets that turned them on.
 */
export const STEP_NAMES = ['sts', 'git', 'fetch', 'expect'] as const;
export type StepName = (typeof STEP_NAMES)[number];
/** The steps every probe runs, over their own endpoint (each with its path checks). */
export const ENDPOINT_STEP_NAMES = ['sts', 'git'] as const;

/** What went wrong (contract: these spellings appear in reports, metrics and alerts). */
export const FAILURE_KINDS = [
  'timeout',
  'dns',
  'refused',
  'reset',
  'tls',
  'auth',
  'not-found',
  'throttled',
  'http',
  'protocol',
  /** The repository answered, but not as `expect` says it should look (a ref missing, another HEAD, a stale HEAD). */
  'assertion',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Where it went wrong: the phase of the HTTPS exchange that was running. */
export const PHASES = ['dns', 'connect', 'tls', 'response', 'body'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * The record types (what the probe writes and the notifier reads back) are derived from their schemas in
 * lib/metrics/record-schema.ts, so the type and the check at the notifier's door cannot drift apart.
 */
export type {
  ExpectStepResult,
  Failure,
  FetchStepResult,
  Finding,
  FindingsRecord,
  GitStepResult,
  PathResult,
  Phases,
  ResultRecord,
  Severity,
  StepResult,
  StsStepResult,
  TargetResult,
} from './metrics/record-schema.ts';

export const FINDING_CODES = [
  'global-sts-unreachable',
  'endpoint-not-private',
  'endpoint-outside-vpc',
  'certificate-expiring',
  'profile-uses-global-sts',
  'target-in-other-region',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;

/** The `type` of the probe's log lines the notifier reads (what the stack's subscription filter lets through). */
export const RESULT_RECORD_TYPE = 'codecommit-canary/result';
export const FINDINGS_RECORD_TYPE = 'codecommit-canary/findings';

export interface Report {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  targets: TargetResult[];
  findings: Finding[];
}

export const zeroPhases = (): Phases => ({ dnsMs: 0, connectMs: 0, tlsMs: 0, firstByteMs: 0, transferMs: 0 });

/** A skipped step stands for nothing of its own: the step whose failure caused the skip, or an empty repository. */
const okOrSkipped = (step: { ok: boolean; skipped?: true | undefined } | undefined) =>
  step === undefined || step.ok || step.skipped === true;

/**
 * A target's verdict from its steps: `sts` and `git` ok, `fetch` and `expect` ok or skipped (they are skipped only
 * when ls-remote failed, which already counts, or for an empty repository, which is not a failure).
 */
export function targetVerdict(steps: {
  sts: { ok: boolean };
  git: { ok: boolean };
  fetch?: { ok: boolean; skipped?: true | undefined } | undefined;
  expect?: { ok: boolean; skipped?: true | undefined } | undefined;
}): boolean {
  return steps.sts.ok && steps.git.ok && okOrSkipped(steps.fetch) && okOrSkipped(steps.expect);
}
