import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runProcess } from '../../harness/run-process.ts';
import { systemClock } from '../../lib/clock.ts';
import type { NetDeps } from '../../lib/net/exchange.ts';
import { type AwsStandIns, startAwsStandIns } from '../../lib/sandbox/aws-stand-ins.ts';
import { CredentialStore } from '../../lib/sandbox/credentials.ts';
import { FaultSwitch, SLOW_ANSWER_MS } from '../../lib/sandbox/fault-switch.ts';
import { newGauge } from '../../lib/sandbox/https-stand-in.ts';
import { createPki, type Pki } from '../../lib/sandbox/pki.ts';
import { DEMO_REPOSITORY, hosted } from '../../lib/sandbox/repository.ts';
import { fetchStep } from '../../lib/steps/git/fetch.ts';
import { gitStep, lsRemote } from '../../lib/steps/git/ls-remote.ts';
import { basicAuthorization, gitCredentials } from '../../lib/steps/git/password.ts';
import { stsStep } from '../../lib/steps/sts.ts';

/**
 * lib/sandbox's STS and CodeCommit stand-ins, through the probe's own steps (the clients they stand in for) and
 * raw requests: SigV4 and CodeCommit's password checked, the statuses CodeCommit answers, the fault switches,
 * latency and the in-flight gauge. The oracles they are modelled on are tested in test/git-server.test.ts
 * (`git http-backend` behind the same password check, against the AWS CLI helper).
 */

const REGION = 'us-east-1';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';
const SOURCE = { accessKeyId: 'AKIASANDBOXSOURCE001', secretAccessKey: 'sandbox-source-secret-for-tests-only' };
/** HEAD, four refs and a peeled tag. */
const DEMO_REFS = DEMO_REPOSITORY.refs.length + DEMO_REPOSITORY.refs.filter((r) => r.peeled).length + 1;

let pki: Pki;
let aws: AwsStandIns;
let deps: NetDeps & { maxAdvertisementBytes: number };
const sts = new FaultSwitch('sts');
const git = new FaultSwitch('git');

beforeAll(async () => {
  pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
  aws = await startAwsStandIns({
    tls: pki,
    region: REGION,
    sources: [SOURCE],
    repositories: [hosted(DEMO_REPOSITORY)],
    roles: [ROLE_ARN],
    faults: { sts, git },
  });
  deps = {
    clock: systemClock,
    resolve: async () => ['127.0.0.1'],
    tls: { ca: [pki.caPem] },
    maxAdvertisementBytes: 1 << 20,
  };
});
afterAll(() => aws?.stop());

const target = (deadlineMs = 5000) => ({
  region: REGION,
  roleArn: ROLE_ARN,
  sessionName: 'sandbox-test',
  repository: DEMO_REPOSITORY.name,
  stsEndpoint: aws.sts.url,
  gitEndpoint: aws.git.url,
  timeouts: { stsMs: deadlineMs, gitMs: deadlineMs },
});

/** A raw GET of the git stand-in: status and the challenge header. */
const get = (path: string, authorization?: string) =>
  new Promise<{ status: number; challenge?: string }>((resolve, reject) => {
    const headers = authorization ? { authorization } : {};
    const req = request(`${aws.git.url}${path}`, { ca: pki.caPem, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
    });
    req.on('error', reject);
    req.end();
  });

