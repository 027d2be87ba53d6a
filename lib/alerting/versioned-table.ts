/**
 * The alert path's one table (partition key `target`, S): an item per target (its incident state), one for the
 * active findings, each with the notifications its writes made owed. Every write replaces the whole item and is
 * conditional on the version it read, so two invocations never both act on one state; the loser reads again.
 * `MemoryTable` is the same contract in memory, for the demo, the CLI and tests of the policy around it.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type BoundedClientOptions, boundedClientConfig } from '../net/aws-clients.ts';
import { untilAborted } from '../net/deadline.ts';
import type { ExtraItem } from './history.ts';
import type { AnyAlert } from './text.ts';

/** A notification that SNS has not yet confirmed (no MessageId back): it stays in its item until then. */
export interface OwedNotification {
  dedupKey: string;
  alert: AnyAlert;
  /** When it became owed (ISO-8601): re-sends go oldest first. */
  owedSince: string;
  /** Epoch ms until which one invocation is publishing it; past it (or 0) anyone may. */
  leaseUntil: number;
}

export interface VersionedItem {
  key: string;
  /** 0: no item yet. Each write stores version + 1, conditional on the stored version still being this one. */
  version: number;
  /** The policy's state (incident or findings), null before the first write. */
  state: Record<string, unknown> | null;
  owed: OwedNotification[];
}

export type ItemContent = Pick<VersionedItem, 'state' | 'owed'>;

export interface VersionedTable {
  /** The item (version 0 and no state when absent); throws when the table cannot be read. */
  read(key: string, signal: AbortSignal): Promise<VersionedItem>;
  /**
   * Stores `next` if the item is still at `current.version`, and the `extra` items (history) in the same
   * transaction; false when another writer came first. Throws on other errors.
   */
  write(current: VersionedItem, next: ItemContent, signal: AbortSignal, extra?: readonly ExtraItem[]): Promise<boolean>;
  /** Every item whose key starts with `prefix` (history, the silence log), as stored. */
  scanPrefix(prefix: string, signal: AbortSignal): Promise<Array<Record<string, unknown>>>;
  /** Every item that holds owed notifications. */
  withOwed(signal: AbortSignal): Promise<VersionedItem[]>;
}

/** Names the item format reserves; a policy's state must not use them. */
const RESERVED = ['target', 'version', 'owed'] as const;

export class MemoryTable implements VersionedTable {
  readonly #items = new Map<string, VersionedItem>();
  readonly #extra = new Map<string, Record<string, unknown>>();

  async read(key: string): Promise<VersionedItem> {
    const item = this.#items.get(key);
    return item ? structuredClone(item) : { key, version: 0, state: null, owed: [] };
  }

