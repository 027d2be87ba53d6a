import { type AttributeValue, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Alert, FindingFacts } from './alerts.ts';
import { describeError, untilAborted } from './aws-clients.ts';
import type { Logger } from './log.ts';
import type { Finding, FindingsRecord } from './types.ts';

/** A finding's identity across runs: the same code about the same thing. */
export const findingKey = (f: Finding): string => `${f.code}|${f.subject}|${f.target ?? ''}`;

export interface FindingChanges {
  appeared: Finding[];
  cleared: Finding[];
}

/** Pure: what changed between the active findings and this run's. */
export function diffFindings(active: readonly Finding[], current: readonly Finding[]): FindingChanges {
  const before = new Map(active.map((f) => [findingKey(f), f]));
  const now = new Map(current.map((f) => [findingKey(f), f]));
  return {
    appeared: current.filter((f) => !before.has(findingKey(f))),
    cleared: active.filter((f) => !now.has(findingKey(f))),
  };
}

/** Remembers the active findings, so a finding is announced once when it appears and once when it clears. */
export interface FindingStore {
  /** Never throws; on a store failure it reports no change (findings are not pages: silence beats a flood). */
  apply(record: FindingsRecord): Promise<FindingChanges>;
}

export class MemoryFindingStore implements FindingStore {
  #active: Finding[] = [];
  #lastAt = '';
  async apply(record: FindingsRecord): Promise<FindingChanges> {
    if (record.at <= this.#lastAt) return { appeared: [], cleared: [] };
    this.#lastAt = record.at;
    const changes = diffFindings(this.#active, record.findings);
    this.#active = record.findings;
    return changes;
  }
}

/** The incident table's item that holds the active findings (its `target` key cannot collide: names are [\w.-]). */
export const FINDINGS_ITEM_KEY = '#findings';

/**
 * Active findings in the incident table, one item, updated with a version condition: two runs (or a re-delivered
 * record) that race announce a change once; a record older than the stored one changes nothing.
 */
export class DynamoDbFindingStore implements FindingStore {
  constructor(
    private readonly options: { client: DynamoDBClient; tableName: string; logger: Logger; deadlineMs?: number },
  ) {}

  async apply(record: FindingsRecord): Promise<FindingChanges> {
    const { client, tableName, logger } = this.options;
    const signal = AbortSignal.timeout(this.options.deadlineMs ?? 3000);
    const key = { target: { S: FINDINGS_ITEM_KEY } };
    try {
      for (let attempt = 0; attempt < 4; attempt++) {
        const read = await untilAborted(
          client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }), {
            abortSignal: signal,
          }),
          signal,
        );
        const item: Record<string, AttributeValue> | undefined = read.Item;
        const version = Number(item?.version?.N ?? 0);
        if (item?.at?.S && item.at.S >= record.at) return { appeared: [], cleared: [] };
        const active = JSON.parse(item?.findings?.S ?? '[]') as Finding[];
        const changes = diffFindings(active, record.findings);
        try {
          await untilAborted(
            client.send(
              new PutItemCommand({
                TableName: tableName,
                Item: {
                  ...key,
                  version: { N: String(version + 1) },
                  at: { S: record.at },
                  runId: { S: record.runId },
                  findings: { S: JSON.stringify(record.findings) },
                },
                ConditionExpression: version === 0 ? 'attribute_not_exists(#v)' : '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': { N: String(version) } } }),
              }),
              { abortSignal: signal },
            ),
            signal,
          );
          return changes;
        } catch (error) {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
          // Another run wrote first: read again and decide against what it wrote.
        }
      }
      return { appeared: [], cleared: [] };
    } catch (error) {
      logger.warn('finding state unavailable; findings not announced this run', {
        type: 'codecommit-canary/finding-state-unavailable',
        reason: describeError(error),
      });
      return { appeared: [], cleared: [] };
    }
  }
}

/** The low-severity notification for a finding that appeared or cleared. */
export function findingAlert(
  finding: Finding,
  state: 'FINDING' | 'CLEARED',
  record: FindingsRecord,
): Alert<FindingFacts> {
  const verb = state === 'FINDING' ? 'found' : 'cleared';
  const subject = `[${state === 'FINDING' ? 'FINDING' : 'CLEARED'}] ${finding.code}: ${finding.subject}`
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
  const text = [
    `codecommit-canary ${verb}: ${finding.code} (${finding.severity})`,
    '',
    finding.message,
    '',
    `What to change: ${finding.remediation}`,
    '',
    `${finding.target ? `Target: ${finding.target}\n` : ''}About: ${finding.subject}`,
    `Run: ${record.runId} at ${record.at}`,
    state === 'FINDING'
      ? 'This is a finding, not a page: probes still pass. It is announced once, and once more when it clears.'
      : 'The condition is gone as of this run.',
    '',
  ].join('\n');
  return {
    subject,
    text,
    facts: { finding, state, runId: record.runId, at: record.at, text },
    attributes: {
      target: finding.target ?? 'none',
      step: 'none',
      kind: finding.code,
      state,
      severity: finding.severity,
    },
  };
}
