import { describe, expect, it } from 'vitest';
import { awsCliGitPassword } from '../../harness/oracle.ts';
import { codeCommitEndpoint } from '../../lib/cli/cli.ts';
import { resolveTarget } from '../../lib/config/config.ts';
import { hostRegion, signingRegion, stsSigningRegion } from '../../lib/config/git-host.ts';
import { parseCodeCommitUrl, REPOSITORY_NAME } from '../../lib/config/target-url.ts';
import { gitPassword } from '../../lib/steps/git/password.ts';

const VPCE_WEST = 'vpce-0b47ea360adebf88a-jkl88hez.git-codecommit.us-west-2.vpce.amazonaws.com';

describe('repository names (CodeCommit: 1-100 of [A-Za-z0-9._-], not . or .., not ending in .git)', () => {
  it.each(['r', 'test_repo', 'my.repo-1', '.hidden', 'a..b', 'x.gitx', 'git', 'a'.repeat(100)])(
    '%s is valid',
    (name) => {
      expect(REPOSITORY_NAME.test(name)).toBe(true);
    },
  );
  it.each(['', '.', '..', 'x.git', 'a'.repeat(101), 'a/b', 'ä', 'a b', 'r%2e'])('"%s" is refused', (name) => {
    expect(REPOSITORY_NAME.test(name)).toBe(false);
  });
});

describe('target URL forms', () => {
  it.each([
    ['codecommit://repo/', { repository: 'repo', profile: null, region: null, endpoint: null }],
    ['codecommit::eu-west-1://p@repo/', { repository: 'repo', profile: 'p', region: 'eu-west-1', endpoint: null }],
    [
      'https://git-codecommit.ap-northeast-1.amazonaws.com/v1/repos/test_repo',
      {
        repository: 'test_repo',
        profile: null,
        region: 'ap-northeast-1',
        endpoint: 'https://git-codecommit.ap-northeast-1.amazonaws.com',
      },
    ],
    [
      'https://git-codecommit-fips.us-gov-west-1.amazonaws.com/v1/repos/r/',
      {
        repository: 'r',
        profile: null,
        region: 'us-gov-west-1',
        endpoint: 'https://git-codecommit-fips.us-gov-west-1.amazonaws.com',
      },
    ],
    [
      'https://git-codecommit.cn-north-1.amazonaws.com.cn/v1/repos/r',
      {
        repository: 'r',
        profile: null,
        region: 'cn-north-1',
        endpoint: 'https://git-codecommit.cn-north-1.amazonaws.com.cn',
      },
    ],
    [
      `https://${VPCE_WEST}:8443/v1/repos/r`,
      { repository: 'r', profile: null, region: 'us-west-2', endpoint: `https://${VPCE_WEST}:8443` },
    ],
  ])('%s', (text, url) => {
    expect(parseCodeCommitUrl(text)).toEqual({ ok: true, url });
  });

  it.each([
    ['codecommit://..', /repository "\.\." is not a CodeCommit name/],
    ['codecommit://x.git', /repository "x.git" is not a CodeCommit name/],
    ['codecommit::foo-bar-9://r', /"foo-bar-9" is not an AWS region with CodeCommit; nearest/],
    ['codecommit::ap-east-2://r', /ap-east-2 has no CodeCommit/],
    ['https://git-codecommit.ap-southeast-4.amazonaws.com/v1/repos/r', /ap-southeast-4 has no CodeCommit/],
    ['https://git.example.com/v1/repos/r', /not a CodeCommit host/],
    ['https://git-codecommit.us-east-1.amazonaws.com/v1/repos/..', /not a CodeCommit name/],
    ['https://git-codecommit.us-east-1.amazonaws.com/v1/repos/a/b', /expected codecommit:/],
    ['codecommit://r//', /expected codecommit:/],
  ])('refuses %s', (text, message) => {
    const parsed = parseCodeCommitUrl(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(message);
  });

  it('an https remote gives the target its region and endpoint; an explicit endpoint still wins', () => {
    const settings = {
      region: 'us-east-1',
      endpoints: {},
      timeouts: { stsMs: 5000, gitMs: 10_000, stsGlobalMs: 3000 },
    };
    const target = { name: 't', url: `https://${VPCE_WEST}/v1/repos/r`, roleArn: null };
    expect(resolveTarget(target, settings)).toMatchObject({ region: 'us-west-2', gitEndpoint: `https://${VPCE_WEST}` });
    const pinned = resolveTarget({ ...target, endpoints: { git: 'https://git.canary.test' } }, settings);
    expect(pinned.gitEndpoint).toBe('https://git.canary.test');
  });

  it('CODE_COMMIT_ENDPOINT: a bare host[:port] as git-remote-codecommit reads it, or an https URL', () => {
    expect(codeCommitEndpoint('git-codecommit.us-west-2.amazonaws.com')).toBe(
      'https://git-codecommit.us-west-2.amazonaws.com',
    );
    expect(codeCommitEndpoint('git.canary.test:8443')).toBe('https://git.canary.test:8443');
    expect(codeCommitEndpoint('https://git.canary.test:8443')).toBe('https://git.canary.test:8443');
  });
});

describe('signing region from the host, as the AWS CLI credential helper extracts it', () => {
  const hosts = [
    'git-codecommit.us-west-2.amazonaws.com',
    'git-codecommit-fips.us-east-2.amazonaws.com',
    VPCE_WEST,
    'vpce-0123-abcd.git-codecommit-fips.ca-central-1.vpce.amazonaws.com',
    'vpce-0123-abcd.git-codecommit.cn-northwest-1.vpce.amazonaws.com.cn',
    'git-codecommit-fips.us-gov-west-1.amazonaws.com',
    '127.0.0.1',
  ];
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const FALLBACK = 'ap-northeast-1';

  it.each(hosts)(
    '%s',
    async (host) => {
      const helper = await awsCliGitPassword({ credentials, host, repo: 'test_repo', region: FALLBACK });
      const at = helper.password
        .slice(0, 15)
        .replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/, '$1-$2-$3T$4:$5:$6Z');
      const region = signingRegion(host, FALLBACK);
      expect(helper.password).toBe(gitPassword(credentials, region, host, '/v1/repos/test_repo', new Date(at)));
      expect(region).toBe(hostRegion(host) ?? FALLBACK);
    },
    120_000, // one AWS CLI at a time: it starts slowly on a loaded machine
  );
});

describe('the region an STS request is signed for', () => {
  it.each([
    ['sts.eu-west-1.amazonaws.com', 'eu-west-1'],
    ['sts-fips.us-east-2.amazonaws.com', 'us-east-2'],
    ['sts.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1'],
    ['vpce-0123-abcd.sts.us-west-2.vpce.amazonaws.com', 'us-west-2'],
    ['sts.amazonaws.com', 'us-east-1'],
    ['sts.internal.example', 'ap-northeast-1'],
    ['127.0.0.1', 'ap-northeast-1'],
  ])('%s signs for %s', (host, region) => {
    expect(stsSigningRegion(host, 'ap-northeast-1')).toBe(region);
  });
});
