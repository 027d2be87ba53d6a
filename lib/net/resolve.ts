import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { untilAborted } from './deadline.ts';

/** Resolves a host name to its addresses; rejects with the resolver's error code (ENOTFOUND, …) or on abort. */
export type Resolve = (host: string, signal: AbortSignal) => Promise<string[]>;

/** The system resolver (getaddrinfo), as every other client on the host sees names. */
export const systemResolve: Resolve = async (host, signal) => {
  if (isIP(host)) return [host];
  // getaddrinfo cannot be cancelled; the abort only stops waiting for it.
  const answers = await untilAborted(dns.lookup(host, { all: true, verbatim: true }), signal);
  return answers.map((a) => a.address);
};

/**
 * Asks the given DNS servers directly (`dns.servers` in the config), e.g. the VPC resolver at base+2.
 * A fresh Resolver per call, so cancelling on abort cancels only this lookup.
 */
export function serversResolve(servers: readonly string[]): Resolve {
  return async (host, signal) => {
    if (isIP(host)) return [host];
    // tries: 1 and a long timeout leave the deadline to the caller: a silent server ends as `timeout` in `dns`.
    const resolver = new dns.Resolver({ timeout: 120_000, tries: 1 });
    resolver.setServers([...servers]);
    const settled = await untilAborted(
      Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]),
      signal,
      () => resolver.cancel(),
    );
    const addresses = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
    if (addresses.length > 0) return addresses;
    // Both failed: report the IPv4 error (NXDOMAIN shows as ENOTFOUND there).
    throw (settled[0] as PromiseRejectedResult).reason;
  };
}
