import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../harness/git-server.ts';
import { FAKE_SOURCE_CREDENTIALS, type Moto, startMoto } from '../harness/moto.ts';
import { awsCliGitPassword, gitLsRemote } from '../harness/oracle.ts';
import { type BareRepo, createEmptyRepo, createManyRefsRepo, createRichRepo } from '../harness/repos.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { type AwsCredentials, basicAuthorization, gitCredentials } from '../lib/steps/git/password.ts';

const REGION = 'us-east-1';
let pki: TestPki;
let moto: Moto;
let server: GitServer;
let credentials: AwsCredentials;
let rich: BareRepo & { develop: string };
let root: string;
let skewMs = 0; // the server clock's offset, for the 15-minute window

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS GET trusting the test CA (verification on). */
function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(pki.caFile), headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const infoRefs = (repo: string) => `${server.url}/v1/repos/${repo}/info/refs?service=git-upload-pack`;

/** Basic auth as the probe would send it, signed for `hostname` (no port) at `at`. */
const auth = (repo: string, at = new Date(), region = REGION, creds = credentials) => ({
  authorization: basicAuthorization(gitCredentials(creds, region, '127.0.0.1', `/v1/repos/${repo}`, at)),
});

beforeAll(async () => {
  pki = createTestPki();
  moto = await startMoto(pki);
  // Real issued credentials: AssumeRole through moto with the real SDK, TLS verified against the test CA.
  const sts = new STSClient({
    region: REGION,
    endpoint: moto.url,
    credentials: FAKE_SOURCE_CREDENTIALS,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(pki.caFile) }) }),
  });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: 'arn:aws:iam::111122223333:role/canary-reader',
      RoleSessionName: 'git-server-test',
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('moto issued no credentials');
  credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };

  root = mkdtempSync(join(tmpdir(), 'canary-repos-'));
  rich = createRichRepo(root, 'rich');
  createEmptyRepo(root, 'empty');
  createManyRefsRepo(root, 'many');
  server = await startGitServer({
    pki,
    projectRoot: root,
    region: REGION,
    secretFor: (id) => moto.secretFor(id),
    now: () => new Date(Date.now() + skewMs),
  });
});

afterAll(async () => {
  await server?.stop();
  await moto?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('CodeCommit auth', () => {
  it('accepts the password the AWS CLI credential helper prints', async () => {
    const cli = await awsCliGitPassword({
      credentials,
      host: `127.0.0.1:${server.port}`,
      repo: 'rich',
      region: REGION,
    });
    expect(cli.username).toBe(`${credentials.accessKeyId}%${credentials.sessionToken}`);
    const reply = await get(infoRefs('rich'), { authorization: basicAuthorization(cli) });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-git-upload-pack-advertisement');
    expect(reply.body.startsWith('001e# service=git-upload-pack\n0000')).toBe(true);
    expect(reply.body).toContain(`${rich.develop} refs/heads/develop`);
  });

  it('answers 401 with a Basic challenge when no credentials are sent', async () => {
    const reply = await get(infoRefs('rich'));
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('answers 403 for a wrong signature', async () => {
    const good = gitCredentials(credentials, REGION, '127.0.0.1', '/v1/repos/rich', new Date());
    const flipped = good.password.slice(0, -1) + (good.password.endsWith('0') ? '1' : '0');
    const reply = await get(infoRefs('rich'), { authorization: basicAuthorization({ ...good, password: flipped }) });
    expect(reply.status).toBe(403);
  });

  it('answers 403 for a password signed for another region or repository', async () => {
    expect((await get(infoRefs('rich'), auth('rich', new Date(), 'us-west-2'))).status).toBe(403);
    expect((await get(infoRefs('rich'), auth('empty'))).status).toBe(403);
  });

  it('answers 403 for an access key moto never issued', async () => {
    const unknown = { ...credentials, accessKeyId: 'ASIAUNKNOWNKEY000000' };
    expect((await get(infoRefs('rich'), auth('rich', new Date(), REGION, unknown))).status).toBe(403);
  });

  it('enforces the 15-minute window against its own clock', async () => {
    try {
      skewMs = 20 * 60_000;
      expect((await get(infoRefs('rich'), auth('rich'))).status).toBe(403);
      skewMs = 14 * 60_000;
      expect((await get(infoRefs('rich'), auth('rich'))).status).toBe(200);
    } finally {
      skewMs = 0;
    }
  });

  it('answers 404 for an unknown repository or a malformed path', async () => {
    expect((await get(infoRefs('nope'), auth('nope'))).status).toBe(404);
    expect((await get(`${server.url}/v1/repos/bad%20name/info/refs?service=git-upload-pack`)).status).toBe(404);
    expect((await get(`${server.url}/v1/repos/rich/info/refs?service=git-receive-pack`, auth('rich'))).status).toBe(
      404,
    );
  });
});

describe('real git ls-remote through the AWS CLI credential helper', () => {
  const lsRemote = (repo: string, protocolVersion?: 0 | 2) =>
    gitLsRemote({
      url: `${server.url}/v1/repos/${repo}`,
      credentials,
      caFile: pki.caFile,
      region: REGION,
      protocolVersion,
    });

  it.for([0, 2] as const)('lists the rich repository (protocol v%s)', async (version) => {
    const before = server.log.length;
    const out = await lsRemote('rich', version);
    expect(out.refs).toEqual(rich.refs);
    expect(out.refs).toContainEqual({ oid: rich.develop, name: 'HEAD' });
    expect(out.refs.some((r) => r.name.endsWith('^{}'))).toBe(true);
    // v2 is an advertisement GET then a POST with command=ls-refs; v0 is one GET. Both after the 401 challenge.
    const methods = server.log.slice(before).map((e) => `${e.method} ${e.status}`);
    expect(methods).toEqual(version === 2 ? ['GET 401', 'GET 200', 'POST 200'] : ['GET 401', 'GET 200']);
  });

  it('prints nothing for the empty repository', async () => {
    expect((await lsRemote('empty')).stdout).toBe('');
  });

  it('prints HEAD, main and 10,000 tags for the many-refs repository', async () => {
    const out = await lsRemote('many');
    expect(out.refs.length).toBe(10_002);
  });

  it('fails for an unknown repository', async () => {
    await expect(lsRemote('nope')).rejects.toThrow(/not found/);
  });
});
