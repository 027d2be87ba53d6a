/**
 * A git packfile read as it streams in (gitformat-pack): the `PACK` header, version 2 or 3, the object count, each
 * object's header and zlib stream, and the trailing SHA-1 over everything before it. Every object is inflated
 * (that is the only way to find where it ends, and proves its data is sound); only commit objects are kept, long
 * enough to hash them and find the one the pack must hold. Deltas are not resolved: a depth-1 pack without
 * `thin-pack` carries its one commit whole.
 *
 * Memory: the compressed bytes of the object being read, plus its inflated form when it is small
 * (`inlineInflateBytes`); larger objects inflate through a stream whose output is dropped, so a blob that
 * inflates to gigabytes costs no more than its compressed size.
 */
import { createHash } from 'node:crypto';
import { createInflate, inflateSync } from 'node:zlib';
import { ByteQueue } from './byte-queue.ts';
import { type CommitInfo, parseCommit } from './commit.ts';

/** Objects up to this inflated size inflate in one synchronous call; larger ones (but commits) through a stream. */
export const DEFAULT_INLINE_INFLATE_BYTES = 1024 * 1024;

/** Commits are kept to be hashed: one larger than this (real ones are a few hundred bytes) is refused. */
export const MAX_COMMIT_BYTES = 4 * 1024 * 1024;

/** Bytes handed to a streaming inflate at a time. */
const STREAM_PIECE_BYTES = 256 * 1024;

const HEADER_BYTES = 12;
const TRAILER_BYTES = 20;
const TYPE_NAMES = ['', 'commit', 'tree', 'blob', 'tag', '', 'ofs-delta', 'ref-delta'] as const;
const COMMIT = 1;
const OFS_DELTA = 6;
const REF_DELTA = 7;

export interface PackOptions {
  /** The commit (40-hex SHA-1) the pack must hold. */
  want: string;
  /** Pack bytes accepted; one more and the read fails. */
  maxBytes: number;
  /** Objects declared larger inflate through a stream (default {@link DEFAULT_INLINE_INFLATE_BYTES}). */
  inlineInflateBytes?: number;
}

export interface PackSummary {
  version: number;
  objects: number;
  /** The whole pack, trailer included. */
  bytes: number;
  /** The wanted commit, found in the pack and hashed. */
  commit: CommitInfo;
}

export type PackResult = { ok: true; pack: PackSummary } | { ok: false; error: { message: string } };

class PackError extends Error {}

/**
 * Reads a pack from `source` to its trailer and checks it. Problems with the pack are a result; the source's own
 * errors (a reset, an abort at the deadline) are thrown as they come. The source is closed when this returns.
 *
 * @example
 * const result = await readPack(packChunks, { want: headSha, maxBytes: 8 << 20 });
 * if (result.ok) console.log(result.pack.objects, result.pack.commit.tree);
 */
export async function readPack(source: AsyncIterable<Uint8Array>, options: PackOptions): Promise<PackResult> {
  const hash = createHash('sha1');
  const queue = new ByteQueue(source, hash);
  try {
    return { ok: true, pack: await new PackReader(queue, hash, options).read() };
  } catch (error) {
    if (error instanceof PackError) return { ok: false, error: { message: error.message } };
    throw error;
  } finally {
    await queue.close();
  }
}

class PackReader {
  readonly #inline: number;
  #commit: CommitInfo | null = null;
  #commits = 0;

  constructor(
    readonly queue: ByteQueue,
    readonly hash: ReturnType<typeof createHash>,
    readonly options: PackOptions,
  ) {
    this.#inline = options.inlineInflateBytes ?? DEFAULT_INLINE_INFLATE_BYTES;
  }

