/** Shared result types: a probe's outcome is data, never an exception. */

import type { Finding, Phases, TargetResult } from './metrics/record-schema.ts';

export const STEP_NAMES = ['sts', 'git'] as const;
export type StepName = (typeof STEP_NAMES)[number];

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
  Failure,
  Finding,
  FindingsRecord,
  GitStepResult,
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
