import { describe, expect, it } from 'vitest';
import { MAX_PKT_LENGTH, type PktLine, type PktLineError, PktLineReader } from '../../../lib/steps/git/pkt-line.ts';

type Read = PktLine | PktLineError;

/** Everything the reader yields for these chunks, up to the first error. */
function readAll(chunks: Uint8Array[]): Read[] {
  const reader = new PktLineReader();
  const out: Read[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let packet = reader.read(); packet; packet = reader.read()) {
      out.push(packet);
      if (packet.type === 'error') return out;
    }
  }
  return out;
}

const show = (reads: Read[]) => reads.map((r) => (r.type === 'data' ? `data:${r.payload.toString('latin1')}` : r.type));

const stream = Buffer.from('000ahello\n0000' + '0001' + '0004' + '0008abcd' + '0002');
const expected = ['data:hello\n', 'flush', 'delim', 'data:', 'data:abcd', 'response-end'];

describe('PktLineReader', () => {
  it('reads data, flush, delim and response-end packets', () => {
    expect(show(readAll([stream]))).toEqual(expected);
  });

  it('gives the same packets wherever the stream is split, even inside a length', () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(show(readAll([stream.subarray(0, at), stream.subarray(at)])), `split at ${at}`).toEqual(expected);
    }
  });

  it('gives the same packets when fed one byte at a time', () => {
    const bytes = [...stream].map((byte) => Uint8Array.of(byte));
    expect(show(readAll(bytes))).toEqual(expected);
  });

  it('returns null until a whole packet arrived, and counts what it holds', () => {
    // Prepare
    const reader = new PktLineReader();
    // Act
    reader.push(Buffer.from('00'));
    const beforeLength = reader.read();
    reader.push(Buffer.from('09ab'));
    const beforePayload = reader.read();
    const held = reader.bufferedBytes;
    reader.push(Buffer.from('cde0000'));
    // Assess
    expect(beforeLength).toBeNull();
    expect(beforePayload).toBeNull();
    expect(held).toBe(6);
    expect(show([reader.read() as Read, reader.read() as Read])).toEqual(['data:abcde', 'flush']);
    expect(reader.read()).toBeNull();
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.offset).toBe(13);
  });

  it('accepts upper-case hex lengths, as git does', () => {
    expect(show(readAll([Buffer.from('000Ahello\n')]))).toEqual(['data:hello\n']);
  });

  it('accepts plain Uint8Array chunks', () => {
    expect(show(readAll([new TextEncoder().encode('0006hi0000')]))).toEqual(['data:hi', 'flush']);
  });

  it('reads a packet of the largest allowed length', () => {
    const payload = Buffer.alloc(MAX_PKT_LENGTH - 4, 'x');
    const reads = readAll([Buffer.from(MAX_PKT_LENGTH.toString(16)), payload]);
    expect(reads).toHaveLength(1);
    expect(reads[0]?.type === 'data' && reads[0].payload.equals(payload)).toBe(true);
  });

  it.each([
    ['not hex', 'zzzz', 'invalid pkt-line length "zzzz": is not 4 hex digits'],
    ['a sign', '+00a', 'invalid pkt-line length "+00a": is not 4 hex digits'],
    ['length 3', '0003', 'invalid pkt-line length "0003": gives length 3 (allowed: 0-2 or 4-65520)'],
    ['over the maximum', 'fff1', 'invalid pkt-line length "fff1": gives length 65521 (allowed: 0-2 or 4-65520)'],
    ['0xffff', 'ffff', 'invalid pkt-line length "ffff": gives length 65535 (allowed: 0-2 or 4-65520)'],
  ])('returns a typed error for a length that is %s', (_, header, message) => {
    // Prepare: one good packet first, so the offset is not 0
    const reader = new PktLineReader();
    reader.push(Buffer.from(`0000${header}more bytes`));
    // Act
    const flush = reader.read();
    const error = reader.read();
    // Assess
    expect(flush).toEqual({ type: 'flush' });
    expect(error).toEqual({ type: 'error', message, offset: 4 });
  });

  it('keeps returning its error and drops buffered bytes after one', () => {
    const reader = new PktLineReader();
    reader.push(Buffer.from('0003'));
    const first = reader.read();
    reader.push(Buffer.from('0000'));
    expect(reader.read()).toBe(first);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('stays linear: 600 KB of packets in 1-byte chunks, and one maximal packet in 1-byte chunks', () => {
    // Prepare
    const text = '0ddc0aa42f06f507f2bffc93d59d00fe1fc954a2 refs/heads/branch-00000\n';
    const line = Buffer.from((text.length + 4).toString(16).padStart(4, '0') + text);
    const many = Buffer.concat(Array.from({ length: 10_000 }, () => line));
    const big = Buffer.concat([Buffer.from('fff0'), Buffer.alloc(MAX_PKT_LENGTH - 4, 'x')]);
    const reader = new PktLineReader();
    let packets = 0;
    // Act
    const started = performance.now();
    for (const bytes of [many, big]) {
      for (let i = 0; i < bytes.length; i++) {
        reader.push(bytes.subarray(i, i + 1));
        while (reader.read()) packets++;
      }
    }
    const elapsedMs = performance.now() - started;
    // Assess: a quadratic reader takes minutes here; the bound only catches that, not slow machines
    expect(packets).toBe(10_001);
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