  async read(): Promise<PackSummary> {
    const header = await this.#take(HEADER_BYTES, 'in its header');
    if (header.toString('latin1', 0, 4) !== 'PACK') {
      throw new PackError(`not a pack: starts with ${JSON.stringify(header.toString('latin1', 0, 4))}, not "PACK"`);
    }
    const version = header.readUInt32BE(4);
    if (version !== 2 && version !== 3) throw new PackError(`unsupported pack version ${version} (2 and 3 are)`);
    const objects = header.readUInt32BE(8);
    for (let index = 0; index < objects; index++) await this.#object(index, objects);
    const digest = this.hash.digest();
    const trailer = await this.#take(TRAILER_BYTES, `in its trailer, after ${objects} objects`, false);
    if (!trailer.equals(digest)) {
      throw new PackError(
        `pack checksum mismatch: trailer ${trailer.toString('hex')}, content ${digest.toString('hex')}`,
      );
    }
    if (this.queue.length > 0 || (await this.queue.pull())) {
      throw new PackError(`junk after the pack trailer (${this.queue.length}+ bytes)`);
    }
    if (!this.#commit) {
      const what = this.#commits === 0 ? 'no commit object' : `${this.#commits} commit(s), none of them`;
      throw new PackError(`the pack holds ${what} ${this.options.want} (the wanted commit)`);
    }
    return { version, objects, bytes: this.queue.offset, commit: this.#commit };
  }

  async #object(index: number, count: number): Promise<void> {
    const start = this.queue.offset;
    const where = `in object ${index + 1} of ${count} (pack offset ${start})`;
    let byte = await this.#byte(where);
    const type = (byte >> 4) & 7;
    let size = byte & 15;
    for (let shift = 4; byte & 0x80; shift += 7) {
      if (shift > 46) throw new PackError(`object size header too long ${where}`);
      byte = await this.#byte(where);
      size += (byte & 0x7f) * 2 ** shift;
    }
    const name = TYPE_NAMES[type];
    if (!name) throw new PackError(`invalid object type ${type} ${where}`);
    if (type === OFS_DELTA) {
      byte = await this.#byte(where);
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = await this.#byte(where);
        distance = (distance + 1) * 128 + (byte & 0x7f);
      }
      if (distance === 0 || distance > start - HEADER_BYTES) {
        throw new PackError(`ofs-delta base offset out of bounds ${where}`);
      }
    } else if (type === REF_DELTA) {
      await this.#take(20, where);
    }
    const what = `${name} ${where}`;
    if (type === COMMIT && size > MAX_COMMIT_BYTES) {
      throw new PackError(`${what} declares ${size} bytes, more than the ${MAX_COMMIT_BYTES} a commit may have here`);
    }
    if (type !== COMMIT && size > this.#inline) return this.#inflateStreaming(size, what);
    const body = await this.#inflateInline(size, what);
    if (type === COMMIT) this.#takeCommit(body);
  }

