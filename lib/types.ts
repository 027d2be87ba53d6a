/** Shared result types: a probe's outcome is data, never an exception. */

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

export interface Failure {
  kind: FailureKind;
  phase: Phase;
  /** One line for people; never contains a secret. */
  message: string;
  /** HTTP status when the failure came from one. */
  status?: number;
}

/** Phase durations in ms; every phase is always present (0 when it never happened). */
export interface Phases {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  /** Request sent → first response byte. */
  firstByteMs: number;
  /** First response byte → last byte read. */
  transferMs: number;
}

export interface StepResult {
  ok: boolean;
  skipped?: true;
  endpoint: string;
  /** Addresses the endpoint's host name resolved to. */
  addresses: string[];
  /** True when every resolved address is private (RFC 1918 / RFC 6598 / IPv6 ULA; loopback is not). */
  private: boolean;
  durationMs: number;
  /** The deadline this step ran against. */
  deadlineMs: number;
  phases: Phases;
  failure: Failure | null;
  /** Days until the endpoint's TLS certificate expires, when a handshake completed. */
  certificateDaysLeft?: number;
}

export interface StsStepResult extends StepResult {
  /** The assumed role's account (from the returned ARN), when the call succeeded. */
  accountId?: string;
}

export interface GitStepResult extends StepResult {
  /** Number of lines `git ls-remote` prints for the repository. */
  refs: number;
  head: string | null;
  headSha: string | null;
}

export interface TargetResult {
  name: string;
  ok: boolean;
  repository: string;
  region: string;
  roleArn: string | null;
  steps: { sts: StsStepResult; git: GitStepResult };
}

export const FINDING_CODES = [
  'global-sts-unreachable',
  'endpoint-not-private',
  'endpoint-outside-vpc',
  'certificate-expiring',
  'profile-uses-global-sts',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];
export type Severity = 'info' | 'warning' | 'critical';

/** A path problem that is not (yet) a failed probe: a trap other clients fall into, or one about to open. */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  target?: string;
  /** What the finding is about (an endpoint host), so two findings of one code stay apart. */
  subject: string;
  message: string;
  remediation: string;
}

export interface Report {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  targets: TargetResult[];
  findings: Finding[];
}

/** The probe's log line with the run's findings (one per run, even when empty, so clearing is seen). */
export interface FindingsRecord {
  type: 'codecommit-canary/findings';
  v: 1;
  runId: string;
  at: string;
  findings: Finding[];
}

export const zeroPhases = (): Phases => ({ dnsMs: 0, connectMs: 0, tlsMs: 0, firstByteMs: 0, transferMs: 0 });

/**
 * One line the probe writes to its log per target and run. The notifier reads these back through
 * the CloudWatch Logs subscription; `runId` + `target` identify a record, so re-deliveries are recognisable.
 */
export interface ResultRecord {
  type: 'codecommit-canary/result';
  v: 1;
  runId: string;
  /** When the target's probe started (ISO-8601). */
  at: string;
  result: TargetResult;
}
