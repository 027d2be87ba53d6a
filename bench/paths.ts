// The cost of path checks (every address of an endpoint name: connect, TLS, one unauthenticated request) per
// address checked, for names with 1, 3 and 6 addresses, against one full ls-remote step (signed, advertisement
// parsed) on the sandbox's CodeCommit server in this run. CPU is this process's: the client's work and the
// in-process servers' (the CodeCommit server's TLS and password check; the path servers' TLS and 401), not
// git http-backend's (a child process).
// Run: npm run bench:paths  (BENCH_ROUNDS=n)
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSandbox } from '../harness/sandbox.ts';
import { type AddressSet, addressSet } from '../lib/sandbox/address-set.ts';
import { gitStep } from '../lib/steps/git/ls-remote.ts';
import { checkPaths } from '../lib/steps/paths.ts';
import { stsStep } from '../lib/steps/sts.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ADDRESS_COUNTS = [1, 3, 6] as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/**
 * Wall and CPU ms of `work` (user + system of this process), after a pause that lets the previous measurement's
 * trailing work (closing sockets, the git child's exit) finish outside this one.
 */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  await sleep(50);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const wallMs = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  return { value, wallMs, cpuMs: (user + system) / 1000 };
}

const sandbox = await startSandbox();
const sets: AddressSet[] = [];
try {
  const target = sandbox.target();
  const sts = await stsStep(target, await sandbox.deps.sourceCredentials(), sandbox.deps);
  if (!sts.credentials) throw new Error(`AssumeRole failed: ${sts.result.failure?.message}`);
  const credentials = sts.credentials;

  const endpoints = new Map<number, string>();
  for (const count of ADDRESS_COUNTS) {
    const addresses = Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
    const set = await addressSet(sandbox.pki, Object.fromEntries(addresses.map((a) => [a, 'answer' as const])));
    sets.push(set);
    const name = `paths-${count}.canary.test`;
    sandbox.dns.set(name, { a: addresses });
    endpoints.set(count, `https://${name}:${set.port}`);
  }

  const lsRemote = { wallMs: [] as number[], cpuMs: [] as number[] };
  const paths = new Map(ADDRESS_COUNTS.map((n) => [n, { wallMs: [] as number[], cpuMs: [] as number[] }]));
  // Round 0 warms up (module code, the TLS context) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const step = await measured(() => gitStep(target, credentials, sandbox.deps));
    if (!step.value.ok) throw new Error(`ls-remote failed: ${step.value.failure?.message}`);
    if (round > 0) {
      lsRemote.wallMs.push(step.wallMs);
      lsRemote.cpuMs.push(step.cpuMs);
    }
    for (const count of ADDRESS_COUNTS) {
      const endpoint = endpoints.get(count) as string;
      const check = await measured(() =>
        checkPaths(endpoint, { kind: 'git', repository: 'test_repo' }, undefined, sandbox.deps, {
          deadlineMs: 10_000,
        }),
      );
      const failed = check.value.paths.filter((p) => !p.ok);
      if (check.value.paths.length !== count || failed.length > 0)
        throw new Error(`path check (${count}) failed: ${failed[0]?.failure?.message ?? check.value.failure?.message}`);
      if (round > 0) {
        paths.get(count)?.wallMs.push(check.wallMs);
        paths.get(count)?.cpuMs.push(check.cpuMs);
      }
    }
  }

  const stepWall = median(lsRemote.wallMs);
  const stepCpu = median(lsRemote.cpuMs);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`path checks vs one ls-remote step, median of ${ROUNDS} rounds (${cpus().length} × ${cpu})`);
  console.log(`ls-remote step (test_repo): wall ${stepWall.toFixed(1)} ms, CPU ${stepCpu.toFixed(1)} ms`);
  console.log('addresses | check wall ms | check CPU ms | per address: wall ms (ratio) | CPU ms (ratio)');
  for (const count of ADDRESS_COUNTS) {
    const measuredPaths = paths.get(count);
    const wall = median(measuredPaths?.wallMs ?? []);
    const cpuMs = median(measuredPaths?.cpuMs ?? []);
    const perWall = wall / count;
    const perCpu = cpuMs / count;
    console.log(
      `${String(count).padStart(9)} | ${wall.toFixed(1).padStart(13)} | ${cpuMs.toFixed(1).padStart(12)} | ` +
        `${perWall.toFixed(1)} (${(perWall / stepWall).toFixed(2)}×) | ${perCpu.toFixed(1)} (${(perCpu / stepCpu).toFixed(2)}×)`,
    );
  }
} finally {
  await Promise.allSettled(sets.map((set) => set.stop()));
  await sandbox.stop();
}
