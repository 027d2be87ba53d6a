/**
 * The schemas of the records the probe writes to its log and the notifier reads back through the subscription
 * (lib/metrics/log-records.ts): the single source of the record types (lib/types.ts re-exports them) and the full check
 * at the notifier's door. Anyone with `logs:PutLogEvents` on the probe's log group can write a line there, so a
 * record is data from outside until it passed this.
 *
 * - Unknown fields are stripped, not refused: a newer probe that adds a field still reaches an older notifier.
 * - Identifiers are bounded and refused past their bound (a real probe never writes one that long).
 * - Free text from the network (a failure's message may quote a server's whole `ERR` line) is cut to its bound,
 *   not refused: a real failure must never be dropped for its wording.
 * - A step's and a target's verdicts must agree with each other, as the probe writes them.
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import { REPOSITORY_NAME } from '../config/target-url.ts';
import {
  FAILURE_KINDS,
  FINDING_CODES,
  FINDINGS_RECORD_TYPE,
  PHASES,
  RESULT_RECORD_TYPE,
  SEVERITIES,
} from '../types.ts';

/** The bounds of a record's fields (characters, items, milliseconds). */
export const RECORD_LIMITS = {
  /** Free text (failure and finding messages, remediations): longer text is cut to this, ending in `…`. */
  text: 2000,
  /** Target names (config: 64; the CLI's ad-hoc `profile@repository`). */
  name: 100,
  runId: 100,
  /** URLs (an endpoint's origin) and finding subjects (an endpoint's host or origin). */
  url: 300,
  roleArn: 2048,
  /** A ref name (`refs/heads/…`; CodeCommit allows 256-character branch names). */
  ref: 1024,
  addresses: 64,
  address: 64,
  findings: 1000,
  /** Any duration or deadline: no step outlives a Lambda invocation (15 minutes). */
  ms: 900_000,
  /** ± days of certificate validity. */
  days: 100_000,
} as const;

/** Free text: kept whole up to `max` characters, else cut to `max` ending in `…` (never inside a surrogate pair). */
export const boundedText = (max: number = RECORD_LIMITS.text) =>
  z.string().transform((text) => {
    if (text.length <= max) return text;
    let end = max - 1;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    return `${text.slice(0, end)}…`;
  });

/** Printable, no control characters (names end up in subjects, keys and terminal output). */
const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]+$/u, { error: 'control characters' });

const milliseconds = z.number().min(0).max(RECORD_LIMITS.ms);

/**
 * An instant exactly as `Date.prototype.toISOString` writes it (`2026-11-29T07:20:00.000Z`): one spelling per
 * instant, so records order by their `at` as strings, as the incident state compares them.
 */
export const instantSchema = z.iso.datetime({ precision: 3 });

export const failureSchema = z.object({
  kind: z.enum(FAILURE_KINDS),
  phase: z.enum(PHASES),
  /** One line for people; never contains a secret. */
  message: boundedText(),
  /** HTTP status when the failure came from one. */
  status: z.number().int().min(0).max(999).optional(),
});

/** Phase durations in ms; every phase is always present (0 when it never happened). */
export const phasesSchema = z.object({
  dnsMs: milliseconds,
  connectMs: milliseconds,
  tlsMs: milliseconds,
  /** Request sent → first response byte. */
  firstByteMs: milliseconds,
  /** First response byte → last byte read. */
  transferMs: milliseconds,
});

const stepShape = {
  ok: z.boolean(),
  skipped: z.literal(true).optional(),
  endpoint: z.url({ protocol: /^https?$/ }).max(RECORD_LIMITS.url),
  /** Addresses the endpoint's host name resolved to. */
  addresses: z
    .array(
      z
        .string()
        .max(RECORD_LIMITS.address)
        .refine((address) => isIP(address) !== 0, { error: 'not an IP address' }),
    )
    .max(RECORD_LIMITS.addresses),
  /** True when every resolved address is private (RFC 1918 / RFC 6598 / IPv6 ULA or inside network.vpcCidrs; loopback is not). */
  private: z.boolean(),
  durationMs: milliseconds,
  /** The deadline this step ran against. */
  deadlineMs: milliseconds,
  phases: phasesSchema,
  failure: failureSchema.nullable(),
  /** Days until the endpoint's TLS certificate expires, when a handshake completed. */
  certificateDaysLeft: z.number().int().min(-RECORD_LIMITS.days).max(RECORD_LIMITS.days).optional(),
};

