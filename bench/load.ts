// Load: one monitor invocation probing 1, 200 and 1,000 targets, in a fresh Node 24 process per scenario running the
// monitor bundled as the functions are (its peak RSS is the monitor's alone: the servers run here, in the parent). STS and CodeCommit are the in-process stand-ins of
// lib/sandbox, answering after LOAD_DELAY_MS (default 20 ms) as a stand-in for the network, so the figures are the
// monitor's: how long the targets take against the ideal for the concurrency, CPU per target, peak RSS, and the most
// requests the endpoints saw at once. A Lambda function gets CPU in proportion to its memory (1,769 MB is one vCPU),
// so the CPU a run needs, spread over 256 MB's share, is the least it takes there: the "at 256 MB" column, against
// the 58 s budget. Figures, not a pass/fail test (that is test/warm-reuse.test.ts).
// Run: npm run bench:load   (LOAD_DELAY_MS to change the delay; LOAD_TARGETS=200 runs only the scenarios of that many
// targets; LOAD_CPU_PROF=<dir> writes each child's --cpu-prof profile there, the bundle unminified; LOAD_NODE_FLAGS
// adds flags to the child's, e.g. V8's)
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
// @ts-expect-error: a plain .mjs helper shared with the tests
import { ensureNode24 } from '../scripts/node24.mjs';

const DELAY_MS = Number(process.env.LOAD_DELAY_MS ?? 20);
/** Lambda's CPU share per MB of memory: one vCPU at 1,769 MB. */
const VCPU_AT_256_MB = 256 / 1769;
const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';
/** The probe's source key: fake, known to the STS stand-in, which checks the signature. */
const SOURCE = { accessKeyId: 'AKIAFAKESOURCE000001', secretAccessKey: 'fake' };

interface ChildFigures {
  durationMs: number;
  ok: number;
  targets: number;
  budgetMs: number;
  maxRssMiB: number;
  cpuMs: number;
  /** Of cpuMs, the kernel's (system time): sockets, TLS records to and from loopback. */
  systemCpuMs: number;
  heapAfterMiB: number;
}

/** The child: one runMonitor over the config's targets, log mode, output counted and dropped. */
async function child(configFile: string): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { loadConfig, resolveTargets } = await import('../lib/config/config.ts');
  const { EmfSink } = await import('../lib/metrics/sinks.ts');
  const { runMonitor } = await import('../lib/run/monitor.ts');
  const { probeDeps } = await import('../lib/run/runtime.ts');
  const config = await loadConfig(configFile);
  const targets = resolveTargets(config);
  const sink = { write: () => true };
  const probe = probeDeps(config, async () => ({ ...SOURCE }));
  // As handlers/probe.ts: the Lambda timeout (60 s) less the log-mode reporting reserve (2 s).
  const budgetMs = 58_000;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await runMonitor(
    config,
    targets,
    { probe, metrics: new EmfSink({ writer: sink }), log: sink },
    {
      stack: 'bench',
      budgetMs,
    },
  );
  const durationMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const figures: ChildFigures = {
    durationMs,
    ok: summary.targets - summary.failed.length,
    targets: summary.targets,
    budgetMs,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    cpuMs: (used.user + used.system) / 1000,
    systemCpuMs: used.system / 1000,
    heapAfterMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
  process.stdout.write(`FIGURES ${JSON.stringify(figures)}\n`);
}

