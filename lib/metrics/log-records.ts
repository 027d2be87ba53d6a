/**
 * The hop between the probe and the notifier: the probe writes one JSON line per record to its log; a
 * CloudWatch Logs subscription filter delivers the record lines to the notifier as a gzipped, base64 `awslogs`
 * event; `decodeSubscriptionEvent` reads them back and keeps only the plausible ones.
 *
 * Anyone with `logs:PutLogEvents` on the probe's log group can write a line there (docs/reliability.md, "What a
 * principal with logs:PutLogEvents can still do"), so a record is kept only when it came from the stack's probe
 * log group and account, from a Lambda log stream, passes the full record schema (lib/metrics/record-schema.ts), and is
 * dated close to when it was logged and not ahead of now.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod/mini';
import { FINDINGS_RECORD_TYPE, type FindingsRecord, RESULT_RECORD_TYPE, type ResultRecord } from '../types.ts';
import { findingsRecordSchema, resultRecordSchema } from './record-schema.ts';

export { findingsRecordLine, resultRecordLine } from './record-lines.ts';
export { FINDINGS_RECORD_TYPE, RESULT_RECORD_TYPE };

/** The probe function's log group, as the stack names it (`<stack>-probe`). */
export const probeLogGroupName = (stack: string): string => `/aws/lambda/${stack}-probe`;

/** A CloudWatch Logs subscription delivery as Lambda receives it. */
export interface AwsLogsEvent {
  awslogs: { data: string };
}

/** Why a log event of a delivery was not kept. Only `not-a-record` is expected (EMF and other lines). */
export const REJECTION_REASONS = [
  /** Not JSON, or JSON of another type (EMF shares the log group): expected, not suspicious. */
  'not-a-record',
  /** A record line that fails the full record schema. */
  'schema',
  /** The delivery names another log group than the probe's. */
  'log-group',
  /** The delivery names another account than the stack's. */
  'account',
  /** The log stream is not one a Lambda function writes (`YYYY/MM/DD/[<version>]<32 hex>`). */
  'log-stream',
  /** The record's `at` is further from the log event's timestamp than the allowed skew. */
  'clock-skew',
  /** The record's `at` is further ahead of now than the allowed skew. */
  'future',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Rejections other than `not-a-record`: someone or something wrote a record line that should not be there. */
export const SUSPICIOUS_REJECTIONS: readonly RejectionReason[] = REJECTION_REASONS.filter((r) => r !== 'not-a-record');

export interface ExpectedSource {
  /** The probe's log group (see {@link probeLogGroupName}). */
  logGroup: string;
  /** The account the probe's log group lives in; not checked when absent. */
  account?: string;
  /** Now, for the future check (default: the system clock). */
  now?: Date;
  /**
   * How far a record's `at` may be from its log event's timestamp, and ahead of now (default 5 minutes).
   * A record is dated when its sample started and logged when its probes ended: keep this above the probe
   * function's timeout.
   */
  maxSkewMs?: number;
}

export const DEFAULT_MAX_SKEW_MS = 5 * 60_000;

export interface DecodedRecords {
  records: ResultRecord[];
  findings: FindingsRecord[];
  /** Log events not kept (every reason, `not-a-record` included): counted, never fatal. */
  rejected: number;
  /** `rejected` by reason (reasons that did not occur are absent). */
  rejections: Partial<Record<RejectionReason, number>>;
  messageType: string;
}

/** The `awslogs` payload, as CloudWatch Logs sends it. */
const payloadSchema = z.object({
  messageType: z.string(),
  owner: z.string(),
  logGroup: z.string(),
  logStream: z.string(),
  subscriptionFilters: z.optional(z.array(z.string())),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});

/** More than any CloudWatch Logs delivery inflates to (a PutLogEvents batch is at most 1 MiB). */
const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;

/** What Lambda names its log streams: `2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef`. */
const LAMBDA_LOG_STREAM =
  /^(\d{4})\/(0[1-9]|1[0-2])\/(0[1-9]|[12]\d|3[01])\/\[(?:\$LATEST|[1-9]\d{0,9})\][0-9a-f]{32}$/;

export const isLambdaLogStream = (name: string): boolean => LAMBDA_LOG_STREAM.test(name);

const typeSchema = z.object({ type: z.unknown() });

/** The JSON object in a log line (from its first `{`), or undefined. */
function jsonObjectIn(message: string): unknown {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(message.slice(start));
  } catch {
    return undefined;
  }
}

/** A failed delivery (not a rejected record): thrown, so Lambda retries and then hands it to the on-failure destination. */
export class MalformedDeliveryError extends Error {
  override readonly name = 'MalformedDeliveryError';
}

