import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { incompressible, snapshot, writePack } from '../../lib/sandbox/git-objects.ts';
import { DEMO_ASSET_BYTES, DEMO_REPOSITORY, hosted } from '../../lib/sandbox/repository.ts';
import { readPack } from '../../lib/steps/git/pack.ts';

/**
 * The pack the CodeCommit stand-in serves, made in memory (lib/sandbox/git-objects.ts), against real git as the
 * oracle (`git index-pack` checks every object and the trailer, then git reads the objects back) and against the
 * probe's own pack reader.
 */

const git = (args: string[], input?: Buffer) => {
  const run = spawnSync('git', args, { input, maxBuffer: 16 * 1024 * 1024 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8') };
};

/** A bare repository holding `pack`, indexed by `git index-pack --stdin` (which verifies it). */
function indexed(pack: Buffer): { dir: string; indexed: ReturnType<typeof git> } {
  const dir = mkdtempSync(join(tmpdir(), 'canary-pack-'));
  expect(git(['init', '--quiet', '--bare', dir]).code).toBe(0);
  return { dir, indexed: git(['-C', dir, 'index-pack', '--stdin', '--strict'], pack) };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

const files = { 'b.txt': Buffer.from('second\n'), 'a.md': Buffer.from('# first\n') };
const at = new Date('2026-01-02T03:04:05Z');

describe('objects and a pack made in memory', () => {
  it('git accepts the pack (index-pack --strict) and reads back the commit, its tree and its files', () => {
    // Prepare
    const { commit, objects } = snapshot(files, { message: 'two files', time: at });

    // Act
    const { dir, indexed: result } = indexed(writePack(objects));

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [treeLine, authorLine, committerLine] = git(['-C', dir, 'cat-file', '-p', commit.oid])
      .stdout.toString()
      .split('\n');
    const tree = objects.find((o) => o.type === 'tree')?.oid;
    expect(treeLine).toBe(`tree ${tree}`);
    expect(authorLine).toBe(`author Demo <demo@example.test> ${at.getTime() / 1000} +0000`);
    expect(committerLine).toBe(`committer Demo <demo@example.test> ${at.getTime() / 1000} +0000`);
    const listed = git(['-C', dir, 'ls-tree', commit.oid]).stdout.toString().trim().split('\n');
    expect(listed.map((line) => line.split('\t')[1])).toEqual(['a.md', 'b.txt']);
    expect(git(['-C', dir, 'show', `${commit.oid}:b.txt`]).stdout.toString()).toBe('second\n');
    // Each oid is git's own hash of the object.
    const blob = git(['hash-object', '--stdin'], Buffer.from('second\n')).stdout.toString().trim();
    expect(objects.map((o) => o.oid)).toContain(blob);
  });

  it('the demo repository: HEAD is a real commit whose pack the probe reads and git verifies', async () => {
    // Prepare
    const { head } = hosted(DEMO_REPOSITORY);
    if (!head) throw new Error('the demo repository has no content');

    // Act
    const read = await readPack(once(head.pack), { want: head.oid, maxBytes: 1 << 20 });
    const { dir, indexed: result } = indexed(head.pack);

    // Assess: incompressible, so the pack is at least its asset's size, and both readers agree on it
    expect(DEMO_REPOSITORY.refs.find((r) => r.name === DEMO_REPOSITORY.head)?.oid).toBe(head.oid);
    expect(head.pack.length).toBeGreaterThan(DEMO_ASSET_BYTES);
    expect(read).toMatchObject({ ok: true, pack: { objects: 4, bytes: head.pack.length, commit: { oid: head.oid } } });
    expect(result.code).toBe(0);
    expect(
      git(['-C', dir, 'cat-file', '-s', `${head.oid}:assets.bin`])
        .stdout.toString()
        .trim(),
    ).toBe(String(DEMO_ASSET_BYTES));
  });

  it('incompressible data is the same for a seed, different for another, and does not shrink', () => {
    const data = incompressible(100_000, 'x');
    expect(data.equals(incompressible(100_000, 'x'))).toBe(true);
    expect(data.equals(incompressible(100_000, 'y'))).toBe(false);
    expect(deflateSync(data).length).toBeGreaterThanOrEqual(data.length);
  });

  it('a flipped byte in the pack is refused by git and by the probe', async () => {
    const { commit, objects } = snapshot(files, { message: 'two files', time: at });
    const pack = writePack(objects);
    pack[pack.length - 1] = (pack[pack.length - 1] as number) ^ 1;
    expect(indexed(pack).indexed.code).not.toBe(0);
    expect(await readPack(once(pack), { want: commit.oid, maxBytes: 1 << 20 })).toMatchObject({ ok: false });
  });
});
