import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertTable } from '../harness/alert-path.ts';
import { type Moto, startMoto } from '../harness/moto.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { motoClientOptions } from '../harness/sqs.ts';
import { historyKey } from '../lib/alerting/history.ts';
import { SilenceStore } from '../lib/alerting/silence-store.ts';
import { createAlertTableClient, DynamoDbTable } from '../lib/alerting/versioned-table.ts';
import { boundedClientConfig } from '../lib/net/aws-clients.ts';
import type { Report } from '../lib/report/compute.ts';
import { motoCliEnv } from './support/moto-cli-env.ts';
import { runCli } from './support/run-cli.ts';

const TABLE = 'report-stack-IncidentTable-0A1B2C3D';
const MINUTES = 1440;
/** The report's end: a whole minute, so the 1,440 minutes written are exactly the range. */
const UNTIL = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000);
const minute = (i: number) => new Date(UNTIL.getTime() - (MINUTES - i) * 60_000);
/** git fails in 3 of the 1,440 runs; sts never. */
const FAILED = new Set([100, 700, 1300]);

let pki: TestPki;
let moto: Moto;
let env: NodeJS.ProcessEnv;
let dir: string;

async function writeMetrics(cloudwatch: CloudWatchClient): Promise<void> {
  const data: MetricDatum[] = [];
  for (let i = 0; i < MINUTES; i++) {
    for (const step of ['sts', 'git']) {
      const Dimensions = [
        { Name: 'Target', Value: 'report-repo' },
        { Name: 'Step', Value: step },
      ];
      const ok = step === 'sts' || !FAILED.has(i);
      data.push({ MetricName: 'Success', Dimensions, Timestamp: minute(i), Value: ok ? 1 : 0, Unit: 'Count' });
      // Duration: 1..100 ms for sts, 101..200 ms for git, each value 14 or 15 times.
      const duration = (i % 100) + (step === 'git' ? 101 : 1);
      data.push({ MetricName: 'Duration', Dimensions, Timestamp: minute(i), Value: duration, Unit: 'Milliseconds' });
    }
  }
  // A finding seen in 5 runs (0 in the others, as the probe writes it).
  for (let i = 0; i < 10; i++) {
    data.push({
      MetricName: 'Finding',
      Dimensions: [
        { Name: 'Stack', Value: 'report-stack' },
        { Name: 'Code', Value: 'certificate-expiring' },
      ],
      Timestamp: minute(i),
      Value: i < 5 ? 1 : 0,
      Unit: 'Count',
    });
  }
  for (let start = 0; start < data.length; start += 500) {
    await cloudwatch.send(
      new PutMetricDataCommand({ Namespace: 'CanaryReportTest', MetricData: data.slice(start, start + 500) }),
    );
  }
}

beforeAll(async () => {
  pki = createTestPki();
  moto = await startMoto(pki);
  const options = motoClientOptions(moto, pki, 10_000);
  // moto 5.2 decompresses a gzip body twice (the SDK gzips PutMetricData above 10 KB).
  const cloudwatch = new CloudWatchClient({ ...boundedClientConfig(options), disableRequestCompression: true });
  await writeMetrics(cloudwatch);
  cloudwatch.destroy();
  const dynamodb = createAlertTableClient(options);
  await createAlertTable(dynamodb, TABLE);
  const table = new DynamoDbTable(dynamodb, TABLE);
  // One incident (git timed out in tls for 2 runs) and a silence of 60 minutes, as the notifier and mute write them.
  const current = await table.read('report-repo', AbortSignal.timeout(3000));
  await table.write(current, { state: { status: 'ok' }, owed: [] }, AbortSignal.timeout(3000), [
    {
      key: historyKey('report-repo', minute(701).toISOString()),
      attributes: {
        type: 'incident',
        openedAt: minute(701).toISOString(),
        failingSince: minute(700).toISOString(),
        closedAt: minute(702).toISOString(),
        durationMs: 120_000,
        failure: { step: 'git', kind: 'timeout', phase: 'tls' },
        reminders: 0,
        silenced: false,
        paged: true,
        expiresAt: 0,
      },
    },
  ]);
  const clock = { now: () => minute(1200) };
  await new SilenceStore(table, { clock }).mute({
    target: 'report-repo',
    from: minute(1200).toISOString(),
    until: minute(1260).toISOString(),
    reason: 'endpoint swap',
    by: 'arn:aws:iam::123456789012:user/ana',
  });
  dynamodb.destroy();
  dir = mkdtempSync(join(tmpdir(), 'canary-report-'));
  env = motoCliEnv(moto, pki, dir);
}, 120_000);
afterAll(async () => moto?.stop());

const report = (...args: string[]) =>
  runCli(
    [
      'report',
      '--since',
      '1d',
      '--until',
      UNTIL.toISOString(),
      '--table',
      TABLE,
      '--namespace',
      'CanaryReportTest',
      ...args,
    ],
    env,
  );

