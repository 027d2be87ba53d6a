import { describe, expect, it } from 'vitest';
import { parseConfig, resolveTargets } from '../../lib/config/config.ts';
import { findingsFor } from '../../lib/run/diagnosis.ts';
import type { TargetResult } from '../../lib/types.ts';

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const config = (closed: boolean) =>
  parseConfig({
    region: 'ap-northeast-1',
    network: { closed },
    targets: [
      { name: 'home', repository: 'r', roleArn: ROLE },
      { name: 'away', repository: 'r', roleArn: ROLE, region: 'us-west-2' },
    ],
  });

/** What findingsFor reads of a target's result: its region and each step's endpoint and addresses. */
const result = (name: string, region: string, git: string): TargetResult =>
  ({
    name,
    region,
    ok: true,
    steps: {
      sts: { ok: true, endpoint: 'https://sts.ap-northeast-1.amazonaws.com', addresses: [] },
      git: { ok: true, endpoint: git, addresses: [] },
    },
  }) as unknown as TargetResult;

describe('a target in another region than the monitor', () => {
  it('assumes its role through the monitor’s regional STS endpoint (the VPC’s), its git in its own region', () => {
    const [home, away] = resolveTargets(config(false));
    expect(home?.stsEndpoint).toBe('https://sts.ap-northeast-1.amazonaws.com');
    expect(away).toMatchObject({
      region: 'us-west-2',
      stsEndpoint: 'https://sts.ap-northeast-1.amazonaws.com',
      gitEndpoint: 'https://git-codecommit.us-west-2.amazonaws.com',
    });
  });

  it.each([
    [false, 'info'],
    [true, 'warning'],
  ])('is a finding naming why a closed VPC cannot reach it (closed: %s → %s)', (closed, severity) => {
    const targets = [
      result('home', 'ap-northeast-1', 'https://git-codecommit.ap-northeast-1.amazonaws.com'),
      result('away', 'us-west-2', 'https://git-codecommit.us-west-2.amazonaws.com'),
    ];
    const findings = findingsFor(targets, { globalSts: null, names: [] }, config(closed));
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'target-in-other-region',
        severity,
        target: 'away',
        subject: 'git-codecommit.us-west-2.amazonaws.com',
        message: expect.stringContaining('private DNS serve their own region only'),
        remediation: expect.stringContaining('com.amazonaws.us-west-2.git-codecommit'),
      }),
    ]);
  });
});
