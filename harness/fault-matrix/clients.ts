/**
 * The clients of a broken dependency in the fault matrix: what a handler builds for SNS, DynamoDB or CloudWatch,
 * pointed at the fault's endpoint, and, for the DNS faults, an agent lookup that asks the matrix's DNS servers.
 */
import { Resolver } from 'node:dns';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createSnsClient } from '../../lib/alerting/sinks.ts';
import { createAlertTableClient } from '../../lib/alerting/versioned-table.ts';
import { createMetricsClient } from '../../lib/metrics/sinks.ts';
import { type BoundedClientOptions, boundedClientConfig } from '../../lib/net/aws-clients.ts';
import { FAKE_SOURCE_CREDENTIALS } from '../moto.ts';
import { TEST_REGION } from '../sqs.ts';
import { type MatrixEnv, SILENT_HOST } from './environment.ts';
import { type Fault, TIMING } from './matrix.ts';

/**
 * The agent's lookup for SDK clients whose endpoint is a name: asked of the matrix's DNS servers, as getaddrinfo
 * would ask the VPC resolver (glibc's defaults: 5 s per try, 2 tries — far past any deadline here). The
 * bounded clients resolve through the system resolver, which here would send `*.canary.test` to the host's real
 * DNS; with this lookup no query leaves 127.0.0.1. `cancel` ends the lookups still waiting when a run ends.
 */
export function matrixLookup(env: MatrixEnv): { lookup: LookupFunction; cancel(): void } {
  const pending = new Set<Resolver>();
  const lookup: LookupFunction = (hostname, options, callback) => {
    const resolver = new Resolver({ timeout: 5000, tries: 2 });
    resolver.setServers([hostname === SILENT_HOST ? env.silentDns.server : env.sandbox.dns.server]);
    pending.add(resolver);
    resolver.resolve4(hostname, (error, addresses) => {
      pending.delete(resolver);
      const all = (options as { all?: boolean }).all;
      if (error || addresses.length === 0) {
        (callback as (e: Error) => void)(error ?? Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }));
      } else if (all) {
        (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(
          null,
          addresses.map((address) => ({ address, family: 4 })),
        );
      } else callback(null, addresses[0] as string, 4);
    });
  };
  return {
    lookup,
    cancel() {
      for (const resolver of pending) resolver.cancel();
      pending.clear();
    },
  };
}

export type BrokenDependency = 'sns' | 'dynamodb' | 'cloudwatch';
type ClientOf<D extends BrokenDependency> = D extends 'sns'
  ? SNSClient
  : D extends 'dynamodb'
    ? DynamoDBClient
    : CloudWatchClient;

/**
 * The client a handler builds for `dependency` (createSnsClient, createAlertTableClient, createMetricsClient:
 * boundedClientConfig, CloudWatch with one attempt), pointed at the fault's endpoint, with the broken deadlines.
 */
export function brokenClient<D extends BrokenDependency>(
  env: MatrixEnv,
  dependency: D,
  faultId: Fault['id'],
  lookup: LookupFunction,
): ClientOf<D> {
  const options: BoundedClientOptions = {
    region: TEST_REGION,
    endpoint: env.endpoints[faultId] as string,
    ca: readFileSync(env.sandbox.pki.caFile),
    credentials: FAKE_SOURCE_CREDENTIALS,
    timeoutMs: TIMING.brokenAttemptMs,
  };
  if (faultId !== 'dns-silent' && faultId !== 'nxdomain') {
    if (dependency === 'sns') return createSnsClient(options) as ClientOf<D>;
    if (dependency === 'dynamodb') return createAlertTableClient(options) as ClientOf<D>;
    return createMetricsClient(options) as ClientOf<D>;
  }
  // The same settings as those factories, with the matrix's lookup in the agent.
  const config = {
    ...boundedClientConfig({ ...options, ...(dependency === 'cloudwatch' ? { maxAttempts: 1 } : {}) }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: TIMING.brokenAttemptMs,
      requestTimeout: TIMING.brokenAttemptMs,
      throwOnRequestTimeout: true,
      httpsAgent: new Agent({ keepAlive: true, ca: options.ca, lookup }),
    }),
  };
  if (dependency === 'sns') return new SNSClient(config) as ClientOf<D>;
  if (dependency === 'dynamodb') return new DynamoDBClient(config) as ClientOf<D>;
  return new CloudWatchClient(config) as ClientOf<D>;
}
