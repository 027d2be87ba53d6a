import { BlockList, isIP } from 'node:net';

/** RFC 1918, RFC 6598 (shared address space) and IPv6 ULA: where an interface endpoint's ENIs live. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The VPC's own address space (`network.vpcCidrs`, IPv4 and IPv6), or null when the config names none. */
export function vpcAddressSpace(cidrs: readonly string[]): BlockList | null {
  if (cidrs.length === 0) return null;
  const list = new BlockList();
  for (const block of cidrs) {
    const [address = '', bits = '0'] = block.split('/');
    list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/**
 * True when the name resolved and every address is private (see addressClass, with the VPC's CIDRs): the call
 * stayed inside the VPC.
 */
export const allPrivate = (addresses: readonly string[], vpc: BlockList | null = null): boolean =>
  addresses.length > 0 && addresses.every((address) => addressClass(address, vpc) === 'private');

export const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');

/**
 * One address as the findings judge it: `private` for RFC 1918, RFC 6598, IPv6 ULA and anything inside the VPC's
 * CIDRs (`vpc`, IPv4 and IPv6: a dual-stack interface endpoint gets global-unicast IPv6 addresses from the VPC's
 * IPv6 CIDR); `unknown` for a global IPv6 address when no VPC CIDRs are known (it may well be the endpoint's), never
 * `public`; `public` otherwise.
 *
 * @example
 * addressClass('2600:1f18::10', null) // 'unknown'
 */
export function addressClass(address: string, vpc: BlockList | null): 'private' | 'loopback' | 'public' | 'unknown' {
  const family = isIP(address);
  if (family === 0) return 'unknown';
  if (isLoopback(address)) return 'loopback';
  if (isPrivateAddress(address) || vpc?.check(address, family === 6 ? 'ipv6' : 'ipv4')) return 'private';
  return family === 6 && !vpc ? 'unknown' : 'public';
}

/**
 * For people, all addresses of a name together: `private` (through an interface endpoint), `loopback` (a local
 * stand-in), `public` when any address is public, else `unknown` (private and global IPv6 addresses: a dual-stack
 * interface endpoint's, unless the VPC's CIDRs say otherwise).
 *
 * @example
 * addressKind(['10.0.1.20', '2600:1f18::10']) // 'unknown'
 */
export function addressKind(addresses: readonly string[]): 'private' | 'loopback' | 'public' | 'unknown' {
  const classes = addresses.map((address) => addressClass(address, null));
  if (classes.length === 0 || classes.includes('public')) return 'public';
  if (classes.every((c) => c === 'private')) return 'private';
  if (classes.every((c) => c === 'loopback')) return 'loopback';
  return classes.includes('unknown') ? 'unknown' : 'public';
}
