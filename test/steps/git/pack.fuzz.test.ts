import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StepFailure } from '../../../lib/net/failure.ts';
import { type PackResult, readPack } from '../../../lib/steps/git/pack.ts';
import { FLUSH_PKT, pktLine } from '../../../lib/steps/git/pkt-line.ts';
import { packStream, uploadPackRequest } from '../../../lib/steps/git/upload-pack.ts';

const PACK = readFileSync(join(import.meta.dirname, '../../fixtures/packs/depth1.pack'));
const COMMIT = '507e9861e1da9408e61c72b8fd8caaeb913d0fe3';

/** Splits bytes at the given offsets (any order, duplicates allowed). */
function split(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [0, ...offsets.map((o) => o % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  return cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
}

async function* source(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

const read = (chunks: Uint8Array[], inlineInflateBytes?: number): Promise<PackResult> =>
  readPack(source(chunks), {
    want: COMMIT,
    maxBytes: 1 << 20,
    ...(inlineInflateBytes === undefined ? {} : { inlineInflateBytes }),
  });

/** A failure is data: one line saying what is wrong, never an exception. */
function expectFailureAsData(result: PackResult): void {
  if (result.ok) return;
  expect(result.error.message.length).toBeGreaterThan(0);
  expect(result.error.message).not.toMatch(/\n/);
}

const offsetsArb = fc.array(fc.nat(), { maxLength: 12 });

describe('readPack under fuzzing', () => {
  it('the captured pack, split anywhere, always reads the same', async () => {
    const whole = await read([PACK]);
    expect(whole.ok).toBe(true);
    await fc.assert(
      fc.asyncProperty(offsetsArb, fc.boolean(), async (offsets, streamed) => {
        expect(await read(split(PACK, offsets), streamed ? 0 : undefined)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('a mutated pack fails as data, and only a checksum that still matches can pass (it cannot here)', async () => {
    const mutation = fc.record({ at: fc.nat({ max: PACK.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), offsetsArb, async (mutations, offsets) => {
        const bytes = Buffer.from(PACK);
        for (const { at, xor } of mutations) bytes[at] = (bytes[at] as number) ^ xor;
        if (bytes.equals(PACK)) return; // mutations that cancel out
        const result = await read(split(bytes, offsets));
        expect(result.ok).toBe(false);
        expectFailureAsData(result);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes behind a valid header fail as data', async () => {
    const header = PACK.subarray(0, 12);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 1024 }),
        offsetsArb,
        fc.boolean(),
        async (tail, offsets, streamed) => {
          const result = await read(split(Buffer.concat([header, tail]), offsets), streamed ? 0 : undefined);
          expect(result.ok).toBe(false);
          expectFailureAsData(result);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('packStream under fuzzing', () => {
  it('arbitrary answers either yield bytes or end in a protocol failure in body, never another exception', async () => {
    const request = uploadPackRequest(COMMIT, ['side-band-64k', 'shallow']);
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        FLUSH_PKT,
        pktLine('NAK\n'),
        pktLine(`shallow ${COMMIT}\n`),
        pktLine('\u0001PACK'),
        pktLine('\u0003err'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(noise, { maxLength: 8 }), offsetsArb, async (parts, offsets) => {
        try {
          for await (const chunk of packStream(source(split(Buffer.concat(parts), offsets)), request)) {
            expect(chunk.length).toBeGreaterThan(0);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(StepFailure);
          expect((error as StepFailure).failure).toMatchObject({ kind: 'protocol', phase: 'body' });
        }
      }),
      { numRuns: 1000 },
    );
  });
});
