import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { addressClass } from '../../lib/net/addresses.ts';
import { timedExchange } from '../../lib/net/exchange.ts';
import { findingsFor } from '../../lib/run/diagnosis.ts';
import { probeDeps } from '../../lib/run/runtime.ts';
import type { TargetResult } from '../../lib/types.ts';

const vpc = new BlockList();
vpc.addSubnet('10.0.0.0', 16, 'ipv4');
vpc.addSubnet('2600:1f18:aaaa:bb00::', 56, 'ipv6');

describe('address classes', () => {
  it.each([
    ['10.0.1.23', null, 'private'],
    ['100.64.0.1', null, 'private'],
    ['fd12::1', null, 'private'],
    ['127.0.0.1', null, 'loopback'],
    ['52.119.160.1', null, 'public'],
    ['2600:1f18:aaaa:bb01::10', null, 'unknown'],
    ['2600:1f18:aaaa:bb01::10', vpc, 'private'],
    ['2600:1f18:ffff::10', vpc, 'public'],
    ['54.0.0.1', vpc, 'public'],
  ] as const)('%s (vpcCidrs: %s) is %s', (address, blocks, expected) => {
    expect(addressClass(address, blocks)).toBe(expected);
  });
});

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const result = (addresses: string[]): TargetResult =>
  ({
    name: 't',
    region: 'us-east-1',
    ok: true,
    steps: {
      sts: { ok: true, endpoint: 'https://sts.us-east-1.amazonaws.com', addresses: ['10.0.1.5'] },
      git: { ok: true, endpoint: 'https://git-codecommit.us-east-1.amazonaws.com', addresses },
    },
  }) as unknown as TargetResult;
const codes = (addresses: string[], vpcCidrs: string[]) =>
  findingsFor(
    [result(addresses)],
    { globalSts: null, names: [] },
    parseConfig({
      region: 'us-east-1',
      network: { vpcCidrs, closed: true },
      targets: [{ name: 't', repository: 'r', roleArn: ROLE }],
    }),
  ).map((f) => `${f.code} ${f.severity}`);

describe('endpoint findings for dual-stack interface endpoints', () => {
  it('a global IPv6 address inside the VPC’s IPv6 CIDR is private: no finding', () => {
    expect(codes(['10.0.1.9', '2600:1f18:aaaa:bb01::10'], ['10.0.0.0/16', '2600:1f18:aaaa:bb00::/56'])).toEqual([]);
  });
  it('without vpcCidrs a global IPv6 address is unknown, never public: no finding', () => {
    expect(codes(['10.0.1.9', '2600:1f18:aaaa:bb01::10'], [])).toEqual([]);
  });
  it('outside the given CIDRs it is public, and a public IPv4 address always is', () => {
    expect(codes(['2600:1f18:ffff::10'], ['10.0.0.0/16', '2600:1f18:aaaa:bb00::/56'])).toEqual([
      'endpoint-not-private critical',
    ]);
    expect(codes(['52.119.160.1'], [])).toEqual(['endpoint-not-private critical']);
  });
});

describe('a step record’s private flag', () => {
  // The exchange resolves and then answers without using the connection: nothing leaves this machine.
  const privateFlag = async (addresses: string[], vpcCidrs: string[]) => {
    const config = parseConfig({
      region: 'us-east-1',
      network: { vpcCidrs },
      targets: [{ name: 't', repository: 'r', roleArn: ROLE }],
    });
    const deps = { ...probeDeps(config, async () => ({ accessKeyId: 'k', secretAccessKey: 's' })) };
    const step = await timedExchange(
      'https://git-codecommit.us-east-1.amazonaws.com',
      { deadlineMs: 1000 },
      { ...deps, resolve: async () => addresses },
      async () => 'answered',
    );
    expect(step.ok).toBe(true);
    return step.private;
  };

  it('counts addresses inside network.vpcCidrs as private, as the findings do', async () => {
    const dualStack = ['10.0.1.9', '2600:1f18:aaaa:bb01::10'];
    expect(await privateFlag(dualStack, ['10.0.0.0/16', '2600:1f18:aaaa:bb00::/56'])).toBe(true);
    expect(await privateFlag(dualStack, [])).toBe(false);
    expect(await privateFlag(['2600:1f18:ffff::10'], ['2600:1f18:aaaa:bb00::/56'])).toBe(false);
    expect(await privateFlag(['10.0.1.9'], [])).toBe(true);
  });
});
