/**
 * How the matrix counts pages. A page is delivered when it is read back from the SQS queue subscribed to the
 * topic — nothing else counts (not a log line, not a summary saying it was sent). Per run of a cell:
 *
 * - **lost**: a page the cell expects (target + state) never read back;
 * - **duplicate**: a page read back beyond the expected one for its target and state, under another dedupKey
 *   (a receiver deduplicating on dedupKey cannot drop it), an unexpected extra page, or a second delivery of one
 *   dedupKey where no timeout was ambiguous;
 * - **false**: a page about a run the probe reported otherwise (an ALARM for a run that was ok, a RECOVERED for
 *   one that failed, or a kind/phase the probe did not report), or about a run the probe never reported;
 * - **same-dedupKey re-send**: a second delivery of one dedupKey after an ambiguous timeout (SNS took the
 *   message, the answer was lost, so the page stayed owed): counted and reported apart, not hidden.
 *
 * A page read back after another run than the one the cell names is neither lost nor duplicated, but the cell
 * is not as expected (e.g. an ALARM before SNS came back would mean it was never owed).
 */
import type { ExpectedPage } from './matrix.ts';

/** One SNS message read back from the queue, with the run after which it was read. */
export interface Delivery {
  target: string;
  state: string;
  dedupKey: string;
  runId: string;
  /** 1-based: read back after this run of the cell. */
  run: number;
  failOpen: boolean;
  kind: string | null;
  phase: string | null;
}

/** What the probe reported for a target in a run: ok, or the failed step's `kind/phase`. */
export interface ReportedRun {
  ok: boolean;
  failure: string | null;
}

export interface PageTally {
  expected: number;
  /** Distinct dedupKeys read back (re-sends of one key counted once). */
  delivered: number;
  lost: number;
  duplicates: number;
  falsePages: number;
  sameKeyResends: number;
  failOpen: number;
}

/** An expected page with the full target name. */
export type ResolvedPage = Omit<ExpectedPage, 'target'> & { target: string };

const recordKey = (target: string, runId: string) => `${target}|${runId}`;
export const reportedKey = recordKey;

/** Counts the run's pages against the expected ones; `problems` says what was not as expected. */
export function tallyPages(
  expected: readonly ResolvedPage[],
  deliveries: readonly Delivery[],
  reported: ReadonlyMap<string, ReportedRun>,
  options: { ambiguous: boolean },
): { tally: PageTally; problems: string[] } {
  const problems: string[] = [];
  const firsts: Delivery[] = [];
  const seen = new Set<string>();
  let sameKeyResends = 0;
  let duplicates = 0;
  for (const delivery of [...deliveries].sort((a, b) => a.run - b.run)) {
    if (seen.has(delivery.dedupKey)) {
      // After an ambiguous timeout a re-send is the price of not losing the page; anywhere else it is a duplicate.
      if (options.ambiguous) sameKeyResends++;
      else {
        duplicates++;
        problems.push(`duplicate: ${delivery.state} ${delivery.dedupKey} read back again after run ${delivery.run}`);
      }
      continue;
    }
    seen.add(delivery.dedupKey);
    firsts.push(delivery);
  }
  if (options.ambiguous && sameKeyResends === 0) {
    problems.push('no page read back twice: the timeout this cell makes was not ambiguous after all');
  }

  // False pages: what a page says against what the probe reported for its run.
  const valid = new Map<Delivery, boolean>();
  let falsePages = 0;
  for (const page of firsts) {
    const run = reported.get(recordKey(page.target, page.runId));
    let wrong: string | null = null;
    if (!run) wrong = `about run ${page.runId}, which the probe never reported for ${page.target}`;
    else if (page.state === 'RECOVERED' && !run.ok) wrong = `RECOVERED for a run that failed (${run.failure})`;
    else if (page.state !== 'RECOVERED' && run.ok) wrong = `${page.state} for a run that was ok`;
    else if (page.state !== 'RECOVERED' && `${page.kind}/${page.phase}` !== run.failure) {
      wrong = `${page.state} says ${page.kind}/${page.phase}, the probe ${run.failure}`;
    }
    valid.set(page, wrong === null);
    if (wrong) {
      falsePages++;
      problems.push(`false page (${page.target}, after run ${page.run}): ${wrong}`);
    }
  }

  // Each expected page matches one valid delivery of its target and state, preferably after its run.
  const matched = new Set<Delivery>();
  let lost = 0;
  for (const want of expected) {
    const candidates = firsts.filter(
      (d) => !matched.has(d) && valid.get(d) && d.target === want.target && d.state === want.state,
    );
    const page = candidates.find((d) => d.run === want.run) ?? candidates[0];
    if (!page) {
      lost++;
      problems.push(`${want.state} for ${want.target} never read back from the queue (expected after run ${want.run})`);
      continue;
    }
    matched.add(page);
    if (page.run !== want.run) {
      problems.push(`${want.state} for ${want.target} read back after run ${page.run}, expected after run ${want.run}`);
    }
    if (Boolean(want.failOpen) !== page.failOpen) {
      problems.push(`${want.state} for ${want.target} ${page.failOpen ? 'failed open' : 'did not fail open'}`);
    }
  }
  for (const page of firsts) {
    if (matched.has(page) || !valid.get(page)) continue;
    duplicates++;
    problems.push(`extra page: ${page.state} for ${page.target} (${page.dedupKey}) after run ${page.run}`);
  }
  return {
    tally: {
      expected: expected.length,
      delivered: firsts.length,
      lost,
      duplicates,
      falsePages,
      sameKeyResends,
      failOpen: firsts.filter((d) => d.failOpen).length,
    },
    problems,
  };
}

/**
 * Pages in a few words, e.g. `ALARM run 2`, `ALARM ×2 run 1 fail-open`, `ALARM run 1, RECOVERED run 3`:
 * each state read back (distinct dedupKeys) with the run after which it arrived.
 */
export function describePages(
  pages: ReadonlyArray<{ state: string; run: number; failOpen?: boolean }>,
  sameKeyResends = 0,
): string {
  if (pages.length === 0 && sameKeyResends === 0) return 'no page';
  const groups = new Map<string, number>();
  for (const page of [...pages].sort((a, b) => a.run - b.run)) {
    const key = `${page.state}|${page.run}|${page.failOpen ? 'fail-open' : ''}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const parts = [...groups].map(([key, count]) => {
    const [state, run, failOpen] = key.split('|');
    return `${state}${count > 1 ? ` ×${count}` : ''} run ${run}${failOpen ? ' fail-open' : ''}`;
  });
  if (sameKeyResends > 0) parts.push(`+${sameKeyResends} same dedupKey`);
  return parts.join(', ');
}