describe('the STS and CodeCommit stand-ins', () => {
  it('AssumeRole signed with a source key gives credentials the CodeCommit password check accepts', async () => {
    // Act
    const { result, credentials } = await stsStep(target(), SOURCE, deps);
    const listed = await gitStep(target(), credentials ?? SOURCE, deps);
    // Assess
    expect(result.ok).toBe(true);
    expect(credentials?.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(listed).toMatchObject({ ok: true, refs: DEMO_REFS, head: DEMO_REPOSITORY.head });
    expect(aws.sts.log.at(-1)).toMatchObject({ method: 'POST', status: 200, accessKeyId: SOURCE.accessKeyId });
    expect(aws.git.log.at(-1)).toMatchObject({ status: 200, accessKeyId: credentials?.accessKeyId });
    expect(aws.credentials.takeIssued().map((c) => c.accessKeyId)).toEqual([credentials?.accessKeyId]);
  });

  it('refuses an unknown key, a wrong secret and a role it does not know, as STS does', async () => {
    const unknown = await stsStep(target(), { ...SOURCE, accessKeyId: 'AKIANOBODYKNOWS00001' }, deps);
    const wrong = await stsStep(target(), { ...SOURCE, secretAccessKey: 'not-the-secret' }, deps);
    const role = await stsStep({ ...target(), roleArn: 'arn:aws:iam::111111111111:role/Other' }, SOURCE, deps);
    expect(unknown.result.failure).toMatchObject({ kind: 'auth', status: 403 });
    expect(unknown.result.failure?.message).toContain('InvalidClientTokenId');
    expect(wrong.result.failure?.message).toContain('SignatureDoesNotMatch');
    expect(role.result.failure?.message).toContain('AccessDenied');
  });

  it('answers git as CodeCommit: 401 with a challenge, 403 for a wrong password, 404 for another repository', async () => {
    const { credentials } = await stsStep(target(), SOURCE, deps);
    if (!credentials) throw new Error('no credentials');
    const host = '127.0.0.1';
    const valid = (repository: string) =>
      basicAuthorization(gitCredentials(credentials, REGION, host, `/v1/repos/${repository}`, new Date()));
    const refs = (repository: string) => `/v1/repos/${repository}/info/refs?service=git-upload-pack`;
    expect(await get(refs('test_repo'))).toEqual({ status: 401, challenge: 'Basic realm="AWS CodeCommit"' });
    expect((await get(refs('test_repo'), valid('other_repo'))).status).toBe(403);
    expect((await get(refs('other_repo'), valid('other_repo'))).status).toBe(404);
    expect((await get('/v1/repos/test_repo/info/refs', valid('test_repo'))).status).toBe(404);
    expect((await get(refs('test_repo'), valid('test_repo'))).status).toBe(200);
  });

  it('answers a shallow fetch of HEAD with its pack: the probe gets the commit; another want gets ERR', async () => {
    // Prepare
    const { credentials } = await stsStep(target(), SOURCE, deps);
    if (!credentials) throw new Error('no credentials');
    const { advertisement } = await lsRemote(target(), credentials, deps);
    if (!advertisement) throw new Error('no advertisement');
    const served = hosted(DEMO_REPOSITORY).head;
    const limits = { maxBytes: 1 << 20, timeoutMs: 5000 };

    // Act
    const fetched = await fetchStep(target(), advertisement, credentials, deps, limits);
    const other = await fetchStep(
      target(),
      { ...advertisement, headSha: '5b1e0d43c29a8f6e7d1c0b9a8f7e6d5c4b3a2918' },
      credentials,
      deps,
      limits,
    );

    // Assess
    expect(advertisement.headSha).toBe(served?.oid);
    expect(fetched).toMatchObject({ ok: true, commit: served?.oid, objects: 4, packBytes: served?.pack.length });
    expect(aws.git.log.at(-2)).toMatchObject({ method: 'POST', path: '/v1/repos/test_repo/git-upload-pack' });
    expect(other.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
    expect(other.failure?.message).toContain('not our ref 5b1e0d43c29a8f6e7d1c0b9a8f7e6d5c4b3a2918');
  });

  it('real git fetches HEAD at depth 1 from it (protocol v0, stateless RPC): the same commit and files', async () => {
    // Prepare: a role's credentials, their CodeCommit password as a header, the sandbox CA trusted by git
    const { credentials } = await stsStep(target(), SOURCE, deps);
    if (!credentials) throw new Error('no credentials');
    const auth = basicAuthorization(
      gitCredentials(credentials, REGION, '127.0.0.1', '/v1/repos/test_repo', new Date()),
    );
    const dir = mkdtempSync(join(tmpdir(), 'canary-git-fetch-'));
    writeFileSync(join(dir, 'ca.pem'), pki.caPem);
    const env = { PATH: process.env.PATH, HOME: dir, GIT_SSL_CAINFO: join(dir, 'ca.pem'), GIT_TERMINAL_PROMPT: '0' };
    const git = (...args: string[]) => runProcess('git', ['-C', join(dir, 'clone'), ...args], { env });
    await runProcess('git', ['init', '--quiet', join(dir, 'clone')], { env });
    const served = hosted(DEMO_REPOSITORY).head;

    // Act
    const fetched = await git(
      '-c',
      `http.extraHeader=Authorization: ${auth}`,
      '-c',
      'protocol.version=0',
      'fetch',
      '--depth',
      '1',
      `${aws.git.url}/v1/repos/test_repo`,
      'refs/heads/main',
    );

    // Assess: git's commit is the stand-in's, with its files; git asked twice (shallow section, then the pack)
    expect(fetched.stderr).not.toContain('fatal');
    expect(fetched.code).toBe(0);
    expect((await git('rev-parse', 'FETCH_HEAD')).stdout.trim()).toBe(served?.oid);
    expect((await git('show', 'FETCH_HEAD:README.md')).stdout).toContain('codecommit-canary demo repository');
    expect((await git('cat-file', '-s', 'FETCH_HEAD:assets.bin')).stdout.trim()).toBe(String(384 * 1024));
    expect(aws.git.log.slice(-2).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'POST /v1/repos/test_repo/git-upload-pack 200',
      'POST /v1/repos/test_repo/git-upload-pack 200',
    ]);
  });

  it('follows its fault switch: deny, hang until the deadline, slow', async () => {
    try {
      sts.fault = 'deny';
      expect((await stsStep(target(), SOURCE, deps)).result.failure?.message).toContain('AccessDenied');
      sts.fault = 'hang';
      expect((await stsStep(target(300), SOURCE, deps)).result.failure).toMatchObject({
        kind: 'timeout',
        phase: 'response',
      });
      sts.fault = 'slow';
      const slow = await stsStep(target(), SOURCE, deps);
      expect(slow.result.ok).toBe(true);
      expect(slow.result.phases.firstByteMs).toBeGreaterThanOrEqual(SLOW_ANSWER_MS - 50);
      sts.fault = 'none';
      git.fault = 'deny';
      const { credentials } = await stsStep(target(), SOURCE, deps);
      const denied = await gitStep(target(), credentials ?? SOURCE, deps);
      expect(denied.failure).toMatchObject({ kind: 'auth', status: 403 });
    } finally {
      sts.fault = 'none';
      git.fault = 'none';
    }
  });

  it('waits its latency before answering and counts what is in flight on a shared gauge', async () => {
    // Prepare
    const gauge = newGauge();
    const slow = await startAwsStandIns({
      tls: pki,
      region: REGION,
      sources: [SOURCE],
      repositories: [hosted(DEMO_REPOSITORY)],
      latencyMs: 200,
      gauge,
    });
    try {
      const at = { ...target(), stsEndpoint: slow.sts.url };
      // Act
      const started = performance.now();
      const results = await Promise.all([1, 2, 3].map(() => stsStep(at, SOURCE, deps)));
      // Assess
      expect(results.every((r) => r.result.ok)).toBe(true);
      expect(performance.now() - started).toBeGreaterThanOrEqual(200);
      expect(gauge.max).toBe(3);
      await vi.waitFor(() => expect(gauge.current).toBe(0)); // each answer counts until its socket says so
      expect(slow.sts.requests).toBe(3);
    } finally {
      await slow.stop();
    }
  });
});

describe('the credential store', () => {
  it('knows its source keys, forgets the oldest issued past `remember`, and expired keys', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new CredentialStore({ sources: [SOURCE], remember: 2, now: () => now });
    const [first, second, third] = [store.issue(60), store.issue(60), store.issue(3600)];
    expect(store.secretFor(SOURCE.accessKeyId)).toBe(SOURCE.secretAccessKey);
    expect(store.secretFor(first.accessKeyId)).toBeUndefined();
    expect(store.secretFor(second.accessKeyId)).toBe(second.secretAccessKey);
    now = new Date('2026-01-01T00:05:00Z');
    expect(store.secretFor(second.accessKeyId)).toBeUndefined();
    expect(store.secretFor(third.accessKeyId)).toBe(third.secretAccessKey);
    expect(store.takeIssued()).toEqual([second, third]);
    expect(store.takeIssued()).toEqual([]);
    expect(store.secrets()).toEqual(
      expect.arrayContaining([SOURCE.secretAccessKey, third.secretAccessKey, third.sessionToken]),
    );
  });
});
