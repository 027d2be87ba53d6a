import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { vpcAddressSpace } from '../net/addresses.ts';
import { serversResolve, systemResolve } from '../net/resolve.ts';
import { trustedContext } from '../net/trust.ts';
import { zoneLabeller } from '../net/zones.ts';
import type { AwsCredentials } from '../steps/git/password.ts';
import type { ProbeDeps } from './probe.ts';

/** The caller's credentials from the SDK's default chain (Lambda's role, env, profile, instance role). */
export const defaultSourceCredentials = (): (() => Promise<AwsCredentials>) => fromNodeProviderChain();

/** The real side effects for a config: resolver, trust store, clock, the caller's credentials. */
export function probeDeps(
  config: Pick<Config, 'dns' | 'tls' | 'maxAdvertisementBytes' | 'network'>,
  sourceCredentials: () => Promise<AwsCredentials> = defaultSourceCredentials(),
): ProbeDeps {
  const secureContext = trustedContext(config.tls?.caFile);
  return {
    clock: systemClock,
    resolve: config.dns ? serversResolve(config.dns.servers) : systemResolve,
    ...(secureContext ? { tls: { secureContext } } : {}),
    vpc: vpcAddressSpace(config.network.vpcCidrs),
    zoneOf: zoneLabeller(config.network.zones),
    sourceCredentials,
    maxAdvertisementBytes: config.maxAdvertisementBytes,
  };
}
