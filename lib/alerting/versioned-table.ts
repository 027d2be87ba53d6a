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
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type BoundedClientOptions, boundedClientConfig } from '../net/aws-clients.ts';
import { untilAborted } from '../net/deadline.ts';
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
  /** Stores `next` if the item is still at `current.version`; false when another writer came first. Throws on other errors. */
  write(current: VersionedItem, next: ItemContent, signal: AbortSignal): Promise<boolean>;
  /** Every item that holds owed notifications. */
  withOwed(signal: AbortSignal): Promise<VersionedItem[]>;
}

/** Names the item format reserves; a policy's state must not use them. */
const RESERVED = ['target', 'version', 'owed'] as const;

export class MemoryTable implements VersionedTable {
  readonly #items = new Map<string, VersionedItem>();

  async read(key: string): Promise<VersionedItem> {
    const item = this.#items.get(key);
    return item ? structuredClone(item) : { key, version: 0, state: null, owed: [] };
  }

  async write(current: VersionedItem, next: ItemContent): Promise<boolean> {
    if ((this.#items.get(current.key)?.version ?? 0) !== current.version) return false;
    this.#items.set(current.key, structuredClone({ key: current.key, version: current.version + 1, ...next }));
    return true;
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

  async write(current: VersionedItem, next: ItemContent, signal: AbortSignal): Promise<boolean> {
    for (const name of RESERVED) {
      if (next.state && name in next.state) throw new Error(`alert table: state field "${name}" is reserved`);
    }
    try {
      await untilAborted(
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toItem(current.key, current.version + 1, next),
            ExpressionAttributeNames: { '#version': 'version' },
            ...(current.version > 0
              ? {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeValues: { ':version': { N: String(current.version) } },
                }
              : { ConditionExpression: 'attribute_not_exists(#version)' }),
          }),
          { abortSignal: signal },
        ),
        signal,
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async withOwed(signal: AbortSignal): Promise<VersionedItem[]> {
    const items: VersionedItem[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await untilAborted(
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: 'attribute_exists(#owed)',
            ExpressionAttributeNames: { '#owed': 'owed' },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
          { abortSignal: signal },
        ),
        signal,
      );
      for (const item of page.Items ?? []) items.push(fromItem(item.target?.S ?? '', item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