  async write(current: VersionedItem, next: ItemContent, _signal?: AbortSignal, extra?: readonly ExtraItem[]) {
    if ((this.#items.get(current.key)?.version ?? 0) !== current.version) return false;
    this.#items.set(current.key, structuredClone({ key: current.key, version: current.version + 1, ...next }));
    for (const item of extra ?? [])
      this.#extra.set(item.key, structuredClone({ ...item.attributes, target: item.key }));
    return true;
  }

  async scanPrefix(prefix: string): Promise<Array<Record<string, unknown>>> {
    return [...this.#extra.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, item]) => structuredClone(item));
  }

  async withOwed(): Promise<VersionedItem[]> {
    return [...this.#items.values()].filter((item) => item.owed.length > 0).map((item) => structuredClone(item));
  }
}

/**
 * A DynamoDB client for the alert table; build it once at module load.
 *
 * @example
 * const client = createAlertTableClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
 */
export const createAlertTableClient = (options: BoundedClientOptions): DynamoDBClient =>
  new DynamoDBClient(boundedClientConfig(options));

type StoredOwed = { alert: string; owedSince: string; leaseUntil: number };

function toItem(key: string, version: number, { state, owed }: ItemContent): Record<string, AttributeValue> {
  const stored: Record<string, unknown> = { ...state, target: key, version };
  // Left out when empty, so `attribute_exists(owed)` finds exactly the items with something owed.
  if (owed.length > 0) {
    stored.owed = Object.fromEntries(
      owed.map((o): [string, StoredOwed] => [
        o.dedupKey,
        { alert: JSON.stringify(o.alert), owedSince: o.owedSince, leaseUntil: o.leaseUntil },
      ]),
    );
  }
  return marshall(stored, { removeUndefinedValues: true });
}

function fromItem(key: string, item: Record<string, AttributeValue> | undefined): VersionedItem {
  if (!item) return { key, version: 0, state: null, owed: [] };
  const { target: _target, version, owed, ...state } = unmarshall(item) as Record<string, unknown>;
  const entries = Object.entries((owed ?? {}) as Record<string, StoredOwed>).map(
    ([dedupKey, o]): OwedNotification => ({
      dedupKey,
      alert: JSON.parse(o.alert) as AnyAlert,
      owedSince: o.owedSince,
      leaseUntil: Number(o.leaseUntil),
    }),
  );
  return { key, version: Number(version ?? 0), state, owed: entries };
}

/**
 * The table in DynamoDB. Reads are consistent: a conditional write must be judged against the newest item.
 *
 * @example
 * const table = new DynamoDbTable(createAlertTableClient({ region }), process.env.CANARY_TABLE!);
 */
export class DynamoDbTable implements VersionedTable {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  async read(key: string, signal: AbortSignal): Promise<VersionedItem> {
    const output = await untilAborted(
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { target: { S: key } }, ConsistentRead: true }),
        { abortSignal: signal },
      ),
      signal,
    );
    return fromItem(key, output.Item);
  }

  async write(
    current: VersionedItem,
    next: ItemContent,
    signal: AbortSignal,
    extra: readonly ExtraItem[] = [],
  ): Promise<boolean> {
    for (const name of RESERVED) {
      if (next.state && name in next.state) throw new Error(`alert table: state field "${name}" is reserved`);
    }
    const put = {
      TableName: this.tableName,
      Item: toItem(current.key, current.version + 1, next),
      ExpressionAttributeNames: { '#version': 'version' },
      ...(current.version > 0
        ? {
            ConditionExpression: '#version = :version',
            ExpressionAttributeValues: { ':version': { N: String(current.version) } },
          }
        : { ConditionExpression: 'attribute_not_exists(#version)' }),
    };
    // One item: a conditional PutItem. With history: one transaction, the condition on the state item only.
    const options = { abortSignal: signal };
    const sent: Promise<unknown> =
      extra.length === 0
        ? this.client.send(new PutItemCommand(put), options)
        : this.client.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                { Put: put },
                ...extra.map((item) => ({
                  Put: {
                    TableName: this.tableName,
                    Item: marshall({ ...item.attributes, target: item.key }, { removeUndefinedValues: true }),
                  },
                })),
              ],
            }),
            options,
          );
    try {
      await untilAborted(sent, signal);
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      // In a transaction the state item's condition is the first item's cancellation reason.
      const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
      if ((error as Error).name === 'TransactionCanceledException' && reasons?.[0]?.Code === 'ConditionalCheckFailed')
        return false;
      throw error;
    }
  }

  async scanPrefix(prefix: string, signal: AbortSignal): Promise<Array<Record<string, unknown>>> {
    const items = await this.#scan('begins_with(#target, :prefix)', { '#target': 'target' }, signal, {
      ':prefix': { S: prefix },
    });
    return items.map((item) => unmarshall(item));
  }

  /** The keys of every item with state (targets, `#findings`, `#silences`), not history. */
  async stateKeys(signal: AbortSignal): Promise<string[]> {
    const items = await this.#scan('attribute_exists(#version)', { '#version': 'version' }, signal);
    return items.map((item) => item.target?.S ?? '');
  }

  async withOwed(signal: AbortSignal): Promise<VersionedItem[]> {
    const items = await this.#scan('attribute_exists(#owed)', { '#owed': 'owed' }, signal);
    return items.map((item) => fromItem(item.target?.S ?? '', item));
  }

  /** Every item the filter keeps, page by page (consistent reads). */
  async #scan(
    filter: string,
    names: Record<string, string>,
    signal: AbortSignal,
    values?: Record<string, AttributeValue>,
  ): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await untilAborted(
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: filter,
            ExpressionAttributeNames: names,
            ...(values ? { ExpressionAttributeValues: values } : {}),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
          { abortSignal: signal },
        ),
        signal,
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
