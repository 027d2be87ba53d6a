/** What the probe reads from a commit object's headers (gitformat-commit): its tree and its committer time. */

/** 9999-12-31T23:59:59.999Z. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

export interface CommitInfo {
  /** The commit's object id, as hashed. */
  oid: string;
  tree: string;
  /** The committer time (ISO-8601, UTC), `null` when the committer line has none git could parse. */
  committedAt: string | null;
}

/**
 * The headers of a commit object's body (`tree …`, `parent …`, `author …`, `committer …`, blank line, message).
 * `null` when the first line is not a tree line.
 *
 * @example
 * parseCommit(oid, Buffer.from('tree 4b82…\ncommitter A <a@x> 1704067200 +0000\n\nmsg\n'))
 * // → { oid, tree: '4b82…', committedAt: '2024-01-01T00:00:00.000Z' }
 */
export function parseCommit(oid: string, body: Buffer): CommitInfo | null {
  const end = body.indexOf('\n\n');
  const lines = body.toString('utf8', 0, end < 0 ? body.length : end).split('\n');
  const tree = /^tree ([0-9a-f]{40}|[0-9a-f]{64})$/.exec(lines[0] ?? '')?.[1];
  if (!tree) return null;
  const committer = lines.find((line) => line.startsWith('committer '));
  // `<name> <<email>> <seconds> <±hhmm>`: the time follows the last `>`.
  const seconds = /> (\d{1,15}) [+-]\d{4}$/.exec(committer ?? '')?.[1];
  const at = seconds === undefined ? Number.NaN : Number(seconds) * 1000;
  // Past year 9999 ISO-8601 needs a sign and six digits, which the record's instants do not take: no usable time.
  return {
    oid,
    tree,
    committedAt: Number.isFinite(at) && at <= LAST_FOUR_DIGIT_YEAR_MS ? new Date(at).toISOString() : null,
  };
}
