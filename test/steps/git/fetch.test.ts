import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitFetchShallow } from '../../../harness/oracle.ts';
import { createLargeRepo } from '../../../harness/repos.ts';
import { REGION, type Sandbox, startSandbox } from '../../../harness/sandbox.ts';
import { type FaultMode, faultServer, type StallingProxy, stallingProxy } from '../../../lib/sandbox/fault-servers.ts';
import { DEFAULT_FETCH_LIMITS, type FetchLimits, fetchStep } from '../../../lib/steps/git/fetch.ts';
import { gitStep } from '../../../lib/steps/git/ls-remote.ts';
import type { AwsCredentials } from '../../../lib/steps/git/password.ts';
import { FLUSH_PKT, pktLine } from '../../../lib/steps/git/pkt-line.ts';
import { stsStep } from '../../../lib/steps/sts.ts';

const LARGE_BYTES = 3 * 1024 * 1024;
const STALL_AFTER_BYTES = 64 * 1024;

let sandbox: Sandbox;
let credentials: AwsCredentials;
let large: ReturnType<typeof createLargeRepo>;
let proxy: StallingProxy;
beforeAll(async () => {
  sandbox = await startSandbox();
  // The git server finds repositories under its project root on each request: one added now is served.
  large = createLargeRepo(sandbox.projectRoot, 'large_repo', LARGE_BYTES);
  const sts = await stsStep(sandbox.target(), await sandbox.deps.sourceCredentials(), sandbox.deps);
  if (!sts.credentials) throw new Error(`AssumeRole through moto failed: ${sts.result.failure?.message}`);
  credentials = sts.credentials;
  proxy = await stallingProxy({ host: '127.0.0.1', port: sandbox.git.port }, STALL_AFTER_BYTES);
});
afterAll(async () => {
  await proxy?.stop();
  await sandbox?.stop();
});

/** ls-remote, then the fetch of the HEAD it found, as the probe runs them. */
async function lsRemoteThenFetch(repository: string, limits: Partial<FetchLimits> = {}, gitEndpoint?: string) {
  const target = sandbox.target({ repository, ...(gitEndpoint ? { gitEndpoint } : {}) });
  const lsRemote = await gitStep(target, credentials, sandbox.deps);
  if (!lsRemote.ok) throw new Error(`ls-remote failed: ${lsRemote.failure?.message}`);
  const fetch = await fetchStep(target, { headSha: lsRemote.headSha }, credentials, sandbox.deps, {
    ...DEFAULT_FETCH_LIMITS,
    ...limits,
  });
  return { lsRemote, fetch };
}

