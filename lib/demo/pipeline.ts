/**
 * One scheduled run the way the deployed stack does it, in one process: the probe Lambda's `runMonitor` (log
 * mode: records to its log, metrics to a sink), the log subscription hop (gzip + base64), and the notifier's
 * decode → incident and finding state → alert sink. Only the transports are local: a buffer for the log, memory
 * for DynamoDB, the console for SNS and CloudWatch.
 */
import type { IncidentState } from '../alerting/incident-policy.ts';
import { notify, readIncidentState } from '../alerting/notify.ts';
import { Outbox } from '../alerting/outbox.ts';
import { SilenceStore } from '../alerting/silence-store.ts';
import { ALL_TARGETS } from '../alerting/silences.ts';
import { type AlertSink, ConsoleAlertSink, type Delivery } from '../alerting/sinks.ts';
import type { AnyAlert } from '../alerting/text.ts';
import { MemoryTable } from '../alerting/versioned-table.ts';
import { systemClock } from '../clock.ts';
import { jsonLogger, type Writer } from '../log.ts';
import { decodeSubscriptionEvent, encodeSubscriptionEvent, probeLogGroupName } from '../metrics/log-records.ts';
import type { Report as ProbeReport } from '../report/compute.ts';
import { type RunSummary, runMonitor } from '../run/monitor.ts';
import { PROBE_ACCOUNT, type Sandbox } from '../sandbox/sandbox.ts';
import type { Report } from '../types.ts';
import { demoReport, type PlayedRun } from './demo-report.ts';
import { MetricLineSink } from './metric-line.ts';

export const DEMO_STACK = 'codecommit-canary-demo';

/** Collects what is written to it; `take` empties it. */
class TextBuffer implements Writer {
  #text = '';
  write(chunk: string): boolean {
    this.#text += chunk;
    return true;
  }
  take(): string {
    const text = this.#text;
    this.#text = '';
    return text;
  }
}

/** Remembers every alert, then hands it on: the summary and the test list what was sent. */
class RecordingAlertSink implements AlertSink {
  readonly sent: AnyAlert[] = [];
  constructor(private readonly inner: AlertSink) {}
  async send(alert: AnyAlert): Promise<Delivery> {
    this.sent.push(alert);
    return this.inner.send(alert);
  }
}

export interface RunOutcome {
  summary: RunSummary;
  /** The report as the notifier saw it: rebuilt from the records decoded out of the subscription event. */
  report: Report;
  /** What the subscription hop carried. */
  delivery: { records: number; rejected: number; base64Bytes: number };
  /** This run's alerts (pages and finding notifications), and exactly what `ConsoleAlertSink` printed for them. */
  alerts: AnyAlert[];
  alertText: string;
  /** Incident state per target after this run. */
  incidents: IncidentState[];
  metricLine: string;
  /** Whatever the notifier logged (normally nothing). */
  notifierLog: string[];
}

export class DemoPipeline {
  readonly #sandbox: Sandbox;
  readonly #log = new TextBuffer();
  readonly #alertOutput = new TextBuffer();
  readonly #notifierOutput = new TextBuffer();
  readonly #metrics: MetricLineSink;
  /** The notifier's table, in memory: incident and finding state with the owed notifications. */
  readonly #table = new MemoryTable();
  readonly #alerts: RecordingAlertSink;
  readonly #silences = new SilenceStore(this.#table, { clock: systemClock });
  readonly #played: PlayedRun[] = [];

  constructor(sandbox: Sandbox) {
    this.#sandbox = sandbox;
    this.#metrics = new MetricLineSink(sandbox.config.metrics.namespace);
    this.#alerts = new RecordingAlertSink(new ConsoleAlertSink(this.#alertOutput));
  }

  /** Every alert sent so far, oldest first. */
  get alerts(): readonly AnyAlert[] {
    return this.#alerts.sent;
  }

  /** `mute --all` with this reason (who: the demo's caller), or `unmute --all` for null. */
  async silence(reason: string | null): Promise<void> {
    const active = (await this.#silences.list()).length > 0;
    if (reason === null) {
      if (active) await this.#silences.unmute('all');
      return;
    }
    if (active) return;
    const from = systemClock.now();
    await this.#silences.mute({
      target: ALL_TARGETS,
      from: from.toISOString(),
      until: new Date(from.getTime() + 10 * 60_000).toISOString(),
      reason,
      by: `arn:aws:iam::${PROBE_ACCOUNT}:user/demo`,
    });
  }

  /** The report `codecommit-canary report` would print, over the runs played so far. */
  report(intervalMs: number): Promise<ProbeReport> {
    return demoReport(this.#played, this.#table, { intervalMs, slo: 99 });
  }

  async run(): Promise<RunOutcome> {
    const { config, targets, deps } = this.#sandbox;
    const { stsMs, gitMs } = config.timeouts;
    const fetchMs = config.fetch.enabled ? config.fetch.timeoutMs : 0;
    const sentBefore = this.#alerts.sent.length;
    // Probe Lambda, log mode: records go to its log, metrics to the sink; no alerts from here.
    const summary = await runMonitor(
      config,
      targets,
      { probe: deps, metrics: this.#metrics, log: this.#log },
      { stack: DEMO_STACK, budgetMs: stsMs + gitMs + fetchMs + 500 },
    );
    const lines = this.#log.take().split('\n').filter(Boolean);
    const source = { owner: PROBE_ACCOUNT, logGroup: probeLogGroupName(DEMO_STACK) };
    const event = encodeSubscriptionEvent(lines, {
      ...source,
      logStream: `${summary.startedAt.slice(0, 10).replace(/-/g, '/')}/[$LATEST]0123456789abcdef0123456789abcdef`,
    });
    // Notifier Lambda (handlers/notify.ts): decode the delivery, apply it to incident and finding state, send.
    const { records, findings, rejected } = decodeSubscriptionEvent(event, {
      logGroup: source.logGroup,
      account: source.owner,
    });
    await notify(records, findings, {
      outbox: new Outbox(this.#table, { clock: systemClock }),
      sink: this.#alerts,
      logger: jsonLogger(this.#notifierOutput),
      settings: config.alerts,
      clock: systemClock,
    });
    const results = records.map((record) => record.result);
    this.#played.push({ at: Date.parse(summary.startedAt), results });
    return {
      summary,
      report: {
        ok: results.every((r) => r.ok),
        startedAt: summary.startedAt,
        durationMs: summary.durationMs,
        targets: results,
        findings: findings.flatMap((record) => record.findings),
      },
      delivery: { records: records.length + findings.length, rejected, base64Bytes: event.awslogs.data.length },
      alerts: this.#alerts.sent.slice(sentBefore),
      alertText: this.#alertOutput.take(),
      incidents: (
        await Promise.all(targets.map(async (t) => readIncidentState((await this.#table.read(t.name)).state, t.name)))
      ).flatMap((state) => state ?? []),
      metricLine: this.#metrics.line,
      notifierLog: this.#notifierOutput.take().split('\n').filter(Boolean),
    };
  }
}
