import { describe, expect, it } from 'vitest';
import { CODECOMMIT_PARTITION_DATA, LEGACY_GLOBAL_STS_REGIONS } from '../../lib/config/codecommit-regions.ts';
import { parseConfig } from '../../lib/config/config.ts';
import { gitEndpoint, regionalStsEndpoint } from '../../lib/config/endpoints.ts';
import { AWS_REGIONS, CODECOMMIT_REGIONS, partitionOf, usesLegacyGlobalSts } from '../../lib/config/regions.ts';
import { readBotocoreRegionData } from '../../scripts/codecommit-regions.ts';

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const config = (region: string) => ({ region, targets: [{ name: 't', repository: 'r', roleArn: ROLE }] });

describe('the CodeCommit region table', () => {
  it('equals botocore’s endpoints.json and LEGACY_GLOBAL_STS_REGIONS (regenerate: scripts/codecommit-regions.ts)', () => {
    const botocore = readBotocoreRegionData();
    expect(JSON.parse(JSON.stringify(CODECOMMIT_PARTITION_DATA))).toEqual(botocore.partitions);
    expect([...LEGACY_GLOBAL_STS_REGIONS]).toEqual(botocore.legacyGlobalStsRegions);
  });

  it('names the regions the issue found missing CodeCommit, and none of them is a CodeCommit region', () => {
    for (const region of ['ap-east-2', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7']) {
      expect(AWS_REGIONS).toContain(region);
      expect(CODECOMMIT_REGIONS).not.toContain(region);
    }
  });
});

const partitions = Object.entries(CODECOMMIT_PARTITION_DATA).flatMap(([partition, data]) =>
  data.codecommit.map((region) => [region, partition, data.dnsSuffix] as const),
);

describe.each(partitions)('CodeCommit region %s (%s)', (region, partition, suffix) => {
  it('is valid, in its partition, with its partition’s domain', () => {
    const parsed = parseConfig(config(region));
    expect(parsed.region).toBe(region);
    expect(partitionOf(region)).toBe(partition);
    expect(gitEndpoint(region)).toBe(`https://git-codecommit.${region}.${suffix}`);
    expect(regionalStsEndpoint(region)).toBe(`https://sts.${region}.${suffix}`);
  });

  it(`legacy clients use the global STS endpoint only in botocore’s legacy-global regions`, () => {
    expect(usesLegacyGlobalSts(region)).toBe(
      partition === 'aws' && (LEGACY_GLOBAL_STS_REGIONS as readonly string[]).includes(region),
    );
  });
});

const withoutCodeCommit = AWS_REGIONS.filter((r) => !CODECOMMIT_REGIONS.includes(r));

describe('regions without CodeCommit', () => {
  it.each([...withoutCodeCommit, 'foo-bar-9', 'us-gov-north-1'])(
    '%s is refused, named, with the nearest ones',
    (region) => {
      let problems: string[] = [];
      try {
        parseConfig(config(region));
      } catch (error) {
        problems = (error as { problems: string[] }).problems;
      }
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(region);
      expect(problems[0]).toMatch(/^region: .*nearest CodeCommit regions: [a-z0-9-]+, [a-z0-9-]+, [a-z0-9-]+$/);
    },
  );

  it('suggests the same area first', () => {
    expect(() => parseConfig(config('ca-west-1'))).toThrow(/nearest CodeCommit regions: ca-central-1,/);
    expect(() => parseConfig(config('ap-east-2'))).toThrow(/nearest CodeCommit regions: ap-east-1,/);
  });
});
