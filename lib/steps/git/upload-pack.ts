/**
 * A shallow fetch of one commit over smart HTTP, protocol v0 (gitprotocol-pack, gitprotocol-http, stateless RPC):
 * the body of `POST <repo>/git-upload-pack` and the pack demultiplexed out of its answer.
 *
 *   request:  pkt("want <oid> <capabilities>\n") [pkt("deepen 1\n")] flush pkt("done\n")
 *   response: [pkt("shallow <oid>\n" | "unshallow <oid>\n")… flush]  pkt("NAK\n")
 *             then the pack: in side-band packets (band 1 data, 2 progress, 3 error) ending with a flush,
 *             or, without side-band, the raw pack to the end of the body.
 */
import { StepFailure } from '../../net/failure.ts';
import { serverText } from '../../net/server-text.ts';
import { FLUSH_PKT, type PktLine, PktLineReader, pktLine } from './pkt-line.ts';

/** What the fetch asks for, in this order, when the server advertised it. */
export const FETCH_CAPABILITIES = ['side-band-64k', 'ofs-delta', 'no-progress', 'shallow'] as const;

export type SideBand = 'side-band-64k' | 'side-band' | 'none';

export interface UploadPackRequest {
  body: Buffer;
  sideBand: SideBand;
  /** True when the request deepens (the server advertised `shallow`): its answer starts with the shallow section. */
  shallow: boolean;
}

/**
 * The request body for `want` at depth 1, with the capabilities of {@link FETCH_CAPABILITIES} the server
 * advertised (`side-band` when only that one was). Without `shallow` the fetch asks for the whole history.
 *
 * @example
 * uploadPackRequest('8f3c…', advertisement.capabilities).body.toString()
 * // → '005ewant 8f3c… side-band-64k ofs-delta no-progress shallow\n000ddeepen 1\n00000009done\n'
 */
export function uploadPackRequest(want: string, advertised: readonly string[]): UploadPackRequest {
  const offered = new Set(advertised);
  const capabilities: string[] = FETCH_CAPABILITIES.filter((capability) => offered.has(capability));
  let sideBand: SideBand = offered.has('side-band-64k') ? 'side-band-64k' : 'none';
  if (sideBand === 'none' && offered.has('side-band')) {
    capabilities.unshift('side-band');
    sideBand = 'side-band';
  }
  const shallow = offered.has('shallow');
  const lines = [pktLine(`want ${want}${capabilities.map((c) => ` ${c}`).join('')}\n`)];
  if (shallow) lines.push(pktLine('deepen 1\n'));
  lines.push(FLUSH_PKT, pktLine('done\n'));
  return { body: Buffer.concat(lines), sideBand, shallow };
}

const AFTER_FLUSH = 'bytes after the closing flush of the upload-pack answer';
const failure = (message: string) => new StepFailure({ kind: 'protocol', phase: 'body', message });

/**
 * The pack bytes of an upload-pack answer, as they arrive. A remote error (`ERR` line, side band 3), broken
 * framing or an answer that ends before its closing flush throws a `protocol` failure in `body`.
 */
export async function* packStream(body: AsyncIterable<Uint8Array>, request: UploadPackRequest): AsyncGenerator<Buffer> {
  const reader = new PktLineReader();
  let stage: 'shallow' | 'acknowledgement' | 'pack' | 'raw' | 'done' = request.shallow ? 'shallow' : 'acknowledgement';
  // Without side-band the pack follows the NAK unframed: the bytes the reader holds past it are pack bytes.
  const held: Buffer[] = [];
  let heldOffset = 0;
  for await (const chunk of body) {
    if (stage === 'raw') {
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      continue;
    }
    if (stage === 'done') throw failure(AFTER_FLUSH);
    reader.push(chunk);
    if (request.sideBand === 'none') held.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    for (let packet = reader.read(); packet !== null; packet = reader.read()) {
      if (packet.type === 'error') throw failure(`upload-pack answer: ${packet.message}`);
      if (stage === 'done') throw failure(AFTER_FLUSH);
      if (stage === 'pack') {
        if (packet.type === 'flush') {
          stage = 'done';
          continue;
        }
        const data = sideBandData(packet);
        if (data) yield data;
        continue;
      }
      stage = preamble(stage, packet);
      if (stage === 'pack' && request.sideBand === 'none') {
        const rest = Buffer.concat(held).subarray(reader.offset - heldOffset);
        stage = 'raw';
        if (rest.length > 0) yield rest;
        break;
      }
    }
    // Keep only the chunks the reader has not passed yet.
    while (held.length > 0 && heldOffset + (held[0] as Buffer).length <= reader.offset) {
      heldOffset += (held.shift() as Buffer).length;
    }
  }
  if (stage !== 'raw' && stage !== 'done') {
    const where = stage === 'pack' ? 'in the pack, before its closing flush' : `in the ${stage} section`;
    throw failure(`upload-pack answer ended ${where}`);
  }
}

/** Band 1 is pack data, band 2 progress (dropped), band 3 the server's fatal error. */
function sideBandData(packet: PktLine): Buffer | null {
  if (packet.type !== 'data' || packet.payload.length === 0) {
    throw failure(`unexpected ${packet.type === 'data' ? 'empty' : packet.type} packet in the side band`);
  }
  const band = packet.payload[0];
  if (band === 1) return packet.payload.subarray(1);
  if (band === 2) return null;
  const text = serverText(packet.payload.subarray(1).toString('utf8').trim());
  if (band === 3) throw failure(`remote error: ${text}`);
  throw failure(`unknown side band ${band}`);
}

/** One packet of the shallow section or the acknowledgement; returns the next stage. */
function preamble(stage: 'shallow' | 'acknowledgement', packet: PktLine): 'shallow' | 'acknowledgement' | 'pack' {
  if (packet.type === 'flush' && stage === 'shallow') return 'acknowledgement';
  if (packet.type !== 'data') throw failure(`unexpected ${packet.type} packet in the ${stage} section`);
  const line = packet.payload.toString('utf8').replace(/\n$/, '');
  if (line.startsWith('ERR ')) throw failure(`remote error: ${serverText(line.slice(4))}`);
  if (stage === 'shallow' && /^(?:un)?shallow [0-9a-f]{40,64}$/.test(line)) return 'shallow';
  if (stage === 'acknowledgement' && (line === 'NAK' || line.startsWith('ACK '))) return 'pack';
  throw failure(`unexpected ${JSON.stringify(serverText(line, 80))} in the ${stage} section`);
}
