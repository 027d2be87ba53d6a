// The fetch step (native shallow fetch of HEAD, the pack checked) against real `git fetch --depth 1` with the AWS
// CLI credential helper, both against the same CodeCommit test server (git http-backend) in this run, on a
// repository whose depth-1 pack is a few MiB of incompressible data; plus CPU per fetch and peak external memory.
// Run: npm run bench:fetch  (BENCH_ROUNDS=n, BENCH_PACK_MIB=n)
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { gitFetchShallow } from '../harness/oracle.ts';
import { createLargeRepo } from '../harness/repos.ts';
import { REGION, startSandbox } from '../harness/sandbox.ts';
import { fetchStep } from '../lib/steps/git/fetch.ts';
import { gitStep } from '../lib/steps/git/ls-remote.ts';
import { stsStep } from '../lib/steps/sts.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PACK_MIB = Number(process.env.BENCH_PACK_MIB ?? 4);
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** CPU ms of this process, and of its reaped children (git and the AWS CLI; git http-backend on the server side). */
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

  const step = { ms: [] as number[], self: [] as number[], children: [] as number[], peakExternal: [] as number[] };
  const git = { ms: [] as number[], self: [] as number[], children: [] as number[] };
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
    step.self.push(ours.self);
    step.children.push(ours.children);
    step.peakExternal.push(peak - base);

    const real = await measured(() =>
      gitFetchShallow({ url, credentials, caFile: sandbox.pki.caFile, region: REGION, protocolVersion: 0 }),
    );
    if (real.value.commit !== repo.head || real.value.tree !== repo.tree) throw new Error('git fetched another commit');
    git.ms.push(real.value.fetchMs);
    git.self.push(real.self);
    git.children.push(real.children);
  }

  const p = median(step.ms);
  const g = median(git.ms);
  // Both runs cost the server the same (TLS in this process, git http-backend as a child): the differences are
  // each client's own CPU.
  const stepClientCpu = median(step.self) - median(git.self);
  const gitClientCpu = median(git.children) - median(step.children);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(`pack: ${mib(packBytes)} MiB (${PACK_MIB} MiB random + text), ${ROUNDS} rounds each, medians`);
  console.log(`fetch step (native, in process):              ${p.toFixed(1)} ms`);
  console.log(`git fetch --depth 1 + aws credential-helper:   ${g.toFixed(1)} ms`);
  console.log(`ratio fetch step / git fetch:                  ${(p / g).toFixed(3)}`);
  console.log(
    `CPU, this process, during the fetch step:      ${median(step.self).toFixed(0)} ms (server side included)`,
  );
  console.log(`CPU, this process, during git fetch:           ${median(git.self).toFixed(0)} ms (server side only)`);
  console.log(
    `CPU per fetch, client only: fetch step ${stepClientCpu.toFixed(0)} ms, git + aws CLI ${gitClientCpu.toFixed(0)} ms`,
  );
  console.log(`peak Buffer memory during the fetch step:      ${mib(median(step.peakExternal))} MiB (median of peaks)`);
} finally {
  await sandbox.stop();
}
