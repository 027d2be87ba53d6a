/**
 * Owed notifications. A notification is owed from the write that decides it until SNS returns a MessageId:
 * the policy's state change and the owed notification go into the item in one conditional write, the
 * publish follows, and only then is it settled (removed). A publish that fails is released, owed again at
 * once; one still in flight is guarded by a short lease, so a crashed invocation's notification is taken up
 * by the next invocation once the lease has passed. Nothing here throws for a table failure: it is data.
 */

import type { Clock } from '../clock.ts';
import { describeError } from '../net/aws-clients.ts';
import type { ExtraItem } from './history.ts';
import type { AnyAlert } from './text.ts';
import type { OwedNotification, VersionedItem, VersionedTable } from './versioned-table.ts';

export interface OutboxOptions {
  clock: Pick<Clock, 'now'>;
  /** How long a publisher holds an owed notification (ms). Default 30 s: a Publish has 5 s, schedules are ≥ 60 s. */
  leaseMs?: number;
  /** Deadline for one operation, reads, conflicts and writes included (ms). Default 3000. */
  deadlineMs?: number;
}

/** What a policy decides for one item: its next state, the notifications that makes owed, and a result. */
export type ItemDecision<R> =
  | {
      write: true;
      state: Record<string, unknown>;
      alerts: readonly AnyAlert[];
      /** Owed notifications the new ones make pointless (an older reminder); dropped in the same write. */
      supersedes?: (owed: OwedNotification) => boolean;
      /** Other items written in the same transaction (history), unconditionally. */
      extra?: readonly ExtraItem[];
      result: R;
    }
  | { write: false; result: R };

export type ChangeOutcome<R> =
  /** Written; `owed` are the new notifications, leased to the caller, who publishes them next. */
  | { outcome: 'written'; result: R; owed: OwedNotification[] }
  | { outcome: 'unchanged'; result: R }
  /** Other writers kept changing the item: they hold the work. */
  | { outcome: 'lost-race' }
  | { outcome: 'unavailable'; reason: string };

/** Conditional-write conflicts tolerated per operation before leaving the item to the other writer. */
const MAX_CONFLICTS = 4;

export class Outbox {
  readonly #table: VersionedTable;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #leaseMs: number;
  readonly #deadlineMs: number;

  constructor(table: VersionedTable, options: OutboxOptions) {
    this.#table = table;
    this.#clock = options.clock;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#deadlineMs = options.deadlineMs ?? 3000;
  }

  /**
   * Applies `decide` to the item's state in one conditional write, recording the alerts it returns as owed and
   * leased to the caller. On a conflict it reads again and decides again.
   *
   * @example
   * const change = await outbox.change('team-repo', (state) => ({ write: true, state: next, alerts: [alarm], result: null }));
   * if (change.outcome === 'written') for (const owed of change.owed) await publish(owed);
   */
  async change<R>(key: string, decide: (state: VersionedItem['state']) => ItemDecision<R>): Promise<ChangeOutcome<R>> {
    const signal = AbortSignal.timeout(this.#deadlineMs);
    try {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
        const current = await this.#table.read(key, signal);
        const decision = decide(current.state);
        if (!decision.write) return { outcome: 'unchanged', result: decision.result };
        const now = this.#clock.now();
        const fresh = decision.alerts.map(
          (alert): OwedNotification => ({
            dedupKey: alert.dedupKey,
            alert,
            owedSince: now.toISOString(),
            leaseUntil: now.getTime() + this.#leaseMs,
          }),
        );
        const kept = current.owed.filter(
          (o) => !decision.supersedes?.(o) && !fresh.some((f) => f.dedupKey === o.dedupKey),
        );
        const next = { state: decision.state, owed: [...kept, ...fresh] };
        if (await this.#table.write(current, next, signal, decision.extra)) {
          return { outcome: 'written', result: decision.result, owed: fresh };
        }
      }
      return { outcome: 'lost-race' };
    } catch (error) {
      return { outcome: 'unavailable', reason: describeError(error) };
    }
  }

  /** An item's state (null when absent); throws when the table cannot be read. */
  async state(key: string): Promise<VersionedItem['state']> {
    return (await this.#table.read(key, AbortSignal.timeout(this.#deadlineMs))).state;
  }

  /**
   * Owed notifications nobody is publishing now (lease passed), oldest first; throws when the table cannot be read.
   *
   * @example
   * for (const { key, owed } of await outbox.due()) if (await outbox.claim(key, owed.dedupKey)) await publish(owed);
   */
  async due(): Promise<Array<{ key: string; owed: OwedNotification }>> {
    const now = this.#clock.now().getTime();
    const items = await this.#table.withOwed(AbortSignal.timeout(this.#deadlineMs));
    return items
      .flatMap((item) => item.owed.filter((o) => o.leaseUntil <= now).map((owed) => ({ key: item.key, owed })))
      .sort(
        (a, b) => a.owed.owedSince.localeCompare(b.owed.owedSince) || a.owed.dedupKey.localeCompare(b.owed.dedupKey),
      );
  }

  /** Takes the lease on an owed notification; null when it is settled or another invocation holds it. */
  async claim(key: string, dedupKey: string): Promise<OwedNotification | null> {
    const claimed: { owed?: OwedNotification } = {};
    const ok = await this.#editOwed(key, dedupKey, (owed, now) => {
      if (owed.leaseUntil > now) return undefined;
      claimed.owed = { ...owed, leaseUntil: now + this.#leaseMs };
      return claimed.owed;
    });
    return ok ? (claimed.owed ?? null) : null;
  }

  /** SNS has it (a MessageId came back): no longer owed. False when the table could not be written. */
  settle(key: string, dedupKey: string): Promise<boolean> {
    return this.#editOwed(key, dedupKey, () => null);
  }

  /** The publish failed: owed again at once, for the next invocation. */
  release(key: string, dedupKey: string): Promise<boolean> {
    return this.#editOwed(key, dedupKey, (owed) => ({ ...owed, leaseUntil: 0 }));
  }

  /**
   * One owed entry changed (`edit` returns the new entry, null to remove it, undefined to leave it alone), the
   * state untouched, conditional on the version like every write. False when nothing was written.
   */
  async #editOwed(
    key: string,
    dedupKey: string,
    edit: (owed: OwedNotification, nowMs: number) => OwedNotification | null | undefined,
  ): Promise<boolean> {
    const signal = AbortSignal.timeout(this.#deadlineMs);
    try {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
        const current = await this.#table.read(key, signal);
        const owed = current.owed.find((o) => o.dedupKey === dedupKey);
        if (!owed) return false;
        const edited = edit(owed, this.#clock.now().getTime());
        if (edited === undefined) return false;
        const rest = current.owed.filter((o) => o !== owed);
        const next = edited === null ? rest : [...rest, edited];
        if (await this.#table.write(current, { state: current.state ?? {}, owed: next }, signal)) return true;
      }
      return false;
    } catch {
      return false;
    }
  }
}
