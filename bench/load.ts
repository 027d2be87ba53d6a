// Load: one monitor invocation probing 200 targets, in a fresh process per scenario (its peak RSS is the
// monitor's alone: the servers run here, in the parent). STS and CodeCommit are the in-process stand-ins of
// lib/sandbox, answering after LOAD_DELAY_MS (default 20 ms) as a stand-in for the network, so the
// figures are the monitor's: how long 200 targets take against the ideal for the concurrency, peak RSS, CPU,
// and the most requests the endpoints saw at once. Figures, not a pass/fail test (that is test/warm-reuse.test.ts).
// Run: npm run bench:load   (LOAD_TARGETS, LOAD_DELAY_MS to change the defaults)
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const TARGETS = Number(process.env.LOAD_TARGETS ?? 200);
const DELAY_MS = Number(process.env.LOAD_DELAY_MS ?? 20);
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
  const pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
  const { caFile } = writePkiFiles(pki);
  const gauge = newGauge();
  const { sts, git, stop } = await startAwsStandIns({
    tls: pki,
    region: 'us-east-1',
    sources: [SOURCE],
    repositories: [hosted(DEMO_REPOSITORY)],
    remember: 4 * TARGETS,
    latencyMs: DELAY_MS,
    gauge,
  });
  const dir = mkdtempSync(join(tmpdir(), 'canary-load-'));
  const scenarios = [
    { concurrency: 1, trust: 'NODE_EXTRA_CA_CERTS' },
    { concurrency: 8, trust: 'NODE_EXTRA_CA_CERTS' },
    { concurrency: 32, trust: 'NODE_EXTRA_CA_CERTS' },
    { concurrency: 64, trust: 'NODE_EXTRA_CA_CERTS' },
    { concurrency: 8, trust: 'tls.caFile' },
  ] as const;
  const rows: string[][] = [];
  try {
    for (const { concurrency, trust } of scenarios) {
      const file = join(dir, `c${concurrency}-${trust}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          region: 'us-east-1',
          concurrency,
          // No global-STS or endpoint-name checks: they would ask the real DNS about AWS names.
          checks: { globalSts: false, path: false },
          endpoints: { sts: sts.url, git: git.url },
          ...(trust === 'tls.caFile' ? { tls: { caFile } } : {}),
          targets: Array.from({ length: TARGETS }, (_, i) => ({
            name: `t${String(i).padStart(3, '0')}`,
            repository: 'test_repo',
            roleArn: ROLE_ARN,
          })),
        }),
      );
      gauge.max = 0;
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/load.ts', 'child', file], {
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
      const idealMs = Math.ceil(TARGETS / concurrency) * 2 * DELAY_MS;
      rows.push([
        `${concurrency}`,
        trust,
        `${f.ok}/${f.targets}`,
        `${(f.durationMs / 1000).toFixed(2)} s`,
        `${(idealMs / 1000).toFixed(2)} s`,
        (f.durationMs / idealMs).toFixed(2),
        `${Math.round((100 * f.durationMs) / f.budgetMs)}%`,
        `${(f.cpuMs / f.targets).toFixed(1)} ms`,
        `${Math.round(f.maxRssMiB)} MiB`,
        `${gauge.max}`,
      ]);
    }
  } finally {
    await stop();
  }
  const header = [
    'concurrency',
    'extra CA via',
    'ok',
    'duration',
    'ideal',
    'ratio',
    'of budget',
    'CPU/target',
    'peak RSS',
    'max in flight',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
  );
  console.log(
    `${TARGETS} targets in one invocation (log mode), STS and git stand-ins answering after ${DELAY_MS} ms; ` +
      'ideal = ⌈targets / concurrency⌉ × 2 requests × delay; budget 58 s (60 s timeout less the 2 s reserve)\n',
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

if (process.argv[2] === 'child') await child(process.argv[3] as string);
else await parent();
