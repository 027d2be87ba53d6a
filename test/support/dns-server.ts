import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

/** The addresses a name resolves to; a known name without records of the asked type answers NOERROR, empty. */
export interface DnsRecord {
  a?: string[];
  aaaa?: string[];
}

export interface DnsServer {
  /** `127.0.0.1:<port>`, for `new Resolver().setServers([server])`. */
  server: string;
  port: number;
  /** Every name asked, in order (lower case, no trailing dot). */
  queries: string[];
  /** Changes (or adds) a name's answers at runtime. */
  set(name: string, record: DnsRecord): void;
  /** Silent: read queries and never answer (the "DNS does not respond" fault). */
  setSilent(silent: boolean): void;
  stop(): Promise<void>;
}

const NXDOMAIN = 3;
const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** An authoritative-looking UDP DNS server on 127.0.0.1 for A/AAAA; unknown names get NXDOMAIN. */
export async function startDnsServer(records: Record<string, DnsRecord>): Promise<DnsServer> {
  const zone = new Map(Object.entries(records).map(([name, record]) => [normalise(name), record]));
  const queries: string[] = [];
  let silent = false;
  const socket = createSocket('udp4');

  socket.on('message', (message, peer) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: ignore, like a real server would
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = normalise(question.name);
    queries.push(name);
    if (silent) return;
    const record = zone.get(name);
    const addresses = question.type === 'A' ? record?.a : question.type === 'AAAA' ? record?.aaaa : undefined;
    const answers: dnsPacket.Answer[] = (addresses ?? []).map((data) => ({
      type: question.type as 'A' | 'AAAA',
      class: 'IN',
      name: question.name,
      ttl: 5,
      data,
    }));
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | (record ? 0 : NXDOMAIN);
    const response = dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [question], answers });
    socket.send(response, peer.port, peer.address);
  });

  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    set(name, record) {
      zone.set(normalise(name), record);
    },
    setSilent(value) {
      silent = value;
    },
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