describe('codecommit-canary report from moto CloudWatch and the alert table', () => {
  it('--json: 3 failures in 1,440 minutes is 99.79 %, none missing; latency percentiles; the incident and the silence', async () => {
    const run = await report('--json');
    expect(run.stderr).toBe('');
    const json = JSON.parse(run.stdout) as Report;
    const [target] = json.targets;
    expect(target?.target).toBe('report-repo');
    expect(target?.availability).toEqual({ good: 1437, samples: 1440, percent: (1437 / 1440) * 100 });
    expect(target?.availability.percent?.toFixed(2)).toBe('99.79');
    expect([target?.missingSamples, target?.expectedSamples, target?.failedSamples]).toEqual([0, 1440, 3]);
    // The silence's 60 minutes hold no failure: leaving them out, 1,377 of 1,380.
    expect(target?.mutedMinutes).toBe(60);
    expect(target?.availabilityUnmuted).toMatchObject({ good: 1377, samples: 1380 });
    // Nearest rank over the 1,440 per-minute values (101..140 fifteen times each, 141..200 fourteen times):
    // rank 720 is 149, rank 1,368 is 195, rank 1,426 is 199.
    const git = target?.steps.find((s) => s.step === 'git');
    expect(git?.latency.find((l) => l.metric === 'Duration')).toEqual({
      metric: 'Duration',
      p50: 149,
      p95: 195,
      p99: 199,
    });
    expect(target?.incidents).toMatchObject([{ openedAt: minute(701).toISOString(), durationMs: 120_000 }]);
    expect(json.silences).toMatchObject([{ target: 'report-repo', reason: 'endpoint swap' }]);
    expect(json.findings).toEqual([{ code: 'certificate-expiring', runs: 5 }]);
    // SLO 99.9 % of 1,440 minutes is a budget of 1.44 minutes; 3 failed minutes leave -1.56.
    expect(target?.slo.met).toBe(false);
    expect(target?.slo.budgetLeftMinutes).toBeCloseTo(-1.56, 5);
  });

  it('text: one sparkline row per target, the SLO line and the incident; csv: one row per target and step', async () => {
    const text = await report('--slo', '99.5');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^report-repo\s+99\.79 %\s+[▁▂▃▄▅▆▇█·]{48}$/m);
    expect(text.stdout).toContain('SLO 99.5 %: met');
    expect(text.stdout).toContain('missing 0 of 1440 expected');
    expect(text.stdout).toMatch(/incident \S+: 2 min, git timeout in tls/);
    const csv = await report('--csv');
    const rows = csv.stdout.trim().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(/^report-repo,all,99\.79166/);
  });

  it('bad input is one line and exit 2', async () => {
    for (const [args, message] of [
      [['--target', 'nobody'], /--target: no metrics for nobody/],
      [['--by', 'year'], /--by: expected day, week or month/],
      [['--slo', '100'], /--slo/],
    ] as const) {
      const run = await report(...args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const unreadable = await runCli(['report', '--since', '1d', '--table', 'no-such-table'], env);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/cannot read the metrics or table no-such-table/);
  });

  it('--html: one self-contained file that headless Chromium renders with its charts', async () => {
    const file = join(dir, 'report.html');
    const run = await report('--html', file, '--by', 'day');
    expect(run.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    // Nothing fetched: no script, link, font or URL outside the file.
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org)/i);
    const chromium = (...args: string[]) =>
      spawnSync(
        'chromium',
        ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', ...args, `file://${file}`],
        {
          encoding: 'buffer',
          timeout: 60_000,
          env: { ...process.env, HOME: dir },
        },
      );
    const dom = chromium('--dump-dom').stdout.toString('utf8');
    expect(dom.match(/<svg class="chart availability"/g)).toHaveLength(1);
    expect(dom.match(/<svg class="chart latency"/g)).toHaveLength(1);
    expect(dom.match(/class="availability-bar"/g)?.length).toBeGreaterThanOrEqual(1);
    expect(dom.match(/class="failure-mark"/g)).toHaveLength(3);
    expect(dom).toContain('<polyline class="latency-line"');
    expect(dom.match(/<tr class="incident">/g)).toHaveLength(1);
    const shot = join(dir, 'report.png');
    const screenshot = chromium(`--screenshot=${shot}`, '--window-size=900,1000', '--hide-scrollbars');
    expect(screenshot.status).toBe(0);
    const png = PNG.sync.read(readFileSync(shot));
    expect([png.width, png.height]).toEqual([900, 1000]);
    // Non-blank: many pixels far from white, in more than a few colours (text, bars, the line).
    let inked = 0;
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i] ?? 255, png.data[i + 1] ?? 255, png.data[i + 2] ?? 255];
      if (r + g + b < 600) inked++;
      colours.add((r << 16) | (g << 8) | b);
    }
    expect(inked).toBeGreaterThan(5000);
    expect(colours.size).toBeGreaterThan(20);
  }, 120_000);
});