describe('fetchStep against git http-backend behind the CodeCommit password check', () => {
  it.each(['test_repo', 'large_repo'])('%s: the commit and tree real git fetch --depth 1 gets', async (repository) => {
    // Act
    const { lsRemote, fetch } = await lsRemoteThenFetch(repository);
    const oracle = await gitFetchShallow({
      url: `${sandbox.git.url}/v1/repos/${repository}`,
      credentials,
      caFile: sandbox.pki.caFile,
      region: REGION,
    });
    // Assess
    expect(fetch.failure).toBeNull();
    expect(fetch.ok).toBe(true);
    expect(fetch.commit).toBe(lsRemote.headSha);
    expect({ commit: fetch.commit, tree: fetch.tree }).toEqual({ commit: oracle.commit, tree: oracle.tree });
    expect(fetch.committedAt).toBe('2024-01-01T00:00:00.000Z');
    expect(fetch.addresses).toEqual(['127.0.0.1']);
    expect(fetch.phases.tlsMs).toBeGreaterThan(0);
    expect(fetch.phases.firstByteMs).toBeGreaterThan(0);
    expect(fetch.bytesBeforeStall).toBeNull();
    if (repository === 'large_repo') {
      expect(fetch.commit).toBe(large.head);
      expect(fetch.tree).toBe(large.tree);
      // the commit, 3 trees, 4 blobs: the parent's objects are not fetched
      expect(fetch.objects).toBe(8);
      expect(fetch.packBytes).toBeGreaterThan(LARGE_BYTES);
      expect(fetch.packBytes).toBeLessThan(LARGE_BYTES + 64 * 1024);
      // Over the pack's own transfer (many packets); no faster than loopback could be, no slower than the deadline.
      expect(fetch.throughputBytesPerSec).toBeGreaterThan(LARGE_BYTES / 15);
      expect(fetch.throughputBytesPerSec).toBeLessThan(50 * 2 ** 30);
    }
  });

  it('reads the raw pack when the server offers no side band', async () => {
    const target = sandbox.target({ repository: 'large_repo' });
    const fetch = await fetchStep(
      target,
      { headSha: large.head, capabilities: ['ofs-delta', 'shallow'] },
      credentials,
      sandbox.deps,
    );
    expect(fetch).toMatchObject({ ok: true, commit: large.head, tree: large.tree, failure: null });
  });

  it('an empty repository is skipped with its reason, not failed', async () => {
    const { lsRemote, fetch } = await lsRemoteThenFetch('empty_repo');
    expect(lsRemote.headSha).toBeNull();
    expect(fetch).toMatchObject({
      ok: false,
      skipped: true,
      failure: null,
      skipReason: 'empty repository: HEAD does not resolve',
      packBytes: 0,
    });
  });

  it('a pack above maxBytes fails in body as protocol, after no more than one packet past the cap', async () => {
    const maxBytes = 1024 * 1024;
    const { fetch } = await lsRemoteThenFetch('large_repo', { maxBytes });
    expect(fetch.failure).toEqual({
      kind: 'protocol',
      phase: 'body',
      message: `pack exceeds the cap of ${maxBytes} bytes (maxBytes)`,
    });
    expect(fetch.packBytes).toBeGreaterThan(maxBytes);
    expect(fetch.packBytes).toBeLessThanOrEqual(maxBytes + 65_520);
    expect(fetch.commit).toBeNull();
  });

  it('a commit the server does not have: its ERR line, protocol in body', async () => {
    const target = sandbox.target();
    const fetch = await fetchStep(target, { headSha: 'c'.repeat(40) }, credentials, sandbox.deps);
    expect(fetch.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
    expect(fetch.failure?.message).toMatch(/^remote error: .*not our ref c{40}/);
  });

  it('a stale password: auth in response, as for ls-remote', async () => {
    const stale = { ...sandbox.deps, clock: { ...sandbox.deps.clock, now: () => new Date(Date.now() - 20 * 60_000) } };
    const fetch = await fetchStep(sandbox.target(), { headSha: large.head }, credentials, stale);
    expect(fetch.failure).toMatchObject({ kind: 'auth', phase: 'response', status: 403 });
  });
});

describe('fetchStep through a path that stalls large answers', () => {
  it(`refs pass, the pack stalls after about ${STALL_AFTER_BYTES} bytes: timeout in body, with the bytes that came`, async () => {
    // Arrange: the proxy passes the first 64 KiB the server sends on each connection
    const endpoint = `https://git.canary.test:${proxy.port}`;
    const before = proxy.connections;
    // Act
    const { lsRemote, fetch } = await lsRemoteThenFetch('large_repo', { timeoutMs: 3000 }, endpoint);
    // Assess
    expect(lsRemote.ok).toBe(true);
    expect(proxy.connections - before).toBe(2);
    expect(fetch.failure).toMatchObject({ kind: 'timeout', phase: 'body' });
    // The deadline ends it, whatever phase the stall left it in.
    expect(fetch.durationMs).toBeGreaterThanOrEqual(2900);
    expect(fetch.durationMs).toBeLessThan(4500);
    // What passed, less the TLS handshake and records and the HTTP headers, was the answer's body.
    expect(fetch.bytesBeforeStall).toBeGreaterThan(STALL_AFTER_BYTES - 16 * 1024);
    expect(fetch.bytesBeforeStall).toBeLessThan(STALL_AFTER_BYTES);
    // Only whole side-band packets reach the pack reader: fewer pack bytes than body bytes.
    expect(fetch.packBytes).toBeLessThan(fetch.bytesBeforeStall ?? 0);
    expect(fetch.stalledForMs).toBeGreaterThan(500);
    expect(fetch.commit).toBeNull();
  });
});

describe('fetchStep against a pack that flows, but too slowly for its deadline', () => {
  it('times out in body without calling it a stall: bytes kept coming until the deadline', async () => {
    // Arrange: the shallow section and NAK, then a side-band progress packet every 50 ms, never the pack
    const want = '507e9861e1da9408e61c72b8fd8caaeb913d0fe3';
    const server = createHttpsServer({ cert: sandbox.pki.certPem, key: sandbox.pki.keyPem }, (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' });
      res.write(Buffer.concat([pktLine(`shallow ${want}\n`), FLUSH_PKT, pktLine('NAK\n')]));
      const timer = setInterval(() => res.write(pktLine(Buffer.from('\x02counting objects\n'))), 50);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // Act
      const fetch = await fetchStep(
        sandbox.target({ gitEndpoint: `https://git.canary.test:${port}` }),
        { headSha: want },
        credentials,
        sandbox.deps,
        { ...DEFAULT_FETCH_LIMITS, timeoutMs: 1000 },
      );
      // Assess
      expect(fetch.failure).toMatchObject({ kind: 'timeout', phase: 'body' });
      expect(fetch.bytesBeforeStall).toBeNull();
      expect(fetch.stalledForMs).toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('fetchStep against a server answering a corrupted pack', () => {
  const pack = readFileSync(join(import.meta.dirname, '../../fixtures/packs/depth1.pack'));
  const want = '507e9861e1da9408e61c72b8fd8caaeb913d0fe3';
  const answer = (packBytes: Buffer) =>
    Buffer.concat([
      pktLine(`shallow ${want}\n`),
      FLUSH_PKT,
      pktLine('NAK\n'),
      pktLine(Buffer.concat([Buffer.from([1]), packBytes])),
      FLUSH_PKT,
    ]);

  /** The fetch step against a server answering every request with `mode`. */
  async function fetchFrom(mode: FaultMode) {
    const server = await faultServer(sandbox.pki, mode);
    try {
      return await fetchStep(sandbox.target({ gitEndpoint: server.url }), { headSha: want }, credentials, sandbox.deps);
    } finally {
      await server.stop();
    }
  }
  const RESULT = { 'content-type': 'application/x-git-upload-pack-result' };

  it.each([
    ['the pack as captured', (p: Buffer) => p, null],
    [
      'a flipped trailer byte',
      (p: Buffer) => p.fill(p.readUInt8(p.length - 1) ^ 1, p.length - 1),
      /^pack checksum mismatch/,
    ],
    [
      'a flipped object byte',
      (p: Buffer) => p.fill(p.readUInt8(300) ^ 0x10, 300, 301),
      /corrupt zlib data|checksum mismatch/,
    ],
  ])('%s', async (_, corrupt, message) => {
    const fetch = await fetchFrom({ status: 200, body: answer(corrupt(Buffer.from(pack))), headers: RESULT });
    if (message === null) {
      expect(fetch).toMatchObject({ ok: true, commit: want, objects: 7, packBytes: pack.length });
    } else {
      expect(fetch.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
      expect(fetch.failure?.message).toMatch(message);
    }
  });

  it('an answer of another content type: protocol in response', async () => {
    const fetch = await fetchFrom({ status: 200, body: 'hello' });
    expect(fetch.failure).toMatchObject({ kind: 'protocol', phase: 'response' });
  });
});