  #takeCommit(body: Buffer): void {
    this.#commits++;
    const oid = createHash('sha1').update(`commit ${body.length}\0`).update(body).digest('hex');
    if (oid !== this.options.want.toLowerCase()) return;
    const commit = parseCommit(oid, body);
    if (!commit) throw new PackError(`commit ${oid} has no valid tree line`);
    this.#commit = commit;
  }

  /** One synchronous inflate of everything held, retried as bytes arrive (each retry on twice the bytes: linear). */
  async #inflateInline(size: number, what: string): Promise<Buffer> {
    let triedWith = 0;
    for (;;) {
      const held = this.queue.length;
      if (held > triedWith && (held >= 2 * triedWith || this.queue.ended)) {
        const inflated = this.#tryInflate(this.queue.peek(held), size, what);
        if (inflated) {
          this.queue.consume(inflated.consumed);
          return inflated.body;
        }
        triedWith = held;
      }
      if (!(await this.#pull())) {
        if (triedWith === this.queue.length) throw new PackError(`pack truncated in ${what}: its data ends early`);
      }
    }
  }

  /** The object's data and how many bytes its zlib stream took, or `null` when more bytes are needed. */
  #tryInflate(input: Buffer, size: number, what: string): { body: Buffer; consumed: number } | null {
    try {
      // maxOutputLength: an object inflating past its declared size fails at once, whatever it would reach.
      const { buffer, engine } = inflateSync(input, { info: true, maxOutputLength: Math.max(size, 1) }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      if (buffer.length !== size) {
        throw new PackError(`${what} inflates to ${buffer.length} bytes, its header says ${size}`);
      }
      return { body: buffer, consumed: engine.bytesWritten };
    } catch (error) {
      if (error instanceof PackError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'Z_BUF_ERROR') return null;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new PackError(`${what} inflates past its declared ${size} bytes`);
      throw new PackError(`${what}: corrupt zlib data (${(error as Error).message})`);
    }
  }

  /** Inflates through a zlib stream fed as bytes arrive, the output counted and dropped. */
  async #inflateStreaming(size: number, what: string): Promise<void> {
    const inflate = createInflate();
    let produced = 0;
    let ended = false;
    let failure: Error | null = null;
    inflate.on('data', (chunk: Buffer) => {
      produced += chunk.length;
      if (produced > size) inflate.destroy(new PackError(`${what} inflates past its declared ${size} bytes`));
    });
    inflate.on('end', () => {
      ended = true;
    });
    inflate.on('error', (error) => {
      failure ??= error;
    });
    const settled = () => ended || failure !== null || inflate.destroyed;
    // The write's callback runs once zlib took the chunk (`end` follows on the next turns of the loop); a zlib
    // error destroys the stream without calling it, so its close settles the write too.
    const write = (chunk: Buffer) =>
      new Promise<void>((resolve) => {
        const settle = () => {
          inflate.off('close', settle);
          setImmediate(resolve);
        };
        inflate.once('close', settle);
        inflate.write(chunk, settle);
      });
    // Input zlib has taken is hashed and dropped as it goes: memory stays about one piece, whatever the object.
    let taken = 0;
    try {
      while (!settled()) {
        // Pieces of STREAM_PIECE_BYTES (fewer trips to zlib's thread), or what is left when the source ends.
        while (this.queue.length < STREAM_PIECE_BYTES && (await this.#pull()));
        if (this.queue.length === 0) {
          inflate.end();
          await new Promise<void>((resolve) => inflate.once('close', resolve));
          break;
        }
        await write(Buffer.concat([...this.queue.chunksFrom(0)], this.queue.length));
        if (settled()) break;
        // Not ended: zlib took the whole piece.
        this.queue.consume(inflate.bytesWritten - taken);
        taken = inflate.bytesWritten;
      }
    } finally {
      inflate.destroy();
    }
    if (failure) {
      if (failure instanceof PackError) throw failure;
      const code = (failure as { code?: string }).code;
      if (code === 'Z_BUF_ERROR') throw new PackError(`pack truncated in ${what}: its data ends early`);
      throw new PackError(`${what}: corrupt zlib data (${(failure as Error).message})`);
    }
    if (!ended) throw new PackError(`pack truncated in ${what}: its data ends early`);
    if (produced !== size) throw new PackError(`${what} inflates to ${produced} bytes, its header says ${size}`);
    this.queue.consume(inflate.bytesWritten - taken);
  }

  async #byte(where: string): Promise<number> {
    return (await this.#take(1, where))[0] as number;
  }

  async #take(n: number, where: string, hashed = true): Promise<Buffer> {
    while (this.queue.length < n) {
      if (!(await this.#pull())) throw new PackError(`pack truncated ${where}: the stream ended`);
    }
    return this.queue.consume(n, hashed);
  }

  /** Pulls one more chunk within the byte cap. */
  async #pull(): Promise<boolean> {
    const more = await this.queue.pull();
    if (this.queue.pulled > this.options.maxBytes) {
      throw new PackError(`pack exceeds the cap of ${this.options.maxBytes} bytes (maxBytes)`);
    }
    return more;
  }
}
