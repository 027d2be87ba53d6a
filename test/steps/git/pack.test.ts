import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCommit } from '../../../lib/steps/git/commit.ts';
import { MAX_COMMIT_BYTES, type PackOptions, readPack } from '../../../lib/steps/git/pack.ts';

// A depth-1 pack captured from `git pack-objects` (see test/fixtures/packs/README.md).
const PACK = readFileSync(join(import.meta.dirname, '../../fixtures/packs/depth1.pack'));
const COMMIT = '507e9861e1da9408e61c72b8fd8caaeb913d0fe3';
const TREE = 'c950dd289bd34dba9f77aee45e86de02a41a4e02';

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const read = (bytes: Buffer, options: Partial<PackOptions> = {}, chunkSize = 64 * 1024) =>
  readPack(chunks(bytes, chunkSize), { want: COMMIT, maxBytes: 1 << 20, ...options });

/** A pack written here: objects as given (type number, body, the size its header declares), SHA-1 trailer. */
function buildPack(objects: { type: number; body: Buffer; declared?: number }[], version = 2): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(objects.length, 8);
  const parts = [header];
  for (const { type, body, declared = body.length } of objects) {
    let size = declared;
    const bytes = [(type << 4) | (size & 15)];
    size = Math.floor(size / 16);
    while (size > 0) {
      bytes[bytes.length - 1] = (bytes.at(-1) as number) | 0x80;
      bytes.push(size & 0x7f);
      size = Math.floor(size / 128);
    }
    parts.push(Buffer.from(bytes), deflateSync(body));
  }
  const content = Buffer.concat(parts);
  return Buffer.concat([content, createHash('sha1').update(content).digest()]);
}

const commitBody = (tree: string) =>
  Buffer.from(`tree ${tree}\nauthor A <a@example.test> 1 +0000\ncommitter A <a@example.test> 1704067200 +0000\n\nm\n`);
const oidOf = (body: Buffer) => createHash('sha1').update(`commit ${body.length}\0`).update(body).digest('hex');

describe('readPack on a captured depth-1 pack', () => {
  it.each([
    ['in one chunk', 64 * 1024, undefined],
    ['in 1-byte chunks', 1, undefined],
    ['in 7-byte chunks, every object but the commit through the zlib stream', 7, 0],
    ['in one chunk, every object but the commit through the zlib stream', 64 * 1024, 0],
  ])('%s: header, count, every object, trailer and the wanted commit', async (_, chunkSize, inline) => {
    // Act
    const result = await read(PACK, inline === undefined ? {} : { inlineInflateBytes: inline }, chunkSize);
    // Assess: what `git verify-pack -v` says of it
    expect(result).toEqual({
      ok: true,
      pack: {
        version: 2,
        objects: 7,
        bytes: PACK.length,
        commit: { oid: COMMIT, tree: TREE, committedAt: '2024-03-01T03:34:56.000Z' },
      },
    });
  });

  it('finds the commit whatever the case of the wanted oid', async () => {
    expect((await read(PACK, { want: COMMIT.toUpperCase() })).ok).toBe(true);
  });

  it.each([
    [
      'a flipped byte in the trailer',
      (p: Buffer) => p.fill(p.readUInt8(p.length - 1) ^ 1, p.length - 1),
      /pack checksum mismatch/,
    ],
    [
      'a flipped byte inside the commit',
      (p: Buffer) => p.fill(p.readUInt8(40) ^ 0x40, 40, 41),
      /corrupt zlib data|checksum/,
    ],
    ['truncated in an object', (p: Buffer) => p.subarray(0, 700), /pack truncated in blob in object 5 of 7/],
    ['truncated in the trailer', (p: Buffer) => p.subarray(0, p.length - 5), /pack truncated in its trailer/],
    ['junk after the trailer', (p: Buffer) => Buffer.concat([p, Buffer.from('x')]), /junk after the pack trailer/],
    [
      'not a pack',
      (p: Buffer) => Buffer.concat([Buffer.from('PACX'), p.subarray(4)]),
      /not a pack: starts with "PACX"/,
    ],
    ['version 4', (p: Buffer) => p.fill(4, 7, 8), /unsupported pack version 4/],
    ['no bytes', () => Buffer.alloc(0), /pack truncated in its header/],
  ])('%s: a protocol problem, with what is wrong', async (_, corrupt, message) => {
    const result = await read(corrupt(Buffer.from(PACK)));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
  });

  it('a pack without the wanted commit fails, naming it', async () => {
    const want = 'a'.repeat(40);
    const result = await read(PACK, { want });
    expect(result).toEqual({
      ok: false,
      error: { message: `the pack holds 1 commit(s), none of them ${want} (the wanted commit)` },
    });
  });

  it('stops at maxBytes, one byte short of the pack', async () => {
    const result = await read(PACK, { maxBytes: PACK.length - 1 }, 100);
    expect(result).toEqual({
      ok: false,
      error: { message: `pack exceeds the cap of ${PACK.length - 1} bytes (maxBytes)` },
    });
    expect((await read(PACK, { maxBytes: PACK.length }, 100)).ok).toBe(true);
  });

  it('closes the source when it stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        yield PACK.subarray(0, 100);
        yield Buffer.from('trailing junk that is never read');
      } finally {
        closed = true;
      }
    }
    const result = await readPack(source(), { want: COMMIT, maxBytes: 50 });
    expect(result.ok).toBe(false);
    expect(closed).toBe(true);
  });
});

