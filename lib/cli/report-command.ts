/**
 * `codecommit-canary report`: availability, latency, incidents and silences of the deployed stack over a range,
 * for the terminal, as JSON or CSV, or as one self-contained HTML file. Fetching (lib/report/fetch.ts) apart from
 * the numbers (lib/report/compute.ts) and their rendering (lib/report/render-*.ts).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { parseDuration } from '../alerting/silences.ts';
import { DEFAULT_NAMESPACE } from '../metrics/catalogue.ts';
import { describeError } from '../net/aws-clients.ts';
import { type Bucket, computeReport } from '../report/compute.ts';
import { fetchReportData, UnknownTargetError } from '../report/fetch.ts';
import { renderReportHtml } from '../report/render-html.ts';
import { formatReportCsv, formatReportText } from '../report/render-text.ts';
import type { Io } from './cli.ts';
import { openStack, STACK_OPTIONS, StackInputError } from './stack.ts';

export const REPORT_USAGE = `Usage: codecommit-canary report [--since 7d] [--target <name>]... [--json | --csv | --html <file>]
                                [--slo 99.9] [--by day|week|month] (--stack <name> | --table <name>) [-c <config>]

Availability per target and step from the Success metric (counting muted time and leaving it out, both
labelled), runs missing apart from failures, p50/p95/p99 of Duration and each phase, incidents from the alert
table's history, time muted, findings seen, and the SLO with the error budget left.

Options:
      --since <duration>  how far back: 1d, 7d, 30d (default 7d)
      --until <time>      the end, an ISO-8601 time (default now)
  -t, --target <name>     only this target (repeatable)
      --json | --csv      machine-readable output
      --html <file>       write one self-contained HTML file with charts (no external resources)
      --slo <percent>     the availability objective (default 99.9)
      --by <bucket>       day, week or month (default day)
      --namespace <ns>    the metrics namespace (default the config's, or ${DEFAULT_NAMESPACE})
  and the stack options of mute: --stack, --table, -c/--config, --profile, --region
`;

const OPTIONS = {
  ...STACK_OPTIONS,
  since: { type: 'string' },
  until: { type: 'string' },
  target: { type: 'string', short: 't', multiple: true },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  html: { type: 'string' },
  slo: { type: 'string' },
  by: { type: 'string' },
  namespace: { type: 'string' },
} as const;

/**
 * @example
 * process.exitCode = await reportCommand(['--since', '7d', '--stack', 'codecommit-canary', '--html', 'r.html'], io);
 */
export async function reportCommand(argv: string[], io: Io): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
    if (values.help) {
      io.stdout.write(REPORT_USAGE);
      return 0;
    }
    const sinceMs = parseDuration(values.since ?? '7d');
    if (sinceMs === null || sinceMs > 455 * 86_400_000) {
      throw new StackInputError('--since: expected a duration like 1d, 7d or 30d (CloudWatch keeps 455 days)');
    }
    const slo = Number(values.slo ?? '99.9');
    if (!Number.isFinite(slo) || slo <= 0 || slo >= 100)
      throw new StackInputError('--slo: expected a percent like 99.9');
    const bucket = (values.by ?? 'day') as Bucket;
    if (!['day', 'week', 'month'].includes(bucket)) throw new StackInputError('--by: expected day, week or month');
    if ([values.json, values.csv, values.html !== undefined].filter(Boolean).length > 1) {
      throw new StackInputError('give one of --json, --csv and --html');
    }
    const stack = await openStack(values, io.env);
    const end = values.until === undefined ? Date.now() : Date.parse(values.until);
    if (Number.isNaN(end)) throw new StackInputError('--until: expected an ISO-8601 time like 2026-11-29T00:00:00Z');
    const until = new Date(Math.floor(end / 60_000) * 60_000);
    const since = new Date(until.getTime() - sinceMs);
    const cloudwatch = new CloudWatchClient(stack.clientConfig());
    let data: Awaited<ReturnType<typeof fetchReportData>>;
    try {
      data = await fetchReportData({
        cloudwatch,
        table: stack.table,
        namespace: values.namespace ?? stack.config?.metrics.namespace ?? DEFAULT_NAMESPACE,
        since,
        until,
        targets: values.target,
      });
    } catch (error) {
      if (error instanceof UnknownTargetError) throw new StackInputError(error.message);
      throw new StackInputError(`cannot read the metrics or table ${stack.table.tableName}: ${describeError(error)}`);
    } finally {
      cloudwatch.destroy();
    }
    const report = computeReport({
      ...data,
      since,
      until,
      bucket,
      slo,
      samplesPerMinute: stack.config?.schedule.samplesPerRun ?? 1,
      windows: stack.config?.alerts.mute ?? [],
    });
    if (values.html !== undefined) {
      await writeFile(values.html, renderReportHtml(report));
      io.stdout.write(`wrote ${values.html}\n`);
    } else if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (values.csv) io.stdout.write(formatReportCsv(report));
    else io.stdout.write(formatReportText(report));
    return 0;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof StackInputError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`codecommit-canary report: ${(error as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw error;
  }
}
