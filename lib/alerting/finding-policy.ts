/**
 * Findings are announced once when they appear and once when they clear. The policy is pure: the active
 * findings (the newest findings record applied) and this run's record decide what changed.
 */
import type { Finding, FindingsRecord } from '../types.ts';

/** A finding's identity across runs: the same code about the same thing. */
export const findingKey = (f: Finding): string => `${f.code}|${f.subject}|${f.target ?? ''}`;

/** What the store keeps: the newest findings record applied. */
export interface FindingsState {
  at: string;
  runId: string;
  findings: Finding[];
}

export interface FindingChanges {
  appeared: Finding[];
  cleared: Finding[];
}

/**
 * Pure: what changed between the active findings and this run's.
 *
 * @example
 * diffFindings([a], [a, b]) // { appeared: [b], cleared: [] }
 */
export function diffFindings(active: readonly Finding[], current: readonly Finding[]): FindingChanges {
  const before = new Set(active.map(findingKey));
  const now = new Set(current.map(findingKey));
  return {
    appeared: current.filter((f) => !before.has(findingKey(f))),
    cleared: active.filter((f) => !now.has(findingKey(f))),
  };
}

export type FindingsDecision =
  | { action: 'write'; state: FindingsState; changes: FindingChanges }
  | { action: 'ignore'; reason: 'stale' };

/**
 * A findings record newer than the stored one replaces it and announces the difference; an older one (or the
 * same one again) changes nothing, so a re-delivered or overtaken record never announces twice.
 *
 * @example
 * decideFindings(null, record) // { action: 'write', state: { at, runId, findings }, changes: { appeared: findings, cleared: [] } }
 */
export function decideFindings(previous: FindingsState | null, record: FindingsRecord): FindingsDecision {
  if (previous && previous.at >= record.at) return { action: 'ignore', reason: 'stale' };
  return {
    action: 'write',
    state: { at: record.at, runId: record.runId, findings: record.findings },
    changes: diffFindings(previous?.findings ?? [], record.findings),
  };
}
