/**
 * The config's `alerts` section: when an incident opens and reminds, the maintenance windows that hold pages
 * (`mute`), the longest silence the CLI sets, how long incident history is kept, and the alert format. The new
 * fields have no schema default, so a config without them reads as before; the code's defaults apply
 * (lib/alerting/history.ts, lib/alerting/silences.ts, lib/alerting/chat.ts).
 */
import { z } from 'zod';
import { parseCron, parseDuration } from '../alerting/silences.ts';
import { integer, object, text } from './fields.ts';

/** Alert bodies: `text` as always, `chatbot` (AWS Chatbot custom notifications), `json` (a webhook's event). */
export const ALERT_FORMATS = ['text', 'chatbot', 'json'] as const;
export const DEFAULT_SILENCE_MAX_HOURS = 24;

const isoTime = text(
  'an ISO-8601 time like 2026-12-01T02:00:00Z',
  (s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)),
);

const windowSchema = object({
  targets: z
    .array(text('a target name, or "*" for all'), { error: 'required: a list of target names, or ["*"]' })
    .min(1, { error: 'expected at least one target' }),
  cron: text('a 5-field cron expression in UTC like "0 2 * * SUN"', (s) => parseCron(s) !== null).optional(),
  duration: text('a duration like 2h or 90m', (s) => parseDuration(s) !== null).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  reason: text('a reason of 1-200 characters', (s) => s.trim().length > 0 && s.length <= 200),
});

export const alertsSchema = object({
  failuresBeforeAlert: integer('an integer between 1 and 100', 1, 100).default(2),
  renotifyMinutes: integer('minutes between 1 and 10080', 1, 10_080).default(60),
  format: z.enum(ALERT_FORMATS, { error: 'expected "text", "chatbot" or "json"' }).optional(),
  mute: z.array(windowSchema, { error: 'expected a list of maintenance windows' }).optional(),
  /** The longest silence `codecommit-canary mute --for` accepts. Default 24. */
  silenceMaxHours: integer('hours between 1 and 720', 1, 720).optional(),
  /** Days incident history and the silence log are kept (the table's TTL). Default 90. */
  historyDays: integer('days between 1 and 3650', 1, 3650).optional(),
}).prefault({});

/**
 * Rules across fields of `alerts.mute`, on the raw input: each window is `cron` with `duration` or `from` with a
 * later `to`, and names targets the config has.
 */
export function muteTargetProblems(raw: unknown): string[] {
  const windows = (raw as { alerts?: { mute?: unknown } })?.alerts?.mute;
  const targets = (raw as { targets?: unknown })?.targets;
  if (!Array.isArray(windows)) return [];
  const names = new Set(Array.isArray(targets) ? targets.map((t) => (t as { name?: unknown })?.name) : []);
  const problems: string[] = [];
  windows.forEach((w: Record<string, unknown> | null, index) => {
    if (typeof w !== 'object' || w === null) return;
    const at = `alerts.mute[${index}]`;
    const byCron = w.cron !== undefined;
    const byTimes = w.from !== undefined || w.to !== undefined;
    if (byCron === byTimes) problems.push(`${at}: expected either cron with duration, or from and to`);
    else if (byCron && w.duration === undefined)
      problems.push(`${at}.duration: required with cron: a duration like 2h`);
    else if (byTimes && (typeof w.from !== 'string' || typeof w.to !== 'string')) {
      problems.push(`${at}: expected both from and to`);
    } else if (byTimes && Date.parse(w.to as string) <= Date.parse(w.from as string)) {
      problems.push(`${at}.to: expected a time after from`);
    }
    if (!Array.isArray(w.targets)) return;
    for (const target of w.targets) {
      if (typeof target === 'string' && target !== '*' && !names.has(target)) {
        problems.push(`${at}.targets: no target named "${target}"`);
      }
    }
  });
  return problems;
}