async function parent(): Promise<void> {
  const { startAwsStandIns } = await import('../lib/sandbox/aws-stand-ins.ts');
  const { newGauge } = await import('../lib/sandbox/https-stand-in.ts');
  const { createPki, writePkiFiles } = await import('../lib/sandbox/pki.ts');
  const { DEMO_REPOSITORY, hosted } = await import('../lib/sandbox/repository.ts');
  const run = promisify(execFile);
  // The child runs as the functions do: bundled as they are (infra/lambda-bundle.cjs), on Node 24.
  const { build } = await import('esbuild');
  const lambdaBundle = createRequire(import.meta.url)('../infra/lambda-bundle.cjs');
  const node24: string = ensureNode24();
  const bundle = join(mkdtempSync(join(tmpdir(), 'canary-load-bundle-')), 'load.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Readable names in a profile; minifying changes the CPU figures by little.
    minify: !process.env.LOAD_CPU_PROF,
    keepNames: true,
    banner: lambdaBundle.banner,
    alias: lambdaBundle.alias,
    mainFields: lambdaBundle.mainFields,
    external: [...lambdaBundle.external, 'esbuild'],
    plugins: lambdaBundle.plugins,
    logLevel: 'warning',
  });
  const pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
  const { caFile } = writePkiFiles(pki);
  const gauge = newGauge();
  const onlyTargets = process.env.LOAD_TARGETS ? Number(process.env.LOAD_TARGETS) : null;
  const profileDir = process.env.LOAD_CPU_PROF;
  const allScenarios = [
    { targets: 1, concurrency: 8, trust: 'NODE_EXTRA_CA_CERTS' },
    { targets: 200, concurrency: 8, trust: 'NODE_EXTRA_CA_CERTS' },
    { targets: 200, concurrency: 64, trust: 'NODE_EXTRA_CA_CERTS' },
    { targets: 200, concurrency: 8, trust: 'tls.caFile' },
    { targets: 1000, concurrency: 8, trust: 'NODE_EXTRA_CA_CERTS' },
    { targets: 1000, concurrency: 64, trust: 'NODE_EXTRA_CA_CERTS' },
  ] as const;
  const scenarios = allScenarios.filter((s) => onlyTargets === null || s.targets === onlyTargets);
  const { sts, git, stop } = await startAwsStandIns({
    tls: pki,
    region: 'us-east-1',
    sources: [SOURCE],
    repositories: [hosted(DEMO_REPOSITORY)],
    remember: 4 * Math.max(...scenarios.map((s) => s.targets)),
    latencyMs: DELAY_MS,
    gauge,
  });
  const dir = mkdtempSync(join(tmpdir(), 'canary-load-'));
  const rows: string[][] = [];
  try {
    for (const { targets, concurrency, trust } of scenarios) {
      const file = join(dir, `t${targets}-c${concurrency}-${trust}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          region: 'us-east-1',
          concurrency,
          // No global-STS or endpoint-name checks: they would ask the real DNS about AWS names.
          checks: { globalSts: false, path: false },
          endpoints: { sts: sts.url, git: git.url },
          ...(trust === 'tls.caFile' ? { tls: { caFile } } : {}),
          targets: Array.from({ length: targets }, (_, i) => ({
            name: `t${String(i).padStart(4, '0')}`,
            repository: 'test_repo',
            roleArn: ROLE_ARN,
          })),
        }),
      );
      gauge.max = 0;
      const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const extraFlags = process.env.LOAD_NODE_FLAGS ? process.env.LOAD_NODE_FLAGS.split(' ') : [];
      const nodeArgs = [...lambdaBundle.nodeOptions.split(' '), ...extraFlags, ...profile, bundle, 'child', file];
      const { stdout } = await run(node24, nodeArgs, {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...(trust === 'NODE_EXTRA_CA_CERTS' ? { NODE_EXTRA_CA_CERTS: caFile } : {}),
        },
        maxBuffer: 16 << 20,
      });
      const line = stdout.split('\n').find((l) => l.startsWith('FIGURES '));
      if (!line) throw new Error(`no figures from the child:\n${stdout}`);
      const f = JSON.parse(line.slice(8)) as ChildFigures;
      // Two requests per target, each DELAY_MS at the server: the duration with nothing else in the way.
      const idealMs = Math.ceil(targets / concurrency) * 2 * DELAY_MS;
      const at256MbMs = Math.max(f.durationMs, f.cpuMs / VCPU_AT_256_MB);
      rows.push([
        `${targets}`,
        `${concurrency}`,
        trust,
        `${f.ok}/${f.targets}`,
        `${(f.durationMs / 1000).toFixed(2)} s`,
        `${(idealMs / 1000).toFixed(2)} s`,
        (f.durationMs / idealMs).toFixed(2),
        `${(f.cpuMs / f.targets).toFixed(1)} ms`,
        `${Math.round((100 * f.systemCpuMs) / f.cpuMs)}%`,
        `${(at256MbMs / 1000).toFixed(1)} s (${Math.round((100 * at256MbMs) / f.budgetMs)}%)`,
        `${Math.round(f.maxRssMiB)} MiB`,
        `${gauge.max}`,
      ]);
    }
  } finally {
    await stop();
  }
  const header = [
    'targets',
    'concurrency',
    'extra CA via',
    'ok',
    'duration',
    'ideal',
    'ratio',
    'CPU/target',
    'of it kernel',
    'at 256 MB (of budget)',
    'peak RSS',
    'max in flight',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB; the monitor bundled, on Node ${execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()} ${lambdaBundle.nodeOptions}`,
  );
  console.log(
    `one invocation (log mode), STS and git stand-ins answering after ${DELAY_MS} ms; ` +
      'ideal = ⌈targets / concurrency⌉ × 2 requests × delay; at 256 MB = the longer of the duration and the CPU ' +
      `at 256 MB's ${VCPU_AT_256_MB.toFixed(3)} vCPU; budget 58 s (60 s timeout less the 2 s reserve)\n`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

if (process.argv[2] === 'child') await child(process.argv[3] as string);
else await parent();
