/**
 * Setting and lifting silences in the alert table (the CLI, the demo). The `#silences` item holds the ones not
 * yet expired; each change also writes the silence's log item (`#silence-log/…`, kept `historyDays` by TTL) in
 * the same conditional transaction, so the report can count muted time after the silence is gone.
 */
import type { Clock } from '../clock.ts';
import { DEFAULT_HISTORY_DAYS, type ExtraItem, expiresAt, SILENCE_LOG_PREFIX, TTL_ATTRIBUTE } from './history.ts';
import { Outbox } from './outbox.ts';
import { readSilences, SILENCES_ITEM_KEY, type Silence } from './silences.ts';
import type { VersionedTable } from './versioned-table.ts';

export interface SilenceStoreOptions {
  clock: Pick<Clock, 'now'>;
  historyDays?: number;
  /** Deadline for one change (ms). Default 5000. */
  deadlineMs?: number;
}

export type SilenceChange =
  | { outcome: 'written'; silences: Silence[]; changed: Silence[] }
  | { outcome: 'failed'; reason: string };

const logKey = (s: Silence): string => `${SILENCE_LOG_PREFIX}${s.target}/${s.from}`;

/**
 * The silences of one alert table.
 *
 * @example
 * const store = new SilenceStore(new DynamoDbTable(client, table), { clock: systemClock });
 * await store.mute({ target: 'team-repo', from, until, reason: 'endpoint swap', by: callerArn });
 */
export class SilenceStore {
  readonly #outbox: Outbox;
  readonly #options: SilenceStoreOptions;

  constructor(table: VersionedTable, options: SilenceStoreOptions) {
    this.#outbox = new Outbox(table, { clock: options.clock, deadlineMs: options.deadlineMs ?? 5000 });
    this.#options = options;
  }

  /** Active silences (expired ones left out); throws when the table cannot be read. */
  async list(): Promise<Silence[]> {
    const now = this.#options.clock.now().toISOString();
    return readSilences(await this.#outbox.state(SILENCES_ITEM_KEY)).filter((s) => s.until > now);
  }

  /** Adds a silence; one for the same target is replaced (its log item ends now). */
  mute(silence: Silence): Promise<SilenceChange> {
    return this.#change((active, now) => {
      const replaced = active.filter((s) => s.target === silence.target).map((s) => ({ ...s, until: now }));
      return { keep: [...active.filter((s) => s.target !== silence.target), silence], logged: [...replaced, silence] };
    });
  }

  /** Ends the silences of `target` (`*`: the silence of all targets; `all`: every silence) now. */
  unmute(target: string | 'all'): Promise<SilenceChange> {
    return this.#change((active, now) => {
      const ending = active.filter((s) => target === 'all' || s.target === target);
      return { keep: active.filter((s) => !ending.includes(s)), logged: ending.map((s) => ({ ...s, until: now })) };
    });
  }

  async #change(
    edit: (active: Silence[], nowIso: string) => { keep: Silence[]; logged: Silence[] },
  ): Promise<SilenceChange> {
    const now = this.#options.clock.now();
    const days = this.#options.historyDays ?? DEFAULT_HISTORY_DAYS;
    const change = await this.#outbox.change(SILENCES_ITEM_KEY, (state) => {
      const active = readSilences(state).filter((s) => s.until > now.toISOString());
      const { keep, logged } = edit(active, now.toISOString());
      const extra: ExtraItem[] = logged.map((s) => ({
        key: logKey(s),
        attributes: { type: 'silence', ...s, [TTL_ATTRIBUTE]: expiresAt(new Date(s.until), days) },
      }));
      return { write: true, state: { silences: keep }, alerts: [], extra, result: { keep, logged } };
    });
    if (change.outcome === 'written') {
      return { outcome: 'written', silences: change.result.keep, changed: change.result.logged };
    }
    if (change.outcome === 'unavailable') return { outcome: 'failed', reason: change.reason };
    return { outcome: 'failed', reason: 'other writers kept changing the silences; try again' };
  }
}
