import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StepFailure } from '../../../lib/net/failure.ts';
import { FLUSH_PKT, pktLine } from '../../../lib/steps/git/pkt-line.ts';
import { packStream, uploadPackRequest } from '../../../lib/steps/git/upload-pack.ts';

const PACK = readFileSync(join(import.meta.dirname, '../../fixtures/packs/depth1.pack'));
const WANT = '507e9861e1da9408e61c72b8fd8caaeb913d0fe3';
const PARENT = 'b'.repeat(40);
const ADVERTISED = ['multi_ack', 'thin-pack', 'side-band', 'side-band-64k', 'ofs-delta', 'shallow', 'no-progress'];

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(body: Buffer, request = uploadPackRequest(WANT, ADVERTISED), size = 64 * 1024) {
  const out: Buffer[] = [];
  for await (const chunk of packStream(chunks(body, size), request)) out.push(chunk);
  return Buffer.concat(out);
}

async function failureOf(body: Buffer, request = uploadPackRequest(WANT, ADVERTISED)) {
  try {
    await collect(body, request);
  } catch (error) {
    if (error instanceof StepFailure) return error.failure;
    throw error;
  }
  throw new Error('no failure');
}

/** An upload-pack answer as git writes it: shallow section, NAK, then `bands` in side-band packets, flush. */
function answer(bands: [number, Buffer][], { shallow = true, flush = true } = {}): Buffer {
  const parts = shallow ? [pktLine(`shallow ${WANT}\n`), FLUSH_PKT] : [];
  parts.push(pktLine('NAK\n'));
  for (const [band, data] of bands) {
    for (let at = 0; at < data.length; at += 65515) {
      parts.push(pktLine(Buffer.concat([Buffer.from([band]), data.subarray(at, at + 65515)])));
    }
  }
  if (flush) parts.push(FLUSH_PKT);
  return Buffer.concat(parts);
}

describe('uploadPackRequest', () => {
  it('wants the commit with the fetch capabilities, depth 1, flush, done', () => {
    const request = uploadPackRequest(WANT, ADVERTISED);
    expect(request.body.toString()).toBe(
      `005ewant ${WANT} side-band-64k ofs-delta no-progress shallow\n000ddeepen 1\n00000009done\n`,
    );
    expect(request).toMatchObject({ sideBand: 'side-band-64k', shallow: true });
  });

  it('asks only for what the server advertised: side-band when 64k is missing, no deepen without shallow', () => {
    const request = uploadPackRequest(WANT, ['side-band', 'ofs-delta']);
    expect(request.body.toString()).toBe(`0046want ${WANT} side-band ofs-delta\n00000009done\n`);
    expect(request).toMatchObject({ sideBand: 'side-band', shallow: false });
    expect(uploadPackRequest(WANT, []).sideBand).toBe('none');
  });
});

describe('packStream', () => {
  it.each([1, 5, 4096, 65536])('side band in %i-byte chunks: the pack exactly, progress dropped', async (size) => {
    const body = answer([
      [2, Buffer.from('Counting objects: 7\r')],
      [1, PACK.subarray(0, 500)],
      [2, Buffer.from('Compressing\n')],
      [1, PACK.subarray(500)],
    ]);
    expect((await collect(body, undefined, size)).equals(PACK)).toBe(true);
  });

  it.each([1, 3, 64])('without side band in %i-byte chunks: the bytes after the NAK are the pack', async (size) => {
    const request = uploadPackRequest(WANT, ['shallow']);
    const body = Buffer.concat([
      pktLine(`shallow ${WANT}\n`),
      pktLine(`unshallow ${PARENT}\n`),
      FLUSH_PKT,
      pktLine('NAK\n'),
      PACK,
    ]);
    expect((await collect(body, request, size)).equals(PACK)).toBe(true);
  });

  it('a pack larger than one packet crosses packets whole', async () => {
    const big = Buffer.alloc(200_000, 7);
    expect((await collect(answer([[1, big]]))).equals(big)).toBe(true);
  });

  it.each([
    [
      'band 3',
      answer([
        [1, PACK.subarray(0, 10)],
        [3, Buffer.from('fatal: out of memory\n')],
      ]),
      'remote error: fatal: out of memory',
    ],
    [
      'an ERR line',
      Buffer.concat([pktLine(`ERR upload-pack: not our ref ${WANT}\n`)]),
      `remote error: upload-pack: not our ref ${WANT}`,
    ],
    [
      'no closing flush',
      answer([[1, PACK]], { flush: false }),
      'upload-pack answer ended in the pack, before its closing flush',
    ],
    ['an unknown band', answer([[4, Buffer.from('x')]]), 'unknown side band 4'],
    [
      'no NAK',
      Buffer.concat([pktLine(`shallow ${WANT}\n`), FLUSH_PKT]),
      'upload-pack answer ended in the acknowledgement section',
    ],
    ['a stray line', answer([], { shallow: false }), 'unexpected "NAK" in the shallow section'],
    [
      'bytes after the flush',
      Buffer.concat([answer([[1, PACK]]), Buffer.from('0005x')]),
      'bytes after the closing flush of the upload-pack answer',
    ],
    ['broken framing', Buffer.from('zzzz'), 'upload-pack answer: invalid pkt-line length "zzzz": is not 4 hex digits'],
  ])('%s: protocol in body, with what is wrong', async (_, body, message) => {
    expect(await failureOf(body)).toEqual({ kind: 'protocol', phase: 'body', message });
  });
});
