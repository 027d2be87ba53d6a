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

/** True when the name resolved and every address is private: the call stayed inside the VPC. */
export const allPrivate = (addresses: readonly string[]): boolean =>
  addresses.length > 0 && addresses.every(isPrivateAddress);

export const isLoopback = (address: string): boolean => address === '::1' || address.startsWith('127.');

/** For people: `private` (through an interface endpoint), `loopback` (a local stand-in), else `public`. */
export const addressKind = (addresses: readonly string[]): 'private' | 'loopback' | 'public' =>
  allPrivate(addresses) ? 'private' : addresses.length > 0 && addresses.every(isLoopback) ? 'loopback' : 'public';
