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
 *
 * Written with `zod/mini` (the same checks and types as classic zod): the notifier builds these schemas at cold
 * start, and classic zod's schemas, each carrying its whole method set, cost it several times as much to build and
 * to run the first time.
 */
import { isIP } from 'node:net';
import * as z from 'zod/mini';
import { REPOSITORY_NAME } from '../config/target-url.ts';
import {
  FAILURE_KINDS,
  FINDING_CODES,
  FINDINGS_RECORD_TYPE,
  PHASES,
  RESULT_RECORD_TYPE,
  SEVERITIES,
  targetVerdict,
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
  /** An Availability Zone name or ID. */
  zone: 64,
  expectations: 1000,
  findings: 1000,
  /** Any duration or deadline: no step outlives a Lambda invocation (15 minutes). */
  ms: 900_000,
  /** ± days of certificate validity. */
  days: 100_000,
} as const;

/** Free text: kept whole up to `max` characters, else cut to `max` ending in `…` (never inside a surrogate pair). */
export const boundedText = (max: number = RECORD_LIMITS.text) =>
  z.pipe(
    z.string(),
    z.transform((text: string) => {
      if (text.length <= max) return text;
      let end = max - 1;
      const last = text.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff) end--;
      return `${text.slice(0, end)}…`;
    }),
  );

/** Printable, no control characters (names end up in subjects, keys and terminal output). */
const label = (max: number) =>
  z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[^\p{Cc}]+$/u, { error: 'control characters' }));

const milliseconds = z.number().check(z.gte(0), z.lte(RECORD_LIMITS.ms));

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
  status: z.optional(z.int().check(z.gte(0), z.lte(999))),
  /** The endpoint address that failed, when the step's own call succeeded and only a path check did not. */
  address: z.optional(
    z.string().check(
      z.maxLength(RECORD_LIMITS.address),
      z.refine((a) => isIP(a) !== 0, { error: 'not an IP address' }),
    ),
  ),
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

const sha = z.string().check(z.regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/));
const ipAddress = z.string().check(
  z.maxLength(RECORD_LIMITS.address),
  z.refine((address) => isIP(address) !== 0, { error: 'not an IP address' }),
);

/** One address of a step's endpoint name, checked on its own: connect, TLS, one answer without credentials. */
export const pathResultSchema = z
  .object({
    address: ipAddress,
    /** Its Availability Zone (`network.zones`), or null when no subnet there holds it. */
    zone: z.nullable(label(RECORD_LIMITS.zone)),
    ok: z.boolean(),
    durationMs: milliseconds,
    phases: phasesSchema,
    failure: z.nullable(failureSchema),
  })
  .check(
    z.refine((path) => path.ok === (path.failure === null), {
      error: 'ok must hold exactly when the path has no failure',
    }),
  );

const stepShape = {
  ok: z.boolean(),
  skipped: z.optional(z.literal(true)),
  endpoint: z.url({ protocol: /^https?$/ }).check(z.maxLength(RECORD_LIMITS.url)),
  /** Addresses the endpoint's host name resolved to. */
  addresses: z.array(ipAddress).check(z.maxLength(RECORD_LIMITS.addresses)),
  /** True when every resolved address is private (RFC 1918 / RFC 6598 / IPv6 ULA or inside network.vpcCidrs; loopback is not). */
  private: z.boolean(),
  durationMs: milliseconds,
  /** The deadline this step ran against. */
  deadlineMs: milliseconds,
  phases: phasesSchema,
  failure: z.nullable(failureSchema),
  /** Days until the endpoint's TLS certificate expires, when a handshake completed. */
  certificateDaysLeft: z.optional(z.int().check(z.gte(-RECORD_LIMITS.days), z.lte(RECORD_LIMITS.days))),
  /**
   * How the step's request got its connection: `new` (connect and TLS done and timed here) or `reused` (kept open
   * from an earlier request to the same endpoint in this run: connect and TLS are 0, the first step on it timed
   * them). Absent from probes that always connect anew.
   */
  connection: z.optional(z.enum(['new', 'reused'])),
  /**
   * Every address the endpoint's name resolved to, each checked on its own (`probe.everyAddress`, sts and git
   * steps); absent when the checks are off.
   */
  paths: z.optional(z.array(pathResultSchema).check(z.maxLength(RECORD_LIMITS.addresses))),
  /** Some but not all paths failed: one Availability Zone's endpoint interface (or the way to it) is broken. */
  degraded: z.optional(z.boolean()),
};

/** As the probe writes a step: `ok` exactly when it has no failure and was not skipped. */
const consistentStep = (step: { ok: boolean; skipped?: true | undefined; failure: unknown }) =>
  step.ok ? step.failure === null && !step.skipped : step.failure !== null || step.skipped === true;
