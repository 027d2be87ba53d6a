/**
 * The hop between the probe and the notifier in the deployed stack: the probe writes records to its log,
 * a CloudWatch Logs subscription filter picks them out and delivers them to the notifier as a gzipped, base64
 * `awslogs` event. The demo builds that event from the probe's log lines exactly so, then decodes it with the
 * notifier's own `decodeSubscriptionEvent`.
 */
import { gzipSync } from 'node:zlib';
import { type AwsLogsEvent, FINDINGS_RECORD_TYPE, RESULT_RECORD_TYPE } from '../log-records.ts';

/** The record types the notifier reads: what the stack's subscription filter (serverless.yml) lets through. */
const DELIVERED_TYPES: readonly unknown[] = [RESULT_RECORD_TYPE, FINDINGS_RECORD_TYPE];

export interface LogSource {
  owner: string;
  logGroup: string;
  logStream: string;
}

/** What `{ $.type = "codecommit-canary/result" || $.type = "codecommit-canary/findings" }` matches. */
function matchesFilter(line: string): boolean {
  try {
    return DELIVERED_TYPES.includes((JSON.parse(line) as { type?: unknown })?.type);
  } catch {
    return false;
  }
}

/**
 * The subscription delivery for some log lines: only the matching ones, as CloudWatch Logs sends them.
 *
 * @example
 * const event = subscriptionEvent(probeLogLines, source);
 * decodeSubscriptionEvent(event).records // the result records the probe wrote
 */
export function subscriptionEvent(lines: readonly string[], source: LogSource, now = Date.now()): AwsLogsEvent {
  const logEvents = lines
    .filter(matchesFilter)
    .map((message, i) => ({ id: `${now}${String(i).padStart(4, '0')}`, timestamp: now, message }));
  const payload = {
    messageType: 'DATA_MESSAGE',
    ...source,
    subscriptionFilters: ['codecommit-canary-results'],
    logEvents,
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}
