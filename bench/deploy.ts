// What the deployed monitor costs to run: the zips `serverless package` makes in each delivery mode, their cold start
// on Node 24 (median of 7: the import alone, against a handler that only imports node:https, in the same run; and the
// import with the first invocation, so work moved from init to first use still shows), probe duration and peak RSS
// for 1, 10 and 100 targets against the sandbox's stand-ins (lib/sandbox, as the demo runs them), and the monthly
// cost per target at a 1-minute schedule. Direct mode's CloudWatch, DynamoDB and SNS are moto (harness/moto.ts).
// Run: npm run bench:deploy   (builds the bundles and packages the stack with osls first)
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { createAlertTable } from '../harness/alert-path.ts';
import { startMoto } from '../harness/moto.ts';
import { createTestPki } from '../harness/sandbox.ts';
import { createSnsClient } from '../lib/alerting/sinks.ts';
import { createAlertTableClient } from '../lib/alerting/versioned-table.ts';
import { parseConfig } from '../lib/config/config.ts';
import { packConfig } from '../lib/config/packaged.ts';
import { customMetricCount } from '../lib/metrics/catalogue.ts';
import { encodeSubscriptionEvent, probeLogGroupName } from '../lib/metrics/log-records.ts';
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
const packaged = (delivery: 'log' | 'direct', configPath = 'examples/canary.config.json') => {
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
      `--param=configPath=${configPath}`,
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
  const rawConfigFor = (n: number) => ({
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
  const configFor = (n: number) => {
    const file = join(dir, `targets-${n}.json`);
    // Packaged as `serverless package` packages it: the function bundles take nothing else.
    writeFileSync(file, packConfig(parseConfig(rawConfigFor(n))));
    return file;
  };
  // Bytes a log-mode run writes per target (its result record and EMF; the run's own lines shared out), measured.
  let logBytesPerTarget = Number.NaN;
  const samples = new Map<
    string,
    Array<{ initWallMs: number; initCpuMs: number; firstWallMs: number; firstCpuMs: number }>
  >();
  const env = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: DEMO_SOURCE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEMO_SOURCE_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    NODE_EXTRA_CA_CERTS: caFile,
    CANARY_STACK: 'bench',
  };

  // 2. Cold start of each handler as osls packages it, with a config of the stand-ins (the example's endpoints are
  // AWS's), in a fresh Node 24 process, in turns with a handler that only imports node:https (Node's own share): the
  // import (init: the bundled config, clients, everything done at load), then a first invocation in the same
  // process: one scheduled run of 2 targets (direct mode: its metrics, table and topic on moto), and the notifier
  // on that run's records as the subscription delivers them. Wall and CPU of the process, each from the start.
  const pki = createTestPki();
  const moto = await startMoto(pki);
  try {
    const caBundle = join(dir, 'ca-bundle.pem');
    writeFileSync(caBundle, `${sandbox.caPem}\n${readFileSync(pki.caFile, 'utf8')}`);
    const awsOptions = {
      region: REGION,
      endpoint: moto.url,
      ca: readFileSync(pki.caFile),
      credentials: DEMO_SOURCE_CREDENTIALS,
    };
    const table = 'bench-alerts';
    await createAlertTable(createAlertTableClient(awsOptions), table);
    const topicArn = (await createSnsClient(awsOptions).send(new CreateTopicCommand({ Name: 'bench-alerts' })))
      .TopicArn;
    const rawConfig = join(dir, 'stand-ins.json');
    writeFileSync(rawConfig, JSON.stringify(rawConfigFor(2)));
    const standIns = { log: packaged('log', rawConfig), direct: packaged('direct', rawConfig) };
    const account = '111111111111';
    const coldEnv = {
      ...env,
      NODE_EXTRA_CA_CERTS: caBundle,
      AWS_ENDPOINT_URL: moto.url,
      CANARY_TABLE: table,
      CANARY_TOPIC_ARN: topicArn,
      CANARY_STACK: 'bench',
    };
    const functionArn = `arn:aws:lambda:${REGION}:${account}:function:bench-notify`;
    /**
     * Import, then invoke once with the event in `eventFile`; prints init and init + first invocation. Nothing runs
     * before the import (the event comes in the environment): a module loaded first would be missing from init.
     */
    const coldStart = async (file: string, delivery: 'log' | 'direct', eventFile: string) => {
      const out = await run(
        node24,
        [
          ...NODE_OPTIONS,
          '--input-type=module',
          '-e',
          `const context = { invokedFunctionArn: ${JSON.stringify(functionArn)}, getRemainingTimeInMillis: () => 60000 };
           const cpu = (c) => { const u = process.cpuUsage(c); return (u.user + u.system) / 1000; };
           const t = performance.now(), c = process.cpuUsage();
           const { handler } = await import(${JSON.stringify(file)});
           const init = [performance.now() - t, cpu(c)];
           const result = await handler(JSON.parse(process.env.CANARY_BENCH_EVENT), context);
           process.stderr.write('cold ' + [...init, performance.now() - t, cpu(c)].join(' ') + '\\n');
           process.stderr.write('result ' + JSON.stringify(result) + '\\n');`,
        ],
        {
          env: { ...coldEnv, CANARY_DELIVERY: delivery, CANARY_BENCH_EVENT: readFileSync(eventFile, 'utf8') },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const [initWallMs = Number.NaN, initCpuMs = Number.NaN, firstWallMs = Number.NaN, firstCpuMs = Number.NaN] = (
        /^cold (.*)$/m.exec(out.stderr)?.[1] ?? ''
      )
        .split(' ')
        .map(Number);
      // The first invocation must have done its whole job, or the figure would be a short cut's.
      const result = JSON.parse(/^result (.*)$/m.exec(out.stderr)?.[1] ?? '{}');
      const incomplete =
        result.failed?.length > 0 ||
        (delivery === 'direct' && (result.metrics?.published === 0 || result.metrics?.fallback > 0)) ||
        result.alerts?.stateUnavailable ||
        result.stateUnavailable ||
        result.records === 0;
      if (incomplete) throw new Error(`${file}: the first invocation fell short: ${JSON.stringify(result)}`);
      return { out, initWallMs, initCpuMs, firstWallMs, firstCpuMs };
    };
    const noEvent = join(dir, 'no-event.json');
    writeFileSync(noEvent, '{}');
    const probeLog = join(standIns.log.probe.dir, 'handlers/probe.js');
    // The notifier's event: a log-mode run's records, delivered as the stack's subscription does (dated now).
    const probeStdout = (await coldStart(probeLog, 'log', noEvent)).out.stdout;
    logBytesPerTarget = Buffer.byteLength(probeStdout) / 2; // rawConfigFor(2): two targets
    const recordsEvent = join(dir, 'records-event.json');
    const deliverRecords = () =>
      writeFileSync(
        recordsEvent,
        JSON.stringify(
          encodeSubscriptionEvent(probeStdout.split('\n'), {
            owner: account,
            logGroup: probeLogGroupName('bench'),
            logStream: '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef',
          }),
        ),
      );
    const baseline = join(dir, 'https-only.mjs');
    writeFileSync(baseline, "import 'node:https';\nexport const handler = async () => ({});\n");
    const handlers = {
      'probe (log)': { file: probeLog, delivery: 'log', event: noEvent },
      'probe (direct)': {
        file: join(standIns.direct.probe.dir, 'handlers/probe.js'),
        delivery: 'direct',
        event: noEvent,
      },
      notify: { file: join(standIns.log.notify.dir, 'handlers/notify.js'), delivery: 'log', event: recordsEvent },
      'node:https only': { file: baseline, delivery: 'log', event: noEvent },
    } as const;
    for (let round = 0; round < 7; round++) {
      deliverRecords();
      for (const [name, { file, delivery, event }] of Object.entries(handlers)) {
        const { out: _, ...sample } = await coldStart(file, delivery, event);
        samples.set(name, [...(samples.get(name) ?? []), sample]);
      }
    }
  } finally {
    await moto.stop();
  }
  const cold = Object.fromEntries(
    [...samples].map(([name, xs]) => [
      name,
      {
        initWallMs: median(xs.map((x) => x.initWallMs)),
        initCpuMs: median(xs.map((x) => x.initCpuMs)),
        firstWallMs: median(xs.map((x) => x.firstWallMs)),
        firstCpuMs: median(xs.map((x) => x.firstCpuMs)),
      },
    ]),
  );
  const reference = cold['node:https only'] ?? { initWallMs: Number.NaN };

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
    '\ncold start on Node 24, median of 7, a fresh process each (CPU in brackets; x = init against node:https only):',
  );
  console.log('                   init (import)                  init + first invocation');
  for (const [name, { initWallMs, initCpuMs, firstWallMs, firstCpuMs }] of Object.entries(cold)) {
    console.log(
      `  ${name.padEnd(16)} ${`${initWallMs.toFixed(0)} ms`.padStart(7)} (${`${initCpuMs.toFixed(0)} ms CPU`.padStart(10)}) ${`${(initWallMs / reference.initWallMs).toFixed(1)}x`.padStart(6)}    ${`${firstWallMs.toFixed(0)} ms`.padStart(7)} (${firstCpuMs.toFixed(0)} ms CPU)`,
    );
  }
  console.log(
    '  first invocation: one run of 2 targets against the stand-ins (direct mode: metrics, table and topic on moto);' +
      " the notifier on that run's records; its wall time includes moto's",
  );
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
  const logs = ((logBytesPerTarget * RUNS_PER_MONTH) / 2 ** 30) * PRICE.logIngestGb;
  const basicCount = customMetricCount('basic').perTarget;
  const phasesCount = customMetricCount('phases').perTarget;
  const basic = basicCount * PRICE.customMetricMonth;
  const phases = phasesCount * PRICE.customMetricMonth;
  const alarm = PRICE.standardAlarmMonth;
  const endpointsDirect = 2 * 2 * 730 * PRICE.interfaceEndpointHour; // monitoring + sns, 2 AZs
  const requests = RUNS_PER_MONTH * PRICE.lambdaRequest;
  const synthetics = RUNS_PER_MONTH * PRICE.syntheticsRun;
  const usd = (x: number) => `$${x < 0.1 ? x.toFixed(4) : x.toFixed(2)}`;
  console.log('\nmonthly cost per target, 1-minute schedule (USD):');
  console.log(`  Lambda arm64 GB-s (${(perTargetSeconds * 1000).toFixed(0)} ms x 256 MB)   ${usd(lambda)}`);
  console.log(`  log ingestion (records + EMF, ${(logBytesPerTarget / 1024).toFixed(1)} KiB per run)   ${usd(logs)}`);
  console.log(`  custom metrics, basic (${basicCount}) / phases (${phasesCount})    ${usd(basic)} / ${usd(phases)}`);
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
