// ls-remote on a 10,000-ref repository: the probe's native git step against real `git ls-remote` with the
// AWS CLI credential helper, both against the same CodeCommit stand-in in this run; plus the probe's peak RSS.
// Run: npm run build && npm run bench
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gitLsRemote } from '../harness/oracle.ts';
import { REGION, ROLE_ARN, startSandbox } from '../harness/sandbox.ts';
import { gitStep } from '../lib/steps/git/ls-remote.ts';
import { stsStep } from '../lib/steps/sts.ts';

const execFileAsync = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const sandbox = await startSandbox({ manyRefs: true });
try {
  const target = sandbox.target({ repository: 'many_refs' });
  const sts = await stsStep(target, await sandbox.deps.sourceCredentials(), sandbox.deps);
  if (!sts.credentials) throw new Error(`AssumeRole failed: ${sts.result.failure?.message}`);
  const credentials = sts.credentials;
  const url = `${sandbox.git.url}/v1/repos/many_refs`;

  const probeMs: number[] = [];
  const gitMs: number[] = [];
  let refs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const step = await gitStep(target, credentials, sandbox.deps);
    if (!step.ok) throw new Error(`probe failed: ${step.failure?.message}`);
    refs = step.refs;
    probeMs.push(step.durationMs);
    const start = performance.now();
    const real = await gitLsRemote({
      url,
      credentials,
      caFile: sandbox.pki.caFile,
      region: REGION,
      protocolVersion: 0,
    });
    gitMs.push(performance.now() - start);
    if (real.refs.length !== refs) throw new Error(`ref count differs: probe ${refs}, git ${real.refs.length}`);
  }

  // Peak RSS of a fresh process that does one whole probe (AssumeRole + ls-remote of 10,000 refs).
  const configFile = sandbox.writeConfig({
    tls: { caFile: sandbox.pki.caFile },
    targets: [{ name: 'bench', repository: 'many_refs', roleArn: ROLE_ARN }],
  });
  // The shipped CLI bundle (npm run build), as a user runs it.
  // Async: the stand-in servers live in this process and must keep answering while the child runs.
  const run = await execFileAsync(
    process.execPath,
    ['--import', './bench/peak-rss.mjs', 'dist/cli.js', 'probe', '--config', configFile, '--json'],
    { env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIAFAKESOURCE000001', AWS_SECRET_ACCESS_KEY: 'fake' } },
  );
  const report = JSON.parse(run.stdout);
  if (!report.ok) throw new Error(`CLI probe failed: ${run.stdout}`);
  const child = {
    gitMs: report.targets[0].steps.git.durationMs,
    maxRssKb: Number(/peak-rss-kb (\d+)/.exec(run.stderr)?.[1]),
  };

  const p = median(probeMs);
  const g = median(gitMs);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(`repository: ${refs} ls-remote lines; ${ROUNDS} rounds each, medians`);
  console.log(`probe git step (native, in process):        ${p.toFixed(1)} ms`);
  console.log(`git ls-remote + aws credential-helper:       ${g.toFixed(1)} ms`);
  console.log(`ratio probe / git:                           ${(p / g).toFixed(3)}`);
  console.log(
    `CLI bundle peak RSS (one full probe):          ${(child.maxRssKb / 1024).toFixed(1)} MiB (git step ${child.gitMs} ms)`,
  );
} finally {
  await sandbox.stop();
}
