/**
 * A small authoritative DNS server on 127.0.0.1 (UDP), so a probe's `dns` phase is a real lookup of the
 * sandbox's names: A and AAAA for known names (a known name without records of the asked type answers NOERROR,
 * empty), NXDOMAIN for anything else. The wire format is dns-packet's.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { FaultSwitch } from './fault-switch.ts';
import { LOOPBACK } from './listen.ts';

/** The addresses a name resolves to. */
export interface DnsRecord {
  a?: readonly string[];
  aaaa?: readonly string[];
}

export interface DnsServer {
  /** `127.0.0.1:<port>`, for a config's `dns.servers` or `Resolver.setServers`. */
  server: string;
  port: number;
  /** Every name asked, in order (lower case, no trailing dot). */
  queries: string[];
  /** `hang`: read queries and never answer; `deny`: NXDOMAIN for every name; `slow`: answer late. */
  faults: FaultSwitch;
  /** Changes (or adds) a name's answers from the next query on. */
  set(name: string, record: DnsRecord): void;
  stop(): Promise<void>;
}

const NXDOMAIN = 3;
const TTL_SECONDS = 5;
const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * Serves `records` (name → addresses).
 *
 * @example
 * const dns = await startDnsServer({ 'sts.demo.test': { a: ['127.0.0.1'] } });
 * serversResolve([dns.server])('sts.demo.test', signal) // → ['127.0.0.1']
 */
export async function startDnsServer(
  records: Readonly<Record<string, DnsRecord>>,
  faults = new FaultSwitch('dns'),
): Promise<DnsServer> {
  const zone = new Map(Object.entries(records).map(([name, record]) => [normalise(name), record]));
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: stay silent, as servers do
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return;
    const name = normalise(question.name);
    queries.push(name);
    if (faults.fault === 'hang') return;
    const record = faults.fault === 'deny' ? undefined : zone.get(name);
    const type = question.type === 'A' || question.type === 'AAAA' ? question.type : undefined;
    const addresses = type === 'A' ? record?.a : type === 'AAAA' ? record?.aaaa : undefined;
    const answers = (type ? (addresses ?? []) : []).map((data) => ({
      type: type ?? 'A',
      class: 'IN' as const,
      name: question.name,
      ttl: TTL_SECONDS,
      data,
    }));
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | (record ? 0 : NXDOMAIN);
    const reply = dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [question], answers });
    faults.answer(() => {
      // A late (slow) answer may find the socket closed: nobody is waiting for it any more.
      try {
        socket.send(reply, peer.port, peer.address);
      } catch {}
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOOPBACK, () => resolve());
  });
  const port = socket.address().port;
  return {
    server: `${LOOPBACK}:${port}`,
    port,
    queries,
    faults,
    set(name, record) {
      zone.set(normalise(name), record);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        faults.releaseAll();
        socket.close(() => resolve());
      }),
  };
}
