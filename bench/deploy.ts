// What the deployed monitor costs to run: the zips `serverless package` makes in each delivery mode, their cold init
// on Node 24 (median of 7, against a handler that only imports node:https, in the same run), probe duration and peak
// RSS for 1, 10 and 100 targets against the sandbox's stand-ins (lib/sandbox, as the demo runs them), and the
// monthly cost per target at a 1-minute schedule.
// Run: npm run bench:deploy   (builds the bundles and packages the stack with osls first)
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { customMetricCount } from '../lib/metrics/catalogue.ts';
import {
  DEMO_SOURCE_CREDENTIALS,
  DEMO_REGION as REGION,
  DEMO_ROLE_ARN as ROLE_ARN,
  startSandbox,
} from '../lib/sandbox/sandbox.ts';
// @ts-expect-error: a plain .mjs helper shared with the tests
import { ensureNode24 } from '../scripts/node24.mjs';

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const node24: string = ensureNode24();
/** The functions' V8 flags, as serverless.yml sets them (NODE_OPTIONS). */
const NODE_OPTIONS: string[] = createRequire(import.meta.url)('../infra/lambda-bundle.cjs').nodeOptions.split(' ');

// Prices (us-east-1, as published for 2026; change here if yours differ).
const PRICE = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  customMetricMonth: 0.3,
  logIngestGb: 0.5,
  interfaceEndpointHour: 0.01,
  standardAlarmMonth: 0.1,
  highResAlarmMonth: 0.3,
  syntheticsRun: 0.0012,
};
const RUNS_PER_MONTH = 43_800; // one a minute, 730 hours
const MEMORY_GB = 256 / 1024;

// 1. Zipped bundles, as osls packages them for Lambda, in each delivery mode; unzipped to be loaded as Lambda does.
const packaged = (delivery: 'log' | 'direct') => {
  const dir = mkdtempSync(join(tmpdir(), `canary-package-${delivery}-`));
  execFileSync(
    'npx',
    [
      'serverless',
      'package',
      '--stage',
      'bench',
      '--package',
      dir,
      '--param=configPath=examples/canary.config.json',
      '--param=subnetIds=subnet-00000000000000001,subnet-00000000000000002',
      '--param=securityGroupIds=sg-00000000000000001',
      `--param=delivery=${delivery}`,
    ],
    { stdio: 'ignore', env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAFAKE', AWS_SECRET_ACCESS_KEY: 'fake' } },
  );
  const zips = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.zip'))
      .map((zip) => {
        const unzipped = mkdtempSync(join(tmpdir(), `canary-${delivery}-${zip}-`));
        execFileSync('unzip', ['-q', join(dir, zip), '-d', unzipped]);
        return [zip.replace(/\.zip$/, ''), { bytes: statSync(join(dir, zip)).size, dir: unzipped }];
      }),
  );
  return zips as Record<'probe' | 'notify', { bytes: number; dir: string }>;
};
const shipped = { log: packaged('log'), direct: packaged('direct') };
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' });

