import type { ResolvedTarget } from '../config/config.ts';
import { type ExpectStepResult, type FetchStepResult, type GitStepResult, zeroPhases } from '../types.ts';
import type { Advertisement } from './git/advertisement.ts';

type Expectations = NonNullable<ResolvedTarget['expect']>;
type Expectation = ExpectStepResult['expectations'][number];

const MINUTE_MS = 60_000;

/** `3 d 4 h`, `5 h 10 min`, `12 min`: an age for people. */
function age(ms: number): string {
  const minutes = Math.floor(ms / MINUTE_MS);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function refChecks(expected: readonly string[], advertisement: Advertisement): Expectation[] {
  const advertised = new Map(advertisement.refs.map((ref) => [ref.name, ref.oid]));
  return expected.map((ref) => {
    const oid = advertised.get(ref) ?? null;
    return { check: 'ref', ok: oid !== null, expected: ref, found: oid };
  });
}

function headAgeCheck(maxMinutes: number, git: GitStepResult, fetch: FetchStepResult | undefined, now: Date) {
  const expected = `at most ${maxMinutes} min old`;
  if (fetch?.committedAt) {
    const ms = now.getTime() - Date.parse(fetch.committedAt);
    const found = `${age(Math.max(0, ms))} old (${fetch.commit?.slice(0, 7)} committed ${fetch.committedAt})`;
    return { check: 'headAge', ok: ms <= maxMinutes * MINUTE_MS, expected, found } satisfies Expectation;
  }
  // No commit to date: an empty repository fails the age; a failed fetch already failed the target on its own.
  if (git.headSha === null) return { check: 'headAge', ok: false, expected, found: 'no commit' } satisfies Expectation;
  return null;
}

const describe = (e: Expectation): string => {
  if (e.check === 'ref') return `ref ${e.expected} is not advertised`;
  if (e.check === 'head') return `HEAD points at ${e.found ?? 'nothing'}, expected ${e.expected}`;
  return `HEAD is ${e.found ?? 'unknown'}, expected ${e.expected}`;
};

/**
 * Step `expect`: the target's ref assertions against what ls-remote advertised and (for the age) the commit the
 * fetch read. A mismatch is a failure of kind `assertion`: the path works, the repository is not as it should be
 * (a mirror that stopped syncing, a renamed default branch). Skipped when ls-remote failed.
 *
 * @example
 * expectStep({ head: 'refs/heads/main' }, git, advertisement, undefined, now).failure?.message
 * // 'HEAD points at refs/heads/master, expected refs/heads/main'
 */
export function expectStep(
  expectations: Expectations,
  git: GitStepResult,
  advertisement: Advertisement | null,
  fetch: FetchStepResult | undefined,
  now: Date,
): ExpectStepResult {
  const base = {
    endpoint: git.endpoint,
    addresses: git.addresses,
    private: git.private,
    durationMs: 0,
    deadlineMs: 0,
    phases: zeroPhases(),
  };
  if (advertisement === null) return { ...base, ok: false, skipped: true, failure: null, expectations: [] };
  const checks: Expectation[] = [
    ...refChecks(expectations.refs ?? [], advertisement),
    ...(expectations.head
      ? [
          {
            check: 'head',
            ok: advertisement.head === expectations.head,
            expected: expectations.head,
            found: advertisement.head,
          } satisfies Expectation,
        ]
      : []),
  ];
  const ageCheck =
    expectations.headMaxAgeMinutes === undefined ? null : headAgeCheck(expectations.headMaxAgeMinutes, git, fetch, now);
  if (ageCheck) checks.push(ageCheck);
  const failed = checks.filter((check) => !check.ok);
  return {
    ...base,
    ok: failed.length === 0,
    failure:
      failed.length === 0 ? null : { kind: 'assertion', phase: 'body', message: failed.map(describe).join('; ') },
    expectations: checks,
  };
}