describe('readPack on packs written here', () => {
  const body = commitBody(TREE);
  const want = oidOf(body);

  it.each([0, 1 << 20])('an object inflating past its declared size fails (inline limit %i)', async (inline) => {
    const pack = buildPack([{ type: 3, body: Buffer.alloc(5000, 'z'), declared: 100 }]);
    const result = await readPack(chunks(pack, 512), { want, maxBytes: 1 << 20, inlineInflateBytes: inline });
    expect(result).toEqual({
      ok: false,
      error: { message: 'blob in object 1 of 1 (pack offset 12) inflates past its declared 100 bytes' },
    });
  });

  it.each([0, 1 << 20])('an object inflating short of its declared size fails (inline limit %i)', async (inline) => {
    const pack = buildPack([{ type: 3, body: Buffer.from('short'), declared: 9 }]);
    const result = await readPack(chunks(pack, 3), { want, maxBytes: 1 << 20, inlineInflateBytes: inline });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/inflates to 5 bytes, its header says 9/);
  });

  it.each([0, 1 << 20])('corrupt zlib data fails at once, not at the deadline (inline limit %i)', async (inline) => {
    const pack = buildPack([{ type: 3, body: Buffer.alloc(5000, 'z') }]);
    pack.fill(0xff, 16, 24); // inside the blob's deflate stream, past its 2-byte zlib header
    const result = await readPack(chunks(pack, 512), { want, maxBytes: 1 << 20, inlineInflateBytes: inline });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.message).toMatch(/^blob in object 1 of 1 \(pack offset 12\): corrupt zlib data/);
  });

  it('an invalid object type fails', async () => {
    const result = await readPack(chunks(buildPack([{ type: 5, body: body }]), 100), { want, maxBytes: 1 << 20 });
    expect(result).toEqual({
      ok: false,
      error: { message: 'invalid object type 5 in object 1 of 1 (pack offset 12)' },
    });
  });

  it('version 3 and a large object through the stream: read, the commit found after it', async () => {
    const big = Buffer.alloc(3 << 20, 'a'); // inflates to 3 MiB from a few KB
    const pack = buildPack(
      [
        { type: 3, body: big },
        { type: 1, body },
      ],
      3,
    );
    const result = await readPack(chunks(pack, 1000), { want, maxBytes: 1 << 20 });
    expect(result).toMatchObject({ ok: true, pack: { version: 3, objects: 2, commit: { oid: want, tree: TREE } } });
  });

  it('a commit declaring more than MAX_COMMIT_BYTES is refused before it is inflated', async () => {
    const pack = buildPack([{ type: 1, body, declared: MAX_COMMIT_BYTES + 1 }]);
    const result = await readPack(chunks(pack, 100), { want, maxBytes: 1 << 20 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/^commit in object 1 of 1 .* declares 4194305 bytes/);
  });

  it('a commit whose first line is no tree line fails when it is the wanted one', async () => {
    const bad = Buffer.from('parent x\n\nm\n');
    const result = await readPack(chunks(buildPack([{ type: 1, body: bad }]), 100), {
      want: oidOf(bad),
      maxBytes: 1 << 20,
    });
    expect(result).toEqual({ ok: false, error: { message: `commit ${oidOf(bad)} has no valid tree line` } });
  });
});

describe('parseCommit', () => {
  it('reads the tree and the committer time with its zone', () => {
    const body = Buffer.from(
      `tree ${TREE}\nparent ${COMMIT}\nauthor A <a@x> 1 +0000\ncommitter B <b> c> 1709264096 -0130\n\n`,
    );
    expect(parseCommit('o', body)).toEqual({ oid: 'o', tree: TREE, committedAt: '2024-03-01T03:34:56.000Z' });
  });

  it('a committer line without a time gives no committedAt', () => {
    expect(parseCommit('o', Buffer.from(`tree ${TREE}\ncommitter B <b>\n\nmsg\n`))?.committedAt).toBeNull();
  });

  it('a time past year 9999 gives no committedAt: the record takes only four-digit years', () => {
    const at = (seconds: number) =>
      parseCommit('o', Buffer.from(`tree ${TREE}\ncommitter B <b> ${seconds} +0000\n\nmsg\n`))?.committedAt;
    expect(at(253_402_300_799)).toBe('9999-12-31T23:59:59.000Z');
    expect(at(253_402_300_800)).toBeNull();
  });
});
