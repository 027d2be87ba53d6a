import { describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config/config.ts';
import { CODECOMMIT_REGIONS, partitionOf, usesLegacyGlobalSts } from '../../lib/config/regions.ts';
import { globalStsMatters, profileFindings, runChecks } from '../../lib/run/diagnosis.ts';

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';

/** No network: a resolver that fails at once, so a check that does run ends as a `dns` failure, fast. */
const deps = {
  clock: systemClock,
  resolve: () => Promise.reject(Object.assign(new Error('no network here'), { code: 'ENOTFOUND' })),
  sourceCredentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
};

describe.each(CODECOMMIT_REGIONS.map((region) => [region, usesLegacyGlobalSts(region)] as const))(
  'global STS in %s (legacy clients use the global endpoint: %s)',
  (region, legacy) => {
    it('the profile warning and the global check follow botocore’s legacy-global regions', async () => {
      expect(legacy).toBe(partitionOf(region) === 'aws' && legacy);
      const findings = profileFindings({ profile: 'p', region, stsRegionalEndpoints: 'legacy' });
      expect(findings.map((f) => f.code)).toEqual(legacy ? ['profile-uses-global-sts'] : []);
      const config = parseConfig({ region, targets: [{ name: 't', repository: 'r', roleArn: ROLE }] });
      expect(globalStsMatters(config.region)).toBe(legacy);
      const checks = await runChecks([], { ...config, checks: { ...config.checks, path: false } }, deps);
      if (legacy) expect(checks.globalSts?.failure?.kind).toBe('dns');
      else expect(checks.globalSts).toBeNull();
    });
  },
);

describe('global STS rule', () => {
  it('is off in China and GovCloud, on in us-east-1, off in ap-northeast-2', () => {
    expect(
      ['cn-north-1', 'cn-northwest-1', 'us-gov-west-1', 'ap-northeast-2', 'me-south-1'].map(usesLegacyGlobalSts),
    ).toEqual([false, false, false, false, false]);
    expect(usesLegacyGlobalSts('us-east-1')).toBe(true);
  });
  it('`regional` never warns', () => {
    expect(profileFindings({ profile: 'p', region: 'us-east-1', stsRegionalEndpoints: 'regional' })).toEqual([]);
  });
});
