import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostedRepository } from '../lib/sandbox/repository.ts';

/** A bare repository under a project root, laid out as `<root>/<name>.git` (what `git http-backend` finds). */
export interface BareRepo {
  name: string;
  path: string;
  /** What `git ls-remote` prints for it, read from the repository directly (the expected answer over HTTP). */
  refs: RefLine[];
}

export interface RefLine {
  oid: string;
  name: string;
}

// Fixed identity and dates: works without any git config and gives the same object ids on every run.
const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Canary Test',
  GIT_AUTHOR_EMAIL: 'canary@example.test',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Canary Test',
  GIT_COMMITTER_EMAIL: 'canary@example.test',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

function git(cwd: string, args: string[], input?: string): string {
  try {
    return execFileSync('git', args, { cwd, env: GIT_ENV, input, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
  } catch (error) {
    throw new Error(`git ${args.join(' ')} failed (is git installed? apt-get install git): ${String(error)}`);
  }
}

/** Parses `git ls-remote` output (`<oid>\t<name>` per line). */
export function parseRefLines(stdout: string): RefLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [oid = '', name = ''] = line.split('\t');
      return { oid, name };
    });
}

function initBare(root: string, name: string): string {
  mkdirSync(root, { recursive: true });
  const path = join(root, `${name}.git`);
  git(root, ['init', '--quiet', '--bare', '--initial-branch=main', path]);
  return path;
}

/** A commit made without a work tree: one file, optional parent. */
function commit(path: string, content: string, message: string, parent?: string): string {
  const blob = git(path, ['hash-object', '-w', '--stdin'], content);
  const tree = git(path, ['mktree'], `100644 blob ${blob}\tREADME\n`);
  return git(path, ['commit-tree', tree, '-m', message, ...(parent ? ['-p', parent] : [])]);
}

const done = (name: string, path: string): BareRepo => ({
  name,
  path,
  refs: parseRefLines(git(path, ['ls-remote', path])),
});

/**
 * main and develop (different commits), a lightweight and an annotated tag (so a peeled `^{}` line exists),
 * and HEAD on the non-default branch `develop` (the probe must not assume `main`).
 */
export function createRichRepo(root: string, name: string): BareRepo & { main: string; develop: string } {
  const path = initBare(root, name);
  const main = commit(path, 'hello\n', 'initial');
  const develop = commit(path, 'hello again\n', 'develop work', main);
  git(path, ['update-ref', 'refs/heads/main', main]);
  git(path, ['update-ref', 'refs/heads/develop', develop]);
  git(path, ['tag', 'v1.0-light', main]);
  git(path, ['tag', '-a', 'v1.0', '-m', 'release 1.0', main]);
  git(path, ['symbolic-ref', 'HEAD', 'refs/heads/develop']);
  return { ...done(name, path), main, develop };
}

/** No commits at all: `git ls-remote` prints nothing. */
export function createEmptyRepo(root: string, name: string): BareRepo {
  const path = initBare(root, name);
  return done(name, path);
}

/** One commit on main plus `count` lightweight tags pointing at it, written straight into packed-refs (milliseconds). */
export function createManyRefsRepo(root: string, name: string, count = 10_000): BareRepo & { head: string } {
  const path = initBare(root, name);
  const head = commit(path, 'many refs\n', 'initial');
  // packed-refs must be sorted by name; zero-padded numbers keep the tags in order, and heads sort before tags.
  const lines = ['# pack-refs with: peeled fully-peeled sorted ', `${head} refs/heads/main`];
  for (let i = 0; i < count; i++) lines.push(`${head} refs/tags/t${String(i).padStart(6, '0')}`);
  writeFileSync(join(path, 'packed-refs'), `${lines.join('\n')}\n`);
  return { ...done(name, path), head };
}

/**
 * A repository whose depth-1 pack is about `randomBytes` big: HEAD's tree holds that many random (incompressible)
 * bytes in `data/random.bin`, two similar text files (so the pack carries a delta) in `docs/`, and a README; HEAD
 * has a parent, so a shallow fetch gets a shallow line. The random content makes HEAD differ on every call.
 */
export function createLargeRepo(
  root: string,
  name: string,
  randomBytesCount = 3 * 1024 * 1024,
): BareRepo & { head: string; tree: string } {
  const path = initBare(root, name);
  const parent = commit(path, 'large repository\n', 'initial');
  const scratch = join(path, 'random.tmp');
  writeFileSync(scratch, randomBytes(randomBytesCount));
  const random = git(path, ['hash-object', '-w', scratch]);
  rmSync(scratch);
  const text = Array.from({ length: 400 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join(
    '',
  );
  const a = git(path, ['hash-object', '-w', '--stdin'], text);
  const b = git(path, ['hash-object', '-w', '--stdin'], `${text}one more line\n`);
  const docs = git(path, ['mktree'], `100644 blob ${a}\ta.txt\n100644 blob ${b}\tb.txt\n`);
  const data = git(path, ['mktree'], `100644 blob ${random}\trandom.bin\n`);
  const readme = git(path, ['hash-object', '-w', '--stdin'], 'large repository, second commit\n');
  const tree = git(
    path,
    ['mktree'],
    `100644 blob ${readme}\tREADME\n040000 tree ${data}\tdata\n040000 tree ${docs}\tdocs\n`,
  );
  const head = git(path, ['commit-tree', tree, '-m', 'add random data', '-p', parent]);
  git(path, ['update-ref', 'refs/heads/main', head]);
  return { ...done(name, path), head, tree };
}

const ADVERTISEMENTS = join(import.meta.dirname, '../test/fixtures/advertisements');

/**
 * `test_repo` as lib/sandbox's CodeCommit stand-in serves it in the tests: the advertisement `git http-backend`
 * sent for a repository with branches and tags (captured with real git), and how many lines `git ls-remote`
 * printed for it.
 */
export const CAPTURED_REPOSITORY: HostedRepository & { refs: number } = {
  name: 'test_repo',
  advertisement: readFileSync(join(ADVERTISEMENTS, 'branches-tags.bin')),
  refs: readFileSync(join(ADVERTISEMENTS, 'branches-tags.ls-remote.txt'), 'utf8').split('\n').filter(Boolean).length,
};
