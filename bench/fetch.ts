// The fetch step (native shallow fetch of HEAD, the pack checked) against real `git fetch --depth 1` with the AWS
// CLI credential helper, both against the same CodeCommit test server (git http-backend) in this run, on a
// repository whose depth-1 pack is a few MiB of incompressible data; plus CPU per fetch and peak external memory.
// Run: npm run bench:fetch  (BENCH_ROUNDS=n, BENCH_PACK_MIB=n)
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsCliGitPassword, gitFetchShallow } from '../harness/oracle.ts';
import { createLargeRepo } from '../harness/repos.ts';
import { REGION, startSandbox } from '../harness/sandbox.ts';
import { systemClock } from '../lib/clock.ts';
import { fetchStep } from '../lib/steps/git/fetch.ts';
import { gitStep } from '../lib/steps/git/ls-remote.ts';
import { readPack } from '../lib/steps/git/pack.ts';
import { gitRequest } from '../lib/steps/git/request.ts';
import { FETCH_CAPABILITIES, packStream, uploadPackRequest } from '../lib/steps/git/upload-pack.ts';
import { stsStep } from '../lib/steps/sts.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PACK_MIB = Number(process.env.BENCH_PACK_MIB ?? 4);
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** CPU ms of this process, and of its exited children (git http-backend, the server's side of every fetch). */
function cpuMs(): { self: number; children: number } {
  const { user, system } = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const children = ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
  return { self: (user + system) / 1000, children };
}

/** Runs `work` and returns its CPU: the children's are counted once they exit, so wait a moment for them. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; self: number; children: number }> {
  const before = cpuMs();
  const value = await work();
  await sleep(150);
  const after = cpuMs();
  return { value, self: after.self - before.self, children: after.children - before.children };
}

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const sandbox = await startSandbox();
try {
  const repo = createLargeRepo(sandbox.projectRoot, 'bench_large', PACK_MIB * 1024 * 1024);
  const target = sandbox.target({ repository: 'bench_large' });
  const sts = await stsStep(target, await sandbox.deps.sourceCredentials(), sandbox.deps);
  if (!sts.credentials) throw new Error(`AssumeRole failed: ${sts.result.failure?.message}`);
  const credentials = sts.credentials;
  const lsRemote = await gitStep(target, credentials, sandbox.deps);
  if (lsRemote.headSha !== repo.head) throw new Error(`ls-remote: ${lsRemote.failure?.message ?? lsRemote.headSha}`);
  const url = `${sandbox.git.url}/v1/repos/bench_large`;
  // git's own cost, without the AWS CLI's start-up: the helper's password once, handed to git from then on.
  const password = await awsCliGitPassword({
    credentials,
    host: new URL(url).host,
    repo: 'bench_large',
    region: REGION,
  });

  const step = {
    ms: [] as number[],
    firstByteMs: [] as number[],
    transferMs: [] as number[],
    self: [] as number[],
    children: [] as number[],
    peakExternal: [] as number[],
  };
  const git = { ms: [] as number[], self: [] as number[], children: [] as number[] };
  const gitAlone = { ms: [] as number[], children: [] as number[] };
  let packBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Peak of Buffer memory outside the V8 heap while the step runs (the pack's bytes live there).
    const base = process.memoryUsage().arrayBuffers;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 5);
    const ours = await measured(() => fetchStep(target, { headSha: lsRemote.headSha }, credentials, sandbox.deps));
    clearInterval(sampler);
    if (!ours.value.ok || ours.value.commit !== repo.head)
      throw new Error(`fetch step: ${ours.value.failure?.message}`);
    packBytes = ours.value.packBytes;
    step.ms.push(ours.value.durationMs);
    step.firstByteMs.push(ours.value.phases.firstByteMs);
    step.transferMs.push(ours.value.phases.transferMs);
    step.self.push(ours.self);
    step.children.push(ours.children);
    step.peakExternal.push(peak - base);

    const real = await measured(() =>
      gitFetchShallow({ url, credentials, caFile: sandbox.pki.caFile, region: REGION, protocolVersion: 0 }),
    );
    if (real.value.commit !== repo.head || real.value.tree !== repo.tree) throw new Error('git fetched another commit');
    git.ms.push(real.value.fetchMs);
    git.self.push(real.self);
    git.children.push(real.value.childrenCpuMs ?? Number.NaN);

    const alone = await measured(() =>
      gitFetchShallow({ url, credentials, caFile: sandbox.pki.caFile, region: REGION, protocolVersion: 0, password }),
    );
    if (alone.value.commit !== repo.head) throw new Error('git (fixed password) fetched another commit');
    gitAlone.ms.push(alone.value.fetchMs);
    gitAlone.children.push(alone.value.childrenCpuMs ?? Number.NaN);
  }

  // The client's own work without TLS and the server: the upload-pack answer, taken once, demultiplexed and read
  // from memory in 16 KiB chunks (a TLS record's size).
  const upload = uploadPackRequest(repo.head, FETCH_CAPABILITIES);
  const agent = new Agent(sandbox.deps.tls?.secureContext ? { secureContext: sandbox.deps.tls.secureContext } : {});
  const answer = await new Promise<Buffer>((resolve, reject) => {
    const headers = { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Length': upload.body.length };
    const options = { method: 'POST' as const, agent, signal: AbortSignal.timeout(60_000), headers };
    const req = gitRequest(target, credentials, systemClock, new URL(url), '/git-upload-pack', options, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(upload.body);
  });
  agent.destroy();
  const parseCpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    const read = await readPack(packStream(pieces(answer, 16 * 1024), upload), { want: repo.head, maxBytes: 64 << 20 });
    const used = process.cpuUsage(before);
    if (!read.ok) throw new Error(`captured answer: ${read.error.message}`);
    parseCpu.push((used.user + used.system) / 1000);
  }

  const p = median(step.ms);
  const g = median(git.ms);
  // Both clients cost the server the same (TLS in this process, git http-backend as a child): less the server's
  // share, what is left is each client's own CPU (git's: git, remote-https, index-pack, the helper, as they exit).
  const stepClientCpu = median(step.self) - median(git.self);
  const gitClientCpu = median(git.children) - median(step.children);
  const gitAloneCpu = median(gitAlone.children) - median(step.children);
  const a = median(gitAlone.ms);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(`pack: ${mib(packBytes)} MiB (${PACK_MIB} MiB random + text), ${ROUNDS} rounds each, medians`);
  console.log(`fetch step (native, in process):              ${p.toFixed(1)} ms`);
  console.log(`git fetch --depth 1 + aws credential-helper:   ${g.toFixed(1)} ms`);
  console.log(`ratio fetch step / git fetch:                  ${(p / g).toFixed(3)}`);
  console.log(`git fetch --depth 1, password given (no CLI):  ${a.toFixed(1)} ms`);
  console.log(`ratio fetch step / git fetch alone:            ${(p / a).toFixed(3)}`);
  console.log(
    `fetch step phases: first byte ${median(step.firstByteMs).toFixed(0)} ms (the server packing), transfer ${median(step.transferMs).toFixed(0)} ms`,
  );
  console.log(
    `CPU, this process, during the fetch step:      ${median(step.self).toFixed(0)} ms (server side included)`,
  );
  console.log(`CPU, this process, during git fetch:           ${median(git.self).toFixed(0)} ms (server side only)`);
  console.log(
    `CPU per fetch, client only (differences): fetch step ${stepClientCpu.toFixed(0)} ms, git + aws CLI ${gitClientCpu.toFixed(0)} ms, git alone ${gitAloneCpu.toFixed(0)} ms`,
  );
  console.log(
    `CPU, demultiplexing and reading the pack alone:  ${median(parseCpu).toFixed(0)} ms (from memory, no TLS)`,
  );
  console.log(
    `peak Buffer memory during the fetch step:      ${mib(median(step.peakExternal))} MiB (median of peaks; the server in this process included)`,
  );
} finally {
  await sandbox.stop();
}