/** As the probe writes a step: `ok` exactly when it has no failure and was not skipped. */
const consistentStep = (step: { ok: boolean; skipped?: true | undefined; failure: unknown }) =>
  step.ok ? step.failure === null && !step.skipped : step.failure !== null || step.skipped === true;
const STEP_VERDICT = { error: 'ok must hold exactly when the step has no failure and was not skipped' };

export const stepResultSchema = z.object(stepShape).refine(consistentStep, STEP_VERDICT);

export const stsStepResultSchema = z
  .object({
    ...stepShape,
    /** The assumed role's account (from the returned ARN), when the call succeeded. */
    accountId: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
  })
  .refine(consistentStep, STEP_VERDICT);

export const gitStepResultSchema = z
  .object({
    ...stepShape,
    /** Number of lines `git ls-remote` prints for the repository. */
    refs: z.number().int().min(0).max(100_000_000),
    head: z.string().min(1).max(RECORD_LIMITS.ref).nullable(),
    headSha: z
      .string()
      .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/)
      .nullable(),
  })
  .refine(consistentStep, STEP_VERDICT);

export const targetResultSchema = z
  .object({
    name: label(RECORD_LIMITS.name),
    ok: z.boolean(),
    repository: z.string().regex(REPOSITORY_NAME),
    region: z.string().regex(/^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/),
    roleArn: z
      .string()
      .max(RECORD_LIMITS.roleArn)
      .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/\S+$/)
      .nullable(),
    steps: z.object({ sts: stsStepResultSchema, git: gitStepResultSchema }),
  })
  .refine((target) => target.ok === (target.steps.sts.ok && target.steps.git.ok), {
    error: 'ok must hold exactly when both steps are ok',
    path: ['ok'],
  });

/**
 * One line the probe writes to its log per target and run. The notifier reads these back through
 * the CloudWatch Logs subscription; `runId` + `target` identify a record, so re-deliveries are recognisable.
 */
export const resultRecordSchema = z.object({
  type: z.literal(RESULT_RECORD_TYPE),
  v: z.literal(1),
  runId: label(RECORD_LIMITS.runId),
  /** When the target's probe started (ISO-8601). */
  at: instantSchema,
  result: targetResultSchema,
});

export const severitySchema = z.enum(SEVERITIES);

/** A path problem that is not (yet) a failed probe: a trap other clients fall into, or one about to open. */
export const findingSchema = z.object({
  code: z.enum(FINDING_CODES),
  severity: severitySchema,
  target: label(RECORD_LIMITS.name).optional(),
  /** What the finding is about (an endpoint host), so two findings of one code stay apart. */
  subject: label(RECORD_LIMITS.url),
  message: boundedText(),
  remediation: boundedText(),
});

/** The probe's log line with the run's findings (one per run, even when empty, so clearing is seen). */
export const findingsRecordSchema = z.object({
  type: z.literal(FINDINGS_RECORD_TYPE),
  v: z.literal(1),
  runId: label(RECORD_LIMITS.runId),
  at: instantSchema,
  findings: z.array(findingSchema).max(RECORD_LIMITS.findings),
});

export type Failure = z.output<typeof failureSchema>;
export type Phases = z.output<typeof phasesSchema>;
export type StepResult = z.output<typeof stepResultSchema>;
export type StsStepResult = z.output<typeof stsStepResultSchema>;
export type GitStepResult = z.output<typeof gitStepResultSchema>;
export type TargetResult = z.output<typeof targetResultSchema>;
export type ResultRecord = z.output<typeof resultRecordSchema>;
export type Severity = z.output<typeof severitySchema>;
export type Finding = z.output<typeof findingSchema>;
export type FindingsRecord = z.output<typeof findingsRecordSchema>;
