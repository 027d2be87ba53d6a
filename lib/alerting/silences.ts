/**
 * Silences and maintenance windows: when a target's pages are held. Pure: no clients, no clock.
 *
 * A silence is set by a person (`codecommit-canary mute`) and kept in the alert table's `#silences` item; a
 * maintenance window is declared in the config (`alerts.mute`). Either way results still count and incidents
 * still open and close; only the page waits, and an incident still open when the mute ends pages once
 * (lib/alerting/incident-policy.ts).
 */

/** The item of the alert table that holds the silences (its key cannot collide with a target: names are [\w.-]). */
export const SILENCES_ITEM_KEY = '#silences';
/** A silence of every target. */
export const ALL_TARGETS = '*';

/** A silence a person set: for how long, why, and who (the caller identity's ARN). */
export interface Silence {
  /** A target name, or `*` for all. */
  target: string;
  /** ISO-8601. */
  from: string;
  until: string;
  reason: string;
  by: string;
}

/** A maintenance window from the config: a `cron` start (UTC, 5 fields) with a `duration`, or `from`/`to`. */
export interface MaintenanceWindow {
  targets: readonly string[];
  cron?: string | undefined;
  /** With `cron`: how long each window lasts, like `2h` or `90m`. */
  duration?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  reason: string;
}

/** Why a target is muted at a time; shown in alerts, the CLI and the report. */
export interface ActiveMute {
  kind: 'silence' | 'window';
  reason: string;
  /** Who set the silence; null for a window (the config says it). */
  by: string | null;
  /** When the mute that applies now ends. */
  until: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `90s`, `30m`, `2h`, `1d`, `1w`, `1h30m` → milliseconds; null when it is not such a duration or is zero.
 *
 * @example
 * [parseDuration('2h'), parseDuration('1h30m'), parseDuration('soon')] // [7200000, 5400000, null]
 */
export function parseDuration(text: string): number | null {
  const parts = /^(?:\d+[smhdw])+$/.test(text.trim()) ? text.trim().match(/\d+[smhdw]/g) : null;
  if (!parts) return null;
  const ms = parts.reduce((sum, part) => sum + Number(part.slice(0, -1)) * (UNIT_MS[part.slice(-1)] ?? 0), 0);
  return ms > 0 ? ms : null;
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** Minute, hour, day of month, month, day of week: their ranges and names. */
const CRON_FIELDS: Array<{ min: number; max: number; names?: string[]; offset?: number }> = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES, offset: 1 },
  { min: 0, max: 7, names: DAY_NAMES },
];

