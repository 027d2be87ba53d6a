import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { FindingsRecord, ResultRecord } from './types.ts';

export const RESULT_RECORD_TYPE = 'codecommit-canary/result';
export const FINDINGS_RECORD_TYPE = 'codecommit-canary/findings';

/** The probe's log line for one target and run: one JSON object, no prefix, so a subscription filter can match it. */
export const resultRecordLine = (record: ResultRecord): string => `${JSON.stringify(record)}\n`;

/** The probe's log line with the run's findings (written every run, so a cleared finding is seen). */
export const findingsRecordLine = (record: FindingsRecord): string => `${JSON.stringify(record)}\n`;

const findingsSchema = z.looseObject({
  type: z.literal(FINDINGS_RECORD_TYPE),
  v: z.literal(1),
  runId: z.string().min(1),
  at: z.iso.datetime(),
  findings: z.array(
    z.looseObject({
      code: z.string(),
      severity: z.string(),
      subject: z.string(),
      message: z.string(),
      remediation: z.string(),
    }),
  ),
});

/** Checked at the notifier's door: the fields incidents and alerts rely on. Extra fields pass through. */
const recordSchema = z.looseObject({
  type: z.literal(RESULT_RECORD_TYPE),
  v: z.literal(1),
  runId: z.string().min(1),
  at: z.iso.datetime(),
  result: z.looseObject({
    name: z.string().min(1),
    ok: z.boolean(),
    repository: z.string(),
    region: z.string(),
    steps: z.looseObject({ sts: z.looseObject({ ok: z.boolean() }), git: z.looseObject({ ok: z.boolean() }) }),
  }),
});

/** A CloudWatch Logs subscription delivery as Lambda receives it. */
export interface AwsLogsEvent {
  awslogs: { data: string };
}

export interface DecodedRecords {
  records: ResultRecord[];
  findings: FindingsRecord[];
  /** Log lines that were not result records (or not valid ones): counted, never fatal. */
  rejected: number;
  messageType: string;
}

/** Decodes the gzipped, base64 `awslogs` payload and keeps the valid result records. */
export function decodeSubscriptionEvent(event: AwsLogsEvent): DecodedRecords {
  const payload = JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as {
    messageType: string;
    logEvents?: Array<{ message: string }>;
  };
  const records: ResultRecord[] = [];
  const findings: FindingsRecord[] = [];
  let rejected = 0;
  // CONTROL_MESSAGE is CloudWatch Logs checking that the destination is reachable: nothing to do.
  for (const { message } of payload.logEvents ?? []) {
    const start = message.indexOf('{');
    let parsed: unknown;
    try {
      parsed = start >= 0 ? JSON.parse(message.slice(start)) : undefined;
    } catch {
      parsed = undefined;
    }
    const checked = recordSchema.safeParse(parsed);
    const checkedFindings = checked.success ? undefined : findingsSchema.safeParse(parsed);
    if (checked.success) records.push(checked.data as unknown as ResultRecord);
    else if (checkedFindings?.success) findings.push(checkedFindings.data as unknown as FindingsRecord);
    else rejected++;
  }
  return { records, findings, rejected, messageType: payload.messageType };
}
