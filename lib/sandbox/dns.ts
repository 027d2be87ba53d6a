/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for the demo's names, so the probe's `dns` phase is a real
 * lookup. Answers A queries for known names; AAAA for a known name is an empty NOERROR; anything else NXDOMAIN.
 * The wire format is written by hand (RFC 1035 §4): header, the question echoed, one answer per address.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import type { FaultSwitch } from './faults.ts';

export interface DemoDnsServer {
  /** `127.0.0.1:<port>`, for the config's `dns.servers`. */
  server: string;
  /** Every name asked, lower case, in order: the test checks the probe asked only here. */
  queries: string[];
  stop(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const NOERROR = 0;
const NXDOMAIN = 3;
const TTL_SECONDS = 5;

interface Question {
  id: number;
  recursionDesired: boolean;
  name: string;
  type: number;
  /** The question section as received, echoed in the answer. */
  raw: Buffer;
}

/** The first question of a query, or null when the packet is not one we can answer. */
function parseQuery(packet: Buffer): Question | null {
  if (packet.length < 12 || (packet[2] ?? 0) & 0x80 || packet.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = packet[offset];
    if (length === undefined || length > 63) return null; // compression is not used in questions
    offset += 1;
    if (length === 0) break;
    labels.push(packet.subarray(offset, offset + length).toString('latin1'));
    offset += length;
  }
  if (offset + 4 > packet.length) return null;
  return {
    id: packet.readUInt16BE(0),
    recursionDesired: ((packet[2] ?? 0) & 0x01) === 1,
    name: labels.join('.').toLowerCase(),
    type: packet.readUInt16BE(offset),
    raw: packet.subarray(12, offset + 4),
  };
}

function answerPacket(question: Question, rcode: number, addresses: readonly string[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(question.id, 0);
  header[2] = 0x80 | 0x04 | (question.recursionDesired ? 0x01 : 0); // QR, AA, RD as asked
  header[3] = 0x80 | rcode; // RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(TYPE_A, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(TTL_SECONDS, 6);
    record.writeUInt16BE(4, 10);
    Buffer.from(address.split('.').map(Number)).copy(record, 12);
    return record;
  });
  return Buffer.concat([header, question.raw, ...answers]);
}

/**
 * Serves `names` (name → IPv4 addresses). The switch: `hang` never answers, `deny` answers NXDOMAIN,
 * `slow` answers late.
 *
 * @example
 * const dns = await startDnsServer({ 'sts.demo.test': ['127.0.0.1'] }, faults.dns);
 * serversResolve([dns.server])('sts.demo.test', signal) // → ['127.0.0.1']
 */
export async function startDnsServer(
  names: Readonly<Record<string, readonly string[]>>,
  faults: FaultSwitch,
): Promise<DemoDnsServer> {
  const zone = new Map(Object.entries(names).map(([name, addresses]) => [name.toLowerCase(), addresses]));
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (packet: Buffer, peer: RemoteInfo) => {
    const question = parseQuery(packet);
    if (!question) return; // not a query we understand: stay silent, as servers do
    queries.push(question.name);
    if (faults.fault === 'hang') return;
    const known = zone.get(question.name);
    const rcode = known && faults.fault !== 'deny' ? NOERROR : NXDOMAIN;
    const addresses = rcode === NOERROR && question.type === TYPE_A ? (known ?? []) : [];
    const reply = answerPacket(question, rcode, addresses);
    faults.answer(() => {
      // A late (slow) answer may find the socket closed: nobody is waiting for it any more.
      try {
        socket.send(reply, peer.port, peer.address);
      } catch {}
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