/** One cron field as the set of values it allows; null when it is not valid. */
function cronField(text: string, spec: (typeof CRON_FIELDS)[number]): Set<number> | null {
  const values = new Set<number>();
  const value = (token: string): number | null => {
    const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
    if (named >= 0) return named + (spec.offset ?? 0);
    return /^\d+$/.test(token) ? Number(token) : null;
  };
  for (const part of text.split(',')) {
    const match = /^(\*|[\w]+(?:-[\w]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match?.[1]) return null;
    const step = match[2] ? Number(match[2]) : 1;
    let [low, high] = [spec.min, spec.max];
    if (match[1] !== '*') {
      const [a = '', b] = match[1].split('-');
      const start = value(a);
      const end = b === undefined ? (match[2] ? spec.max : start) : value(b);
      if (start === null || end === null) return null;
      [low, high] = [start, end];
    }
    if (step < 1 || low < spec.min || high > spec.max || low > high) return null;
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

/** A parsed 5-field cron expression; null when it is not one. */
export function parseCron(expression: string): Set<number>[] | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return null;
  const sets = fields.map((field, index) => cronField(field, CRON_FIELDS[index] as (typeof CRON_FIELDS)[number]));
  if (sets.some((s) => s === null)) return null;
  const days = sets[4] as Set<number>;
  if (days.has(7)) days.add(0);
  return sets as Set<number>[];
}

/** Whether the minute of `at` (UTC) matches; day of month and day of week combine as in cron (either, when both are set). */
function cronMatches(fields: Set<number>[], expression: string, at: Date): boolean {
  const [minute, hour, dom, month, dow] = fields as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (!minute.has(at.getUTCMinutes()) || !hour.has(at.getUTCHours()) || !month.has(at.getUTCMonth() + 1)) return false;
  const [, , domText, , dowText] = expression.trim().split(/\s+/);
  const domOk = dom.has(at.getUTCDate());
  const dowOk = dow.has(at.getUTCDay());
  if (domText === '*' || dowText === '*') return domOk && dowOk;
  return domOk || dowOk;
}

/** The window that covers `at`, with its end; null when none does. Cron windows start on a matching minute. */
export function windowCovering(window: MaintenanceWindow, at: Date): { until: string } | null {
  if (window.from !== undefined && window.to !== undefined) {
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    return at.getTime() >= from && at.getTime() < to ? { until: new Date(to).toISOString() } : null;
  }
  const fields = window.cron ? parseCron(window.cron) : null;
  const durationMs = window.duration ? parseDuration(window.duration) : null;
  if (!fields || !window.cron || durationMs === null) return null;
  // Each minute of the last `duration` that starts a window; the latest one decides when the mute ends.
  const now = Math.floor(at.getTime() / 60_000) * 60_000;
  for (let start = now; start > at.getTime() - durationMs; start -= 60_000) {
    if (cronMatches(fields, window.cron, new Date(start))) return { until: new Date(start + durationMs).toISOString() };
  }
  return null;
}

const appliesTo = (targets: readonly string[], target: string): boolean =>
  targets.includes(target) || targets.includes(ALL_TARGETS);

/**
 * Whether the target is muted at `at`, and by what (the mute that lasts longest when several apply).
 *
 * @example
 * activeMute('team-repo', new Date(), silences, config.alerts.mute) // { kind: 'silence', reason: 'endpoint swap', by: 'arn:…', until: '…' }
 */
export function activeMute(
  target: string,
  at: Date,
  silences: readonly (Omit<Silence, 'by'> & { by: string | null })[],
  windows: readonly MaintenanceWindow[] = [],
): ActiveMute | null {
  const candidates: ActiveMute[] = [];
  for (const s of silences) {
    const covers = Date.parse(s.from) <= at.getTime() && at.getTime() < Date.parse(s.until);
    if (covers && appliesTo([s.target], target)) {
      candidates.push({ kind: 'silence', reason: s.reason, by: s.by, until: s.until });
    }
  }
  for (const w of windows) {
    const covering = appliesTo(w.targets, target) ? windowCovering(w, at) : null;
    if (covering) candidates.push({ kind: 'window', reason: w.reason, by: null, until: covering.until });
  }
  return candidates.sort((a, b) => b.until.localeCompare(a.until))[0] ?? null;
}

/** The silences stored in the `#silences` item's state (a list of plain objects). */
export function readSilences(state: Record<string, unknown> | null): Silence[] {
  const list = state?.silences;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (s): s is Silence =>
      typeof s === 'object' && s !== null && typeof s.target === 'string' && typeof s.until === 'string',
  );
}

/**
 * A line for people about a mute.
 *
 * @example
 * describeMute({ kind: 'silence', reason: 'endpoint swap', by: 'arn:aws:iam::1:user/ana', until: '2026-11-29T20:00:00.000Z' })
 * // 'silenced until 2026-11-29T20:00:00.000Z by arn:aws:iam::1:user/ana: endpoint swap'
 */
export const describeMute = (mute: ActiveMute): string =>
  `${mute.kind === 'silence' ? 'silenced' : 'maintenance window'} until ${mute.until}${mute.by ? ` by ${mute.by}` : ''}: ${mute.reason}`;
