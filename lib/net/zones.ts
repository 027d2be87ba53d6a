import { BlockList, isIP } from 'node:net';

/** `network.zones`: subnet CIDR (IPv4 or IPv6) → Availability Zone name, e.g. `{ "10.0.1.0/24": "ap-northeast-1a" }`. */
export type ZoneMap = Readonly<Record<string, string>>;

/** Labels an address with the Availability Zone of the subnet it is in; null when no subnet holds it. */
export type ZoneOf = (address: string) => string | null;

interface Subnet {
  bits: number;
  zone: string;
  list: BlockList;
}

/**
 * Builds the labeller once per config. The most specific subnet wins when CIDRs overlap (a /28 inside a /24).
 * A malformed CIDR is bad config: it throws, naming the key.
 *
 * @example
 * const zoneOf = zoneLabeller({ '10.0.1.0/24': 'ap-northeast-1a', '2600:1f18:0:1::/64': 'ap-northeast-1a' });
 * zoneOf('10.0.1.20') // 'ap-northeast-1a'
 * zoneOf('10.0.9.20') // null
 */
export function zoneLabeller(zones: ZoneMap | null | undefined): ZoneOf {
  const subnets: Subnet[] = Object.entries(zones ?? {}).map(([cidr, zone]) => {
    const [address = '', bits = '', ...extra] = cidr.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra.length > 0 || !/^\d+$/.test(bits) || prefix > max) {
      throw new Error(`network.zones: "${cidr}" is not a CIDR block (expected e.g. "10.0.1.0/24" or "2600:1f18::/64")`);
    }
    const list = new BlockList();
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    return { bits: prefix, zone, list };
  });
  subnets.sort((a, b) => b.bits - a.bits);
  return (address) => {
    const family = isIP(address);
    if (family === 0) return null;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    return subnets.find((subnet) => subnet.list.check(address, type))?.zone ?? null;
  };
}
