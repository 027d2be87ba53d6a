import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdvertisementParser,
  type AdvertisementResult,
  parseAdvertisement,
} from '../../../lib/steps/git/advertisement.ts';
import { MAX_PKT_LENGTH } from '../../../lib/steps/git/pkt-line.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/advertisements');
const bodies = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.bin'))
  .map((file) => readFileSync(join(FIXTURES, file)));
const valid = bodies.filter((body) => parseAdvertisement(body).ok);

/** Splits bytes at the given offsets (any order, duplicates allowed). */
function split(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [0, ...offsets.map((o) => o % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  return cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
}

function parseChunks(chunks: Uint8Array[], maxBytes?: number): AdvertisementResult {
  const parser = new AdvertisementParser({ maxBytes });
  for (const chunk of chunks) if (!parser.push(chunk)) break;
  return parser.finish();
}

/** A result is one of the two shapes, and a success only holds well-formed refs. */
function expectWellFormed(result: AdvertisementResult): void {
  if (!result.ok) {
    expect(typeof result.error.message).toBe('string');
    expect(result.error.message.length).toBeGreaterThan(0);
    return;
  }
  for (const ref of result.advertisement.refs) {
    expect(ref.oid).toMatch(/^([0-9a-f]{40}|[0-9a-f]{64})$/);
    expect(ref.name.length).toBeGreaterThan(0);
  }
}

const fixtureArb = fc.constantFrom(...valid);
const offsetsArb = fc.array(fc.nat(), { maxLength: 20 });

describe('AdvertisementParser under fuzzing', () => {
  it('never throws on arbitrary bytes, whole or chunked', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), offsetsArb, (bytes, offsets) => {
        const whole = parseAdvertisement(bytes);
        expectWellFormed(whole);
        expect(parseChunks(split(bytes, offsets))).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on pkt-line-shaped noise (plausible lengths, ref-like payloads)', () => {
    const packet = fc.oneof(
      fc.constantFrom('0000', '0001', '0002', '0003', 'fff1', 'zzzz', '001e# service=git-upload-pack\n'),
      fc.string({ maxLength: 80 }).map((text) => (Buffer.byteLength(text) + 4).toString(16).padStart(4, '0') + text),
      fc
        .tuple(fc.stringMatching(/^[0-9a-f]{40}$/), fc.constantFrom('HEAD', 'refs/heads/main', 'capabilities^{}', ''))
        .map(([oid, name]) => `${(oid.length + name.length + 6).toString(16).padStart(4, '0')}${oid} ${name}\n`),
    );
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 30 }), (packets) => {
        expectWellFormed(parseAdvertisement(Buffer.from(packets.join(''))));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same result for any chunking of a valid body', () => {
    fc.assert(
      fc.property(fixtureArb, offsetsArb, (body, offsets) => {
        expect(parseChunks(split(body, offsets))).toEqual(parseAdvertisement(body));
      }),
    );
  });

  it('fails every truncation of a valid body', () => {
    fc.assert(
      fc.property(fixtureArb, fc.nat(), offsetsArb, (body, cut, offsets) => {
        const prefix = body.subarray(0, cut % body.length);
        const result = parseChunks(split(prefix, offsets));
        expect(result.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws when a length prefix lies', () => {
    fc.assert(
      fc.property(fixtureArb, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (body, at, length) => {
        // Overwrite the 4 bytes at a packet boundary with another length.
        const boundaries: number[] = [];
        for (let i = 0; i < body.length; ) {
          boundaries.push(i);
          const n = Number.parseInt(body.subarray(i, i + 4).toString('latin1'), 16);
          i += Math.max(n, 4);
        }
        const start = boundaries[at % boundaries.length] ?? 0;
        const lying = Buffer.from(body);
        lying.write(length.toString(16).padStart(4, '0'), start, 'latin1');
        expectWellFormed(parseAdvertisement(lying));
      }),
      { numRuns: 2000 },
    );
  });

  it('fails a packet longer than the pkt-line maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_PKT_LENGTH + 1, max: 0xffff }), (length) => {
        const body = Buffer.concat([
          Buffer.from('001e# service=git-upload-pack\n0000'),
          Buffer.from(length.toString(16)),
          Buffer.alloc(length - 4, 'a'),
        ]);
        const result = parseAdvertisement(body);
        expect(result.ok).toBe(false);
        expect(result.ok ? '' : result.error.message).toContain(`gives length ${length}`);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps its buffer within maxBytes + one packet and stops, whatever endless data arrives', () => {
    const maxBytes = 4096;
    const refLine = `${'a'.repeat(40)} refs/heads/${'x'.repeat(100)}\n`;
    const prefix = fc.constantFrom('', '001e# service=git-upload-pack\n0000', 'fff0');
    const unit = fc.oneof(
      fc.constant((refLine.length + 4).toString(16).padStart(4, '0') + refLine), // ref lines, never a flush
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    fc.assert(
      fc.property(prefix, unit, fc.integer({ min: 1, max: 3000 }), (start, repeated, chunkSize) => {
        // Prepare: far more than the parser may take, as if the server never stopped
        const stream = Buffer.from(
          start + repeated.repeat(Math.ceil((4 * maxBytes + 2 * chunkSize) / repeated.length)),
          'latin1',
        );
        const parser = new AdvertisementParser({ maxBytes });
        let pushed = 0;
        // Act
        for (let at = 0; at < stream.length; at += chunkSize) {
          const more = parser.push(stream.subarray(at, at + chunkSize));
          pushed = at + chunkSize;
          // Assess
          expect(parser.bufferedBytes).toBeLessThanOrEqual(maxBytes + MAX_PKT_LENGTH);
          if (!more) break;
        }
        expect(parser.done).toBe(true);
        expect(pushed).toBeLessThanOrEqual(maxBytes + chunkSize);
        // The verdict is the one on the first maxBytes alone: random bytes may hold a whole advertisement
        // (`0000` is an empty repository's), which must parse as such; anything else fails, at the cap if
        // nothing failed before it.
        const withinCap = parseAdvertisement(stream.subarray(0, maxBytes));
        const result = parser.finish();
        if (withinCap.ok || !withinCap.error.message.startsWith('advertisement truncated')) {
          expect(result).toEqual(withinCap);
        } else {
          expect(result).toEqual({
            ok: false,
            error: { message: `advertisement exceeded the cap of ${maxBytes} bytes before its closing flush` },
          });
        }
        if (repeated.startsWith((refLine.length + 4).toString(16))) expect(result.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('ends endless data at its first flush: a bare `0000` is the advertisement of an empty repository', () => {
    // fast-check's counterexample (seed 7) for the property above when it expected every endless stream to fail.
    const parser = new AdvertisementParser({ maxBytes: 4096 });
    expect(parser.push(Buffer.from('0'.repeat(9000)))).toBe(false);
    expect(parser.finish()).toEqual({
      ok: true,
      advertisement: { refs: [], capabilities: [], symrefs: {}, head: null, headSha: null },
    });
  });
});