const STEP_VERDICT = { error: 'ok must hold exactly when the step has no failure and was not skipped' };

export const stepResultSchema = z.object(stepShape).check(z.refine(consistentStep, STEP_VERDICT));

export const stsStepResultSchema = z
  .object({
    ...stepShape,
    /** The assumed role's account (from the returned ARN), when the call succeeded. */
    accountId: z.optional(z.string().check(z.regex(/^\d{12}$/))),
  })
  .check(z.refine(consistentStep, STEP_VERDICT));

export const gitStepResultSchema = z
  .object({
    ...stepShape,
    /** Number of lines `git ls-remote` prints for the repository. */
    refs: z.int().check(z.gte(0), z.lte(100_000_000)),
    head: z.nullable(z.string().check(z.minLength(1), z.maxLength(RECORD_LIMITS.ref))),
    headSha: z.nullable(sha),
  })
  .check(z.refine(consistentStep, STEP_VERDICT));

const byteCount = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/** Step `fetch`: a shallow fetch of HEAD, its pack checked (see lib/steps/git/fetch.ts). */
export const fetchStepResultSchema = z
  .object({
    ...stepShape,
    /** The fetched commit, found in the pack and hashed. */
    commit: z.nullable(sha),
    tree: z.nullable(sha),
    /** The fetched commit's committer time. */
    committedAt: z.nullable(instantSchema),
    objects: byteCount,
    packBytes: byteCount,
    throughputBytesPerSec: z.nullable(byteCount),
    /** The deadline struck while the pack streamed in: the body bytes that had arrived ("stalled after N bytes"). */
    bytesBeforeStall: z.nullable(byteCount),
    /** With `bytesBeforeStall`: how long no byte had arrived when the deadline struck. */
    stalledForMs: z.nullable(milliseconds),
    /** Why the fetch did not run (ls-remote failed, an empty repository), when skipped. */
    skipReason: z.optional(boundedText()),
  })
  .check(z.refine(consistentStep, STEP_VERDICT));

/** One line of a target's `expect`, checked against what ls-remote (and the fetch) found. */
export const expectationSchema = z.object({
  /** `ref` (an expected ref is advertised), `head` (HEAD points at the expected branch), `headAge`. */
  check: z.enum(['ref', 'head', 'headAge']),
  ok: z.boolean(),
  expected: boundedText(RECORD_LIMITS.ref),
  found: z.nullable(boundedText(RECORD_LIMITS.ref)),
});

/** Step `expect`: the target's ref assertions; a failure has kind `assertion` (phase `body`). */
export const expectStepResultSchema = z
  .object({ ...stepShape, expectations: z.array(expectationSchema).check(z.maxLength(RECORD_LIMITS.expectations)) })
  .check(z.refine(consistentStep, STEP_VERDICT));

export const targetResultSchema = z
  .object({
    name: label(RECORD_LIMITS.name),
    ok: z.boolean(),
    repository: z.string().check(z.regex(REPOSITORY_NAME)),
    region: z.string().check(z.regex(/^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/)),
    roleArn: z.nullable(
      z.string().check(z.maxLength(RECORD_LIMITS.roleArn), z.regex(/^arn:aws[\w-]*:iam::\d{12}:role\/\S+$/)),
    ),
    steps: z.object({
      sts: stsStepResultSchema,
      git: gitStepResultSchema,
      fetch: z.optional(fetchStepResultSchema),
      expect: z.optional(expectStepResultSchema),
    }),
  })
  .check(
    z.refine((target) => target.ok === targetVerdict(target.steps), {
      error: 'ok must hold exactly when sts and git are ok and fetch and expect are ok or skipped',
      path: ['ok'],
    }),
  );

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
  target: z.optional(label(RECORD_LIMITS.name)),
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
  findings: z.array(findingSchema).check(z.maxLength(RECORD_LIMITS.findings)),
});

export type Failure = z.output<typeof failureSchema>;
export type Phases = z.output<typeof phasesSchema>;
export type StepResult = z.output<typeof stepResultSchema>;
export type StsStepResult = z.output<typeof stsStepResultSchema>;
export type GitStepResult = z.output<typeof gitStepResultSchema>;
export type PathResult = z.output<typeof pathResultSchema>;
export type FetchStepResult = z.output<typeof fetchStepResultSchema>;
export type ExpectStepResult = z.output<typeof expectStepResultSchema>;
export type TargetResult = z.output<typeof targetResultSchema>;
export type ResultRecord = z.output<typeof resultRecordSchema>;
export type Severity = z.output<typeof severitySchema>;
export type Finding = z.output<typeof findingSchema>;
export type FindingsRecord = z.output<typeof findingsRecordSchema>;
