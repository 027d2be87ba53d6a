import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { awsCliGitPassword } from '../../../harness/oracle.ts';
import { basicAuthorization, gitCredentials, gitPassword, gitTimestamp } from '../../../lib/steps/git/password.ts';

// The test vector from CODECOMMIT.md (git-remote-codecommit's tests).
const VECTOR = {
  credentials: { accessKeyId: 'access', secretAccessKey: 'secret' },
  region: 'us-west-2',
  host: 'git-codecommit.us-west-2.amazonaws.com',
  path: '/v1/repos/test_repo',
  at: new Date('2017-12-24T11:53:20Z'),
  password: '20171224T115320Zb6df2d758a8023b2f000a546417007b65494f3ce8ad0300fd45fcfa173f1959a',
  canonicalRequestSha256: '298a3d18fae21d0bc76a2c741f479faa2c874420a05f054ebe7a2c4f84d9c765',
};

// Fake credentials: the CLI only signs locally, nothing is sent anywhere.
const FAKE = {
  accessKeyId: 'AKIAFAKEPASSWORDTEST',
  secretAccessKey: 'fake-secret/for+tests',
  sessionToken: 'FAKE/token+=',
};

/** The instant encoded in a password (`YYYYMMDDTHHMMSS` before the `Z`). */
function passwordTime(password: string): Date {
  const ts = password.slice(0, 15);
  return new Date(
    `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(9, 11)}:${ts.slice(11, 13)}:${ts.slice(13, 15)}Z`,
  );
}

describe('gitPassword', () => {
  it('reproduces the CodeCommit test vector', () => {
    const { credentials, region, host, path, at } = VECTOR;
    expect(gitPassword(credentials, region, host, path, at)).toBe(VECTOR.password);
  });

  it('signs the canonical request the vector documents', () => {
    const canonical = `GIT\n${VECTOR.path}\n\nhost:${VECTOR.host}\n\nhost\n`;
    expect(createHash('sha256').update(canonical).digest('hex')).toBe(VECTOR.canonicalRequestSha256);
  });

  it('formats the timestamp without separators or Z', () => {
    expect(gitTimestamp(VECTOR.at)).toBe('20171224T115320');
  });
});

describe('gitCredentials', () => {
  const args = [VECTOR.region, VECTOR.host, VECTOR.path, VECTOR.at] as const;

  it('uses AccessKeyId%SessionToken as username when there is a token', () => {
    const creds = gitCredentials({ ...VECTOR.credentials, sessionToken: 'tok/en+=' }, ...args);
    expect(creds).toEqual({ username: 'access%tok/en+=', password: VECTOR.password });
  });

  it('uses the bare AccessKeyId without a token', () => {
    expect(gitCredentials(VECTOR.credentials, ...args).username).toBe('access');
  });

  it('builds a Basic header from username:password', () => {
    const header = basicAuthorization({ username: 'a%t', password: 'p' });
    expect(header).toBe(`Basic ${Buffer.from('a%t:p').toString('base64')}`);
  });
});

// Each CLI run takes about a second (Python start-up): run them side by side.
describe.concurrent('equality with the AWS CLI credential helper', () => {
  it('has the same canonical request hash for the vector host and path', async ({ expect }) => {
    const cli = await awsCliGitPassword({ credentials: VECTOR.credentials, host: VECTOR.host, repo: 'test_repo' });
    expect(cli.stringToSign?.split('\n')[3]).toBe(VECTOR.canonicalRequestSha256);
  });

  // Region from the host name for CodeCommit names (AWS_DEFAULT_REGION ignored), from AWS_DEFAULT_REGION otherwise;
  // the port is never signed.
  it.for([
    { host: 'git-codecommit.eu-west-1.amazonaws.com', env: 'us-east-1', signs: 'eu-west-1' },
    {
      host: 'vpce-0b47ea360adebf88a-jkl88hez.git-codecommit.ap-northeast-1.vpce.amazonaws.com',
      env: 'us-east-1',
      signs: 'ap-northeast-1',
    },
    { host: '127.0.0.1:8443', env: 'us-west-2', signs: 'us-west-2' },
  ])('matches the CLI for $host', async ({ host, env, signs }, { expect }) => {
    const cli = await awsCliGitPassword({ credentials: FAKE, host, repo: 'my.repo-1', region: env });
    const at = passwordTime(cli.password);
    const hostname = host.split(':')[0] ?? host;
    expect(cli).toMatchObject(gitCredentials(FAKE, signs, hostname, '/v1/repos/my.repo-1', at));
  });

  it('matches the CLI without a session token', async ({ expect }) => {
    const { sessionToken: _, ...noToken } = FAKE;
    const cli = await awsCliGitPassword({ credentials: noToken, host: VECTOR.host, repo: 'test_repo' });
    expect(cli).toMatchObject(
      gitCredentials(noToken, VECTOR.region, VECTOR.host, VECTOR.path, passwordTime(cli.password)),
    );
  });
});
