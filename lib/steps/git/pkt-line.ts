/**
 * Git pkt-line framing (gitprotocol-common): 4 hex digits giving the packet's length including themselves,
 * then the payload. `0000` flush, `0001` delim and `0002` response-end carry no payload.
 */

/** Largest packet git writes or accepts (LARGE_PACKET_MAX), length prefix included. */
export const MAX_PKT_LENGTH = 65520;

const HEADER_LENGTH = 4;

/** One packet off the wire. A data payload may share memory with the chunk it came in: copy it to keep it. */
export type PktLine =
  | { type: 'data'; payload: Buffer }
  | { type: 'flush' }
  | { type: 'delim' }
  | { type: 'response-end' };

/** The stream is not pkt-lines: a length that is not hex, is 3, or exceeds {@link MAX_PKT_LENGTH}. */
export interface PktLineError {
  type: 'error';
  message: string;
  /** Stream offset of the bad length prefix. */
  offset: number;
}

const SPECIAL: Record<number, PktLine> = { 0: { type: 'flush' }, 1: { type: 'delim' }, 2: { type: 'response-end' } };

/**
 * Streaming pkt-line reader: `push` chunks as they arrive (split anywhere, even inside a length prefix),
 * then call `read` until it returns `null` (needs more bytes). Chunks are joined only once a whole packet
 * is there, so each byte is copied a bounded number of times: linear in the stream's length whatever the chunking. An error is final: once `read` returns
 * one, it keeps returning it and drops what it had buffered.
 *
 * @example
 * const reader = new PktLineReader();
 * reader.push(Buffer.from('000ahello\n0000'));
 * reader.read(); // → { type: 'data', payload: <Buffer 68 65 6c 6c 6f 0a> }
 * reader.read(); // → { type: 'flush' }
 * reader.read(); // → null
 */
export class PktLineReader {
  /** Contiguous bytes being parsed, from `#position` on. */
  #current: Buffer = Buffer.alloc(0);
  #position = 0;
  /** Chunks not yet joined to `#current`: joined only once enough bytes for the next packet arrived. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Stream offset of `#current[0]`. */
  #currentOffset = 0;
  #error: PktLineError | null = null;

  /** Bytes received and not yet returned as packets (at most one packet's worth after `read` returned `null`). */
  get bufferedBytes(): number {
    return this.#current.length - this.#position + this.#pendingBytes;
  }

  /** Bytes returned as packets so far: the stream offset of the next packet. */
  get offset(): number {
    return this.#currentOffset + this.#position;
  }

  /** Adds a chunk. The reader keeps a reference: do not modify the chunk afterwards. */
  push(chunk: Uint8Array): void {
    if (this.#error || chunk.length === 0) return;
    // A view, not a copy: fetch and some streams hand out plain Uint8Arrays.
    this.#pending.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#pendingBytes += chunk.length;
  }

  /** The next packet, `null` when more bytes are needed, or the (final) framing error. */
  read(): PktLine | PktLineError | null {
    if (this.#error) return this.#error;
    for (;;) {
      const available = this.#current.length - this.#position;
      let needed = HEADER_LENGTH;
      if (available >= HEADER_LENGTH) {
        const length = parseLength(this.#current, this.#position);
        const special = SPECIAL[length];
        if (special) {
          this.#position += HEADER_LENGTH;
          return special;
        }
        if (length < HEADER_LENGTH || length > MAX_PKT_LENGTH) return this.#fail(length);
        if (available >= length) {
          const payload = this.#current.subarray(this.#position + HEADER_LENGTH, this.#position + length);
          this.#position += length;
          return { type: 'data', payload };
        }
        needed = length;
      }
      if (available + this.#pendingBytes < needed) return null;
      this.#join();
    }
  }

  /** Moves the pending chunks behind the unread rest of `#current`, into one buffer. */
  #join(): void {
    const rest = this.#current.subarray(this.#position);
    const parts = rest.length > 0 ? [rest, ...this.#pending] : this.#pending;
    this.#currentOffset += this.#position;
    this.#current = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, rest.length + this.#pendingBytes);
    this.#position = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #fail(length: number): PktLineError {
    const header = this.#current.subarray(this.#position, this.#position + HEADER_LENGTH);
    const why = length < 0 ? 'is not 4 hex digits' : `gives length ${length} (allowed: 0-2 or 4-${MAX_PKT_LENGTH})`;
    this.#error = {
      type: 'error',
      message: `invalid pkt-line length ${JSON.stringify(header.toString('latin1'))}: ${why}`,
      offset: this.offset,
    };
    this.#current = Buffer.alloc(0);
    this.#position = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#error;
  }
}

/** The 4-hex-digit length at `at`, or -1. Digit by digit: `parseInt` would accept "+1f" or "0x1". */
function parseLength(bytes: Buffer, at: number): number {
  let length = 0;
  for (let i = at; i < at + HEADER_LENGTH; i++) {
    const digit = hexValue(bytes[i] ?? 0);
    if (digit < 0) return -1;
    length = length * 16 + digit;
  }
  return length;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30; // 0-9
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57; // a-f
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37; // A-F: git's hex parser accepts them too
  return -1;
}

/** The flush packet: ends a section of a request or response. */
export const FLUSH_PKT = Buffer.from('0000');

/**
 * One data packet: the 4-hex-digit length (payload + 4), then the payload.
 *
 * @example
 * pktLine('done\n'); // → <Buffer 30 30 30 39 64 6f 6e 65 0a> ("0009done\n")
 */
export function pktLine(payload: string | Uint8Array): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (bytes.length + HEADER_LENGTH > MAX_PKT_LENGTH) {
    throw new RangeError(`pkt-line payload of ${bytes.length} bytes exceeds ${MAX_PKT_LENGTH - HEADER_LENGTH}`);
  }
  return Buffer.concat([Buffer.from((bytes.length + HEADER_LENGTH).toString(16).padStart(4, '0')), bytes]);
}
