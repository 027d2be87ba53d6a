/**
 * `mute`, `unmute` and `mutes`: silences in the deployed stack's alert table (lib/alerting/silence-store.ts).
 * While a target is muted its results still count and incidents still open and close; nothing pages, and an
 * incident still open when the silence ends pages once.
 */
import { parseArgs } from 'node:util';
import { SilenceStore } from '../alerting/silence-store.ts';
import {
  ALL_TARGETS,
  activeMute,
  describeMute,
  type MaintenanceWindow,
  parseDuration,
  type Silence,
  windowCovering,
} from '../alerting/silences.ts';
import { formatDuration } from '../alerting/text.ts';
import { systemClock } from '../clock.ts';
import { DEFAULT_SILENCE_MAX_HOURS } from '../config/alerts.ts';
import type { Io } from './cli.ts';
import { knownTargets, openStack, STACK_OPTIONS, type Stack, StackInputError, unreadable } from './stack.ts';

export const SILENCE_USAGE = `Usage:
  codecommit-canary mute <target> | --all --for <duration> --reason <text> (--stack <name> | --table <name>)
  codecommit-canary unmute <target> | --all (--stack <name> | --table <name>)
  codecommit-canary mutes [--json] (--stack <name> | --table <name>)

Holds a target's pages for a while (a planned endpoint change, a drill). Results still count and incidents still
open and close; on unmute or expiry an incident still open pages once. Every silence has an expiry (--for, at
most alerts.silenceMaxHours, default 24 h), a reason, and who set it (STS GetCallerIdentity of your profile).

Options:
      --for <duration>    how long: 30m, 2h, 1d, 1h30m
      --reason <text>     why (shown in alerts, mutes and the report)
      --all               every target
      --stack <name>      the stack whose table to use (its <stack>-IncidentTable-… table)
      --table <name>      the table itself
  -c, --config <file>     the stack's config: its targets, alerts.silenceMaxHours and maintenance windows
      --profile <name>    AWS profile (default: AWS_PROFILE or the default chain)
      --region <region>   the stack's region (default: AWS_REGION, the profile's, or the config's)
      --json              mutes: print JSON
`;

const OPTIONS = {
  ...STACK_OPTIONS,
  all: { type: 'boolean' },
  for: { type: 'string' },
  reason: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const describeSilence = (s: Silence): string =>
  `${s.target === ALL_TARGETS ? 'all targets' : s.target}: ${describeMute({ kind: 'silence', reason: s.reason, by: s.by, until: s.until })}`;

/** The target positional or --all, checked against the targets the stack knows. */
async function chosenTarget(stack: Stack, target: string | undefined, all: boolean): Promise<string> {
  if (all === (target !== undefined)) throw new StackInputError('give one target or --all');
  if (all) return ALL_TARGETS;
  let known: string[];
  try {
    known = await knownTargets(stack);
  } catch (error) {
    throw unreadable(stack, error);
  }
  if (!known.includes(target as string)) {
    throw new StackInputError(`no target named ${target}; the stack has: ${known.join(', ') || '(none yet)'}`);
  }
  return target as string;
}

/**
 * @example
 * process.exitCode = await silenceCommand('mute', ['team-repo', '--for', '2h', '--reason', 'endpoint swap', '--stack', 'codecommit-canary'], io);
 */
export async function silenceCommand(command: 'mute' | 'unmute' | 'mutes', argv: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      io.stdout.write(SILENCE_USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new StackInputError(`unexpected argument ${positionals[1]}`);
    const stack = await openStack(values, io.env);
    const store = new SilenceStore(stack.table, {
      clock: systemClock,
      ...(stack.config?.alerts.historyDays ? { historyDays: stack.config.alerts.historyDays } : {}),
    });
    if (command === 'mutes') return await listMutes(stack, store, values.json === true, io);
    if (command === 'unmute') {
      const target = await chosenTarget(stack, positionals[0], values.all === true);
      const change = await store.unmute(values.all ? 'all' : target);
      if (change.outcome === 'failed') throw unreadable(stack, change.reason);
      const ended = change.changed.map(describeSilence);
      io.stdout.write(ended.length === 0 ? `no silence of ${target} to end\n` : `ended: ${ended.join('\n       ')}\n`);
      return 0;
    }
    const maxHours = stack.config?.alerts.silenceMaxHours ?? DEFAULT_SILENCE_MAX_HOURS;
    const forMs = values.for === undefined ? null : parseDuration(values.for);
    if (forMs === null) throw new StackInputError('--for: required: a duration like 30m, 2h or 1d');
    if (forMs > maxHours * 3_600_000) {
      throw new StackInputError(`--for: ${values.for} is beyond the maximum of ${maxHours} h (alerts.silenceMaxHours)`);
    }
    const reason = values.reason?.trim() ?? '';
    if (reason.length === 0 || reason.length > 200) throw new StackInputError('--reason: required: 1-200 characters');
    const target = await chosenTarget(stack, positionals[0], values.all === true);
    const by = await stack.callerArn();
    const from = systemClock.now();
    const silence: Silence = {
      target,
      from: from.toISOString(),
      until: new Date(from.getTime() + forMs).toISOString(),
      reason,
      by,
    };
    const change = await store.mute(silence);
    if (change.outcome === 'failed') throw unreadable(stack, change.reason);
    io.stdout.write(`muted ${describeSilence(silence)} (${formatDuration(forMs)})\n`);
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof StackInputError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`codecommit-canary ${command}: ${(error as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw error;
  }
}

/** The silences in force, and the config's maintenance windows (those in force now marked). */
async function listMutes(stack: Stack, store: SilenceStore, json: boolean, io: Io): Promise<number> {
  let silences: Silence[];
  try {
    silences = await store.list();
  } catch (error) {
    throw unreadable(stack, error);
  }
  const now = systemClock.now();
  const windows: MaintenanceWindow[] = stack.config?.alerts.mute ?? [];
  const windowRows = windows.map((w) => ({ ...w, activeUntil: windowCovering(w, now)?.until ?? null }));
  if (json) {
    io.stdout.write(`${JSON.stringify({ silences, windows: windowRows }, null, 2)}\n`);
    return 0;
  }
  const lines = silences.length === 0 ? ['no silences'] : silences.map(describeSilence);
  for (const w of windowRows) {
    const when = w.cron ? `cron "${w.cron}" for ${w.duration}` : `${w.from} to ${w.to}`;
    const state = w.activeUntil ? `IN FORCE until ${w.activeUntil}` : 'not now';
    lines.push(`window ${w.targets.join(', ')}: ${when} (${state}): ${w.reason}`);
  }
  // A reminder of what the notifier will do with an open incident of each muted target.
  if (stack.config) {
    for (const t of stack.config.targets) {
      const mute = activeMute(t.name, now, silences, windows);
      if (mute) lines.push(`${t.name}: pages held, ${describeMute(mute)}`);
    }
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
