/**
 * Bytes pulled from an async source on demand and consumed from the front, each consumed byte passed to a hash
 * once: what a streaming parser needs to read a format whose record ends it only learns by decoding (a pack's
 * zlib streams). Holds only what was pulled and not yet consumed.
 */
import type { Hash } from 'node:crypto';

export class ByteQueue {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #hash: Hash;
  #chunks: Buffer[] = [];
  #length = 0;
  #pulled = 0;
  #consumed = 0;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>, hash: Hash) {
    this.#source = source[Symbol.asyncIterator]();
    this.#hash = hash;
  }

  /** Bytes pulled and not consumed. */
  get length(): number {
    return this.#length;
  }

  /** Bytes pulled from the source so far. */
  get pulled(): number {
    return this.#pulled;
  }

  /** Stream offset of the next unconsumed byte. */
  get offset(): number {
    return this.#consumed;
  }

  /** True once the source has no more chunks. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Pulls one more chunk; `false` when the source has ended. */
  async pull(): Promise<boolean> {
    while (!this.#ended) {
      const next = await this.#source.next();
      if (next.done) {
        this.#ended = true;
        break;
      }
      const chunk = next.value;
      if (chunk.length === 0) continue;
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#length += chunk.length;
      this.#pulled += chunk.length;
      return true;
    }
    return false;
  }

  /** Pulls until `n` bytes are held; `false` when the source ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.#length < n) if (!(await this.pull())) return false;
    return true;
  }

  /** The first `n` held bytes as one buffer (joined in place, so joining again costs nothing). */
  peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [joined];
    return joined.subarray(0, n);
  }

  /** The held chunks from offset `from` on (views, not copies). */
  *chunksFrom(from: number): Generator<Buffer> {
    let skip = from;
    for (const chunk of this.#chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      yield skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
    }
  }

  /** Consumes `n` held bytes: hashed (unless `hashed` is false) and dropped. Returns them (a view). */
  consume(n: number, hashed = true): Buffer {
    const bytes = this.peek(n);
    if (hashed) this.#hash.update(bytes);
    let left = n;
    while (left > 0) {
      const head = this.#chunks[0] as Buffer;
      if (head.length <= left) {
        this.#chunks.shift();
        left -= head.length;
      } else {
        this.#chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.#length -= n;
    this.#consumed += n;
    return bytes;
  }

  /** Stops the source (e.g. destroys the response it reads); safe to call twice. */
  async close(): Promise<void> {
    this.#chunks = [];
    this.#length = 0;
    if (!this.#ended) {
      this.#ended = true;
      await this.#source.return?.();
    }
  }
}