const sandbox = await startSandbox({ deadlineMs: 10_000 });
try {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, sandbox.caPem);
  const configFor = (n: number) => {
    const file = join(dir, `targets-${n}.json`);
    // Packaged as `serverless package` packages it: the function bundles take nothing else.
    const config = parseConfig({
      region: REGION,
      dns: { servers: [sandbox.dns.server] },
      endpoints: {
        sts: sandbox.endpoints.sts,
        git: sandbox.endpoints.git,
        stsGlobal: sandbox.endpoints['sts-global'],
      },
      concurrency: 8,
      targets: Array.from({ length: n }, (_, i) => ({ name: `t${i}`, repository: 'test_repo', roleArn: ROLE_ARN })),
    });
    writeFileSync(file, packConfig(config));
    return file;
  };
  const env = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: DEMO_SOURCE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEMO_SOURCE_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    NODE_EXTRA_CA_CERTS: caFile,
    CANARY_STACK: 'bench',
  };

  // 2. Cold init: the import of each shipped handler (its bundled config, clients, everything done at load) in a fresh
  // Node 24 process, wall and CPU, in turns with a handler that only imports node:https (Node's own share).
  const baseline = join(dir, 'https-only.mjs');
  writeFileSync(baseline, "import 'node:https';\nexport const handler = async () => ({});\n");
  const handlers = {
    'probe (log)': { file: join(shipped.log.probe.dir, 'handlers/probe.js'), delivery: 'log' },
    'probe (direct)': { file: join(shipped.direct.probe.dir, 'handlers/probe.js'), delivery: 'direct' },
    notify: { file: join(shipped.log.notify.dir, 'handlers/notify.js'), delivery: 'log' },
    'node:https only': { file: baseline, delivery: 'log' },
  };
  const samples = new Map<string, Array<{ wallMs: number; cpuMs: number }>>();
  for (let round = 0; round < 7; round++) {
    for (const [name, { file, delivery }] of Object.entries(handlers)) {
      const out = await run(
        node24,
        [
          ...NODE_OPTIONS,
          '--input-type=module',
          '-e',
          `const t = performance.now(), c = process.cpuUsage(); await import(${JSON.stringify(file)});
           const u = process.cpuUsage(c); console.log(performance.now() - t, (u.user + u.system) / 1000);`,
        ],
        {
          env: {
            ...env,
            CANARY_DELIVERY: delivery,
            CANARY_TABLE: 't',
            CANARY_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:t',
          },
        },
      );
      const [wallMs = Number.NaN, cpuMs = Number.NaN] = out.stdout.trim().split(' ').map(Number);
      samples.set(name, [...(samples.get(name) ?? []), { wallMs, cpuMs }]);
    }
  }
  const init = Object.fromEntries(
    [...samples].map(([name, xs]) => [
      name,
      { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) },
    ]),
  );
  const reference = init['node:https only'] ?? { wallMs: Number.NaN, cpuMs: Number.NaN };

  // 3. One scheduled run of the probe bundle for 1, 10, 100 targets: duration and peak RSS.
  const runs: Array<{ targets: number; durationMs: number; rssMiB: number }> = [];
  for (const n of [1, 10, 100]) {
    const out = await run(
      node24,
      [
        ...NODE_OPTIONS,
        '--import',
        './bench/peak-rss.mjs',
        '--input-type=module',
        '-e',
        `const { handler } = await import('./dist/handlers/probe.mjs');
         const s = await handler({}, { getRemainingTimeInMillis: () => 60000 });
         if (s.failed.length) throw new Error('failed: ' + s.failed.join());
         process.stderr.write('duration ' + s.durationMs + '\\n');`,
      ],
      { env: { ...env, CANARY_CONFIG: configFor(n) }, maxBuffer: 64 * 1024 * 1024 },
    );
    runs.push({
      targets: n,
      durationMs: Number(/duration (\d+)/.exec(out.stderr)?.[1]),
      rssMiB: Number(/peak-rss-kb (\d+)/.exec(out.stderr)?.[1]) / 1024,
    });
  }

  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  console.log(
    `machine: ${machine}; bundles run on Node ${execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()}`,
  );
  console.log('\nzipped bundles (osls + serverless-esbuild), per delivery mode:');
  for (const delivery of ['log', 'direct'] as const) {
    const { probe, notify } = shipped[delivery];
    console.log(
      `  ${delivery.padEnd(6)}  probe.zip ${(probe.bytes / 1000).toFixed(0)} KB, notify.zip ${(notify.bytes / 1000).toFixed(0)} KB`,
    );
  }
  console.log(
    '\ncold init on Node 24, median of 7 (import of the shipped handler; CPU in brackets; x = against node:https only):',
  );
  for (const [name, { wallMs, cpuMs }] of Object.entries(init)) {
    console.log(
      `  ${name.padEnd(16)} ${`${wallMs.toFixed(0)} ms`.padStart(7)} (${cpuMs.toFixed(0)} ms CPU)  ${(wallMs / reference.wallMs).toFixed(1)}x`,
    );
  }
  console.log('\none scheduled run (probe bundle, log mode, concurrency 8, STS and git stand-ins on loopback):');
  console.log('  targets  duration   peak RSS   duration/target');
  for (const r of runs) {
    console.log(
      `  ${String(r.targets).padStart(7)}  ${`${r.durationMs} ms`.padStart(8)}  ${`${r.rssMiB.toFixed(0)} MiB`.padStart(8)}   ${(r.durationMs / r.targets).toFixed(1)} ms`,
    );
  }

  // 4. Monthly cost per target at a 1-minute schedule (100-target run's per-target share; real endpoints are slower).
  const perTargetSeconds = (runs.at(-1)?.durationMs ?? 0) / 100 / 1000;
  const lambda = perTargetSeconds * MEMORY_GB * RUNS_PER_MONTH * PRICE.lambdaGbSecondArm;
  const logs = ((2.2 * 1024 * RUNS_PER_MONTH) / 2 ** 30) * PRICE.logIngestGb; // ~2.2 KB of records + EMF per target-run
  const basic = customMetricCount('basic').perTarget * PRICE.customMetricMonth;
  const phases = customMetricCount('phases').perTarget * PRICE.customMetricMonth;
  const alarm = PRICE.standardAlarmMonth;
  const endpointsDirect = 2 * 2 * 730 * PRICE.interfaceEndpointHour; // monitoring + sns, 2 AZs
  const requests = RUNS_PER_MONTH * PRICE.lambdaRequest;
  const synthetics = RUNS_PER_MONTH * PRICE.syntheticsRun;
  const usd = (x: number) => `$${x < 0.1 ? x.toFixed(4) : x.toFixed(2)}`;
  console.log('\nmonthly cost per target, 1-minute schedule (USD):');
  console.log(`  Lambda arm64 GB-s (${(perTargetSeconds * 1000).toFixed(0)} ms x 256 MB)   ${usd(lambda)}`);
  console.log(`  log ingestion (records + EMF)               ${usd(logs)}`);
  console.log(`  custom metrics, basic (4) / phases (16)    ${usd(basic)} / ${usd(phases)}`);
  console.log(`  per-target alarm                            ${usd(alarm)}`);
  console.log(
    `  total, basic / phases                       ${usd(lambda + logs + basic + alarm)} / ${usd(lambda + logs + phases + alarm)}`,
  );
  console.log(`  CloudWatch Synthetics at $0.0012 per run    ${usd(synthetics)}`);
  console.log(
    'per stack: Lambda requests',
    usd(requests),
    '+ Heartbeat/Finding metrics',
    usd(customMetricCount('basic').perStack * PRICE.customMetricMonth),
    '+ heartbeat alarm',
    usd(alarm),
  );
  console.log(
    `direct mode adds the monitoring and sns interface endpoints (2 AZs): ${usd(endpointsDirect)} per VPC; log mode adds none`,
  );
  const sampled = 6;
  console.log(
    `samplesPerRun 6 + high resolution: the probe runs ~60 s each minute (${usd(60 * MEMORY_GB * RUNS_PER_MONTH * PRICE.lambdaGbSecondArm)} per stack),` +
      ` ${sampled}x log ingestion per target (${usd(logs * sampled)}), high-resolution alarms ${usd(PRICE.highResAlarmMonth)} instead of ${usd(alarm)}`,
  );
} finally {
  await sandbox.stop();
}