function payloadOf(event: AwsLogsEvent): z.output<typeof payloadSchema> {
  let json: unknown;
  try {
    const bytes = gunzipSync(Buffer.from(event.awslogs.data, 'base64'), { maxOutputLength: MAX_PAYLOAD_BYTES });
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new MalformedDeliveryError(`awslogs payload is not gzipped JSON: ${(error as Error).message}`);
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) {
    throw new MalformedDeliveryError(
      `awslogs payload is not a subscription delivery: ${z.prettifyError(payload.error)}`,
    );
  }
  return payload.data;
}

/**
 * Decodes a subscription delivery and keeps the plausible records; every other log event is counted by reason.
 * A CONTROL_MESSAGE (CloudWatch Logs checking the destination) yields nothing. A payload that is not gzipped
 * JSON of the subscription shape throws {@link MalformedDeliveryError}: a broken delivery, not a forged record.
 *
 * @example
 * const { records, findings, rejections } = decodeSubscriptionEvent(event, { logGroup: probeLogGroupName(stack), account });
 */
export function decodeSubscriptionEvent(event: AwsLogsEvent, expect: ExpectedSource): DecodedRecords {
  const payload = payloadOf(event);
  const decoded: DecodedRecords = {
    records: [],
    findings: [],
    rejected: 0,
    rejections: {},
    messageType: payload.messageType,
  };
  if (payload.messageType !== 'DATA_MESSAGE') return decoded;
  const reject = (reason: RejectionReason) => {
    decoded.rejected++;
    decoded.rejections[reason] = (decoded.rejections[reason] ?? 0) + 1;
  };
  // The whole delivery is someone else's: every event counts.
  const misdelivered: RejectionReason | null =
    payload.logGroup !== expect.logGroup
      ? 'log-group'
      : expect.account !== undefined && payload.owner !== expect.account
        ? 'account'
        : null;
  const streamOk = isLambdaLogStream(payload.logStream);
  const now = (expect.now ?? new Date()).getTime();
  const maxSkewMs = expect.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;

  for (const logEvent of payload.logEvents) {
    if (misdelivered) {
      reject(misdelivered);
      continue;
    }
    const json = jsonObjectIn(logEvent.message);
    const type = typeSchema.safeParse(json).data?.type;
    if (type !== RESULT_RECORD_TYPE && type !== FINDINGS_RECORD_TYPE) {
      reject('not-a-record');
      continue;
    }
    if (!streamOk) {
      reject('log-stream');
      continue;
    }
    const checked =
      type === RESULT_RECORD_TYPE ? resultRecordSchema.safeParse(json) : findingsRecordSchema.safeParse(json);
    if (!checked.success) {
      reject('schema');
      continue;
    }
    const at = Date.parse(checked.data.at);
    if (at - now > maxSkewMs) {
      reject('future');
      continue;
    }
    if (Math.abs(at - logEvent.timestamp) > maxSkewMs) {
      reject('clock-skew');
      continue;
    }
    if (checked.data.type === RESULT_RECORD_TYPE) decoded.records.push(checked.data);
    else decoded.findings.push(checked.data);
  }
  return decoded;
}

export interface SubscriptionSource {
  logGroup: string;
  logStream: string;
  owner: string;
  /** The log events' timestamp (ms since the epoch; default: now). */
  timestamp?: number;
}

/** The filter the stack subscribes with: `{ $.type = "codecommit-canary/result" || $.type = "codecommit-canary/findings" }`. */
function matchesSubscriptionFilter(line: string): boolean {
  try {
    const type = typeSchema.safeParse(JSON.parse(line)).data?.type;
    return type === RESULT_RECORD_TYPE || type === FINDINGS_RECORD_TYPE;
  } catch {
    return false;
  }
}

/**
 * What CloudWatch Logs delivers to the notifier for some of the probe's log lines: only the lines the stack's
 * subscription filter matches, gzipped and base64-encoded. For tests and the demo.
 *
 * @example
 * const event = encodeSubscriptionEvent(probeStdout.split('\n'), {
 *   logGroup: probeLogGroupName('canary'),
 *   logStream: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
 *   owner: '111111111111',
 * });
 */
export function encodeSubscriptionEvent(lines: readonly string[], source: SubscriptionSource): AwsLogsEvent {
  const timestamp = source.timestamp ?? Date.now();
  const logEvents = lines
    .map((line) => line.trim())
    .filter(matchesSubscriptionFilter)
    .map((message, i) => ({ id: `${timestamp}${String(i).padStart(6, '0')}`, timestamp, message }));
  const payload = {
    messageType: 'DATA_MESSAGE',
    owner: source.owner,
    logGroup: source.logGroup,
    logStream: source.logStream,
    subscriptionFilters: ['codecommit-canary-records'],
    logEvents,
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}
