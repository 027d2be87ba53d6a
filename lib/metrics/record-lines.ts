/**
 * The probe's record lines, apart from their decoder (lib/metrics/log-records.ts) so the probe, which only
 * writes them, does not load the record schema and zod.
 */
import type { FindingsRecord, ResultRecord } from '../types.ts';

/** The probe's log line for one target and run: one JSON object, no prefix, so a subscription filter can match it. */
export const resultRecordLine = (record: ResultRecord): string => `${JSON.stringify(record)}\n`;

/** The probe's log line with the run's findings (written every run, so a cleared finding is seen). */
export const findingsRecordLine = (record: FindingsRecord): string => `${JSON.stringify(record)}\n`;
