import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, resolveTargets } from '../lib/config/config.ts';
import { parseCodeCommitUrl } from '../lib/config/target-url.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/config/', import.meta.url));
const invalid = readdirSync(`${FIXTURES}invalid`)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';

describe('invalid configs (each fixture is paired with its exact messages)', () => {
  it.each(invalid)('%s', async (name) => {
    const expected = readFileSync(`${FIXTURES}invalid/${name}.errors`, 'utf8').trim().split('\n');
    const error = await loadConfig(`${FIXTURES}invalid/${name}.json`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(expected);
  });

  it('unparseable JSON and YAML name the file and the syntax problem', async () => {
    expect(() => parseConfig(undefined)).toThrow(ConfigError);
    const json = await loadConfig(`${FIXTURES}invalid/missing-region.errors`).catch((e: ConfigError) => e);
    expect((json as ConfigError).problems[0]).toMatch(/^not valid JSON: /);
  });
});

describe('valid configs', () => {
  it('loads JSON with every documented key', async () => {
    const config = await loadConfig(`${FIXTURES}valid.json`);
    expect(config.targets).toHaveLength(3);
    expect(config.metrics).toEqual({ namespace: 'CodeCommitCanary', detail: 'basic' });
    expect(config.alerts).toEqual({ failuresBeforeAlert: 2, renotifyMinutes: 60 });
  });

  it('resolves the path checks, the fetch (config-wide, overridden per target) and the assertions per target', async () => {
    const config = await loadConfig(`${FIXTURES}valid.json`);
    const [own, inherited] = resolveTargets(config);
    expect(config.network.zones).toEqual({
      '10.0.1.0/24': 'ap-northeast-1a',
      '10.0.2.0/24': 'ap-northeast-1c',
      '10.0.3.0/24': 'apne1-az2',
    });
    expect(own).toMatchObject({
      everyAddress: true,
      fetch: { maxBytes: 8 * 1024 * 1024, timeoutMs: 20_000 },
      expect: { refs: ['refs/heads/main'], head: 'refs/heads/main', headMaxAgeMinutes: 1440 },
    });
    expect(inherited).toMatchObject({ everyAddress: true, fetch: null });
    expect(inherited?.expect).toBeUndefined();
    const off = parseConfig({
      region: 'ap-northeast-1',
      probe: { everyAddress: false },
      fetch: { enabled: true },
      targets: [
        { name: 'a', repository: 'r', roleArn: ROLE },
        { name: 'b', repository: 'r', roleArn: ROLE, fetch: { enabled: false } },
      ],
    });
    expect(resolveTargets(off).map((t) => [t.everyAddress, t.fetch])).toEqual([
      [false, { maxBytes: 8 * 1024 * 1024, timeoutMs: 15_000 }],
      [false, null],
    ]);
  });

  it('loads YAML and applies defaults', async () => {
    const config = await loadConfig(`${FIXTURES}valid.yaml`);
    expect(config.timeouts).toEqual({ stsMs: 5000, gitMs: 10_000, stsGlobalMs: 3000 });
    expect(config.checks).toEqual({ globalSts: true, path: true, certificateDays: 14 });
    expect(config.schedule).toEqual({ samplesPerRun: 1, intervalSeconds: 10, highResolution: false });
    expect(config.concurrency).toBe(8);
    expect(config.maxAdvertisementBytes).toBe(16 * 1024 * 1024);
  });

  it('resolves regional endpoints per target region, .com.cn for China, overrides first', () => {
    const config = parseConfig({
      region: 'ap-northeast-1',
      timeouts: { stsMs: 4000, gitMs: 9000 },
      targets: [
        { name: 'a', repository: 'r1', roleArn: ROLE },
        { name: 'b', url: 'codecommit::cn-north-1://r2', roleArn: 'arn:aws-cn:iam::111111111111:role/R' },
        { name: 'c', url: 'codecommit://r3', roleArn: ROLE, region: 'us-west-2', timeouts: { gitMs: 3000 } },
        {
          name: 'd',
          repository: 'r4',
          roleArn: ROLE,
          endpoints: { git: 'https://vpce-1.git-codecommit.x.vpce.amazonaws.com' },
        },
      ],
    });
    const [a, b, c, d] = resolveTargets(config);
    expect(a).toMatchObject({
      repository: 'r1',
      region: 'ap-northeast-1',
      stsEndpoint: 'https://sts.ap-northeast-1.amazonaws.com',
      gitEndpoint: 'https://git-codecommit.ap-northeast-1.amazonaws.com',
      timeouts: { stsMs: 4000, gitMs: 9000 },
      sessionName: 'codecommit-canary-a',
    });
    expect(b).toMatchObject({
      repository: 'r2',
      region: 'cn-north-1',
      stsEndpoint: 'https://sts.cn-north-1.amazonaws.com.cn',
      stsRegion: 'cn-north-1',
      gitEndpoint: 'https://git-codecommit.cn-north-1.amazonaws.com.cn',
    });
    // A target in another region of the partition: STS of the monitor's region, signed for that region.
    expect(c).toMatchObject({
      repository: 'r3',
      region: 'us-west-2',
      stsEndpoint: 'https://sts.ap-northeast-1.amazonaws.com',
      stsRegion: 'ap-northeast-1',
      timeouts: { stsMs: 4000, gitMs: 3000 },
    });
    expect(d?.gitEndpoint).toBe('https://vpce-1.git-codecommit.x.vpce.amazonaws.com');
    expect(d?.stsEndpoint).toBe('https://sts.ap-northeast-1.amazonaws.com');
  });

  it('allows plain http only to loopback', () => {
    for (const sts of ['http://127.0.0.1:4566', 'http://localhost:1', 'http://[::1]:2']) {
      expect(() =>
        parseConfig({
          region: 'us-east-1',
          endpoints: { sts },
          targets: [{ name: 'a', repository: 'r', roleArn: ROLE }],
        }),
      ).not.toThrow();
    }
  });
});

describe('git-remote-codecommit URL grammar', () => {
  it.each([
    ['codecommit://repo', { repository: 'repo', profile: null, region: null, endpoint: null }],
    [
      'codecommit://switchrole@test_repo',
      { repository: 'test_repo', profile: 'switchrole', region: null, endpoint: null },
    ],
    [
      'codecommit::ap-northeast-1://switchrole@test_repo',
      { repository: 'test_repo', profile: 'switchrole', region: 'ap-northeast-1', endpoint: null },
    ],
    [
      'codecommit::us-east-1://my.repo-1',
      { repository: 'my.repo-1', profile: null, region: 'us-east-1', endpoint: null },
    ],
  ])('%s', (text, url) => {
    expect(parseCodeCommitUrl(text)).toEqual({ ok: true, url });
  });

  it.each([
    'https://x/v1/repos/r',
    'codecommit:/repo',
    'codecommit://a@b@c',
    'codecommit://a/b',
    'codecommit://',
    'codecommit::://r',
  ])('rejects %s', (text) => {
    expect(parseCodeCommitUrl(text).ok).toBe(false);
  });
});
