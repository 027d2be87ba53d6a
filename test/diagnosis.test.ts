import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPath } from '../harness/alert-path.ts';
import { issueServerCertificate, type Sandbox, startSandbox } from '../harness/sandbox.ts';
import type { AlertSink } from '../lib/alerting/sinks.ts';
import type { AnyAlert } from '../lib/alerting/text.ts';
import { parseConfig } from '../lib/config/config.ts';
import { jsonLogger } from '../lib/log.ts';
import type { Datapoint } from '../lib/metrics/catalogue.ts';
import type { MetricSink } from '../lib/metrics/sinks.ts';
import { serversResolve } from '../lib/net/resolve.ts';
import { findingsFor } from '../lib/run/diagnosis.ts';
import { runMonitor } from '../lib/run/monitor.ts';
import { probeAll } from '../lib/run/probe.ts';
import { connectHang, type FaultEndpoint, type FaultServer, faultServer } from '../lib/sandbox/fault-servers.ts';

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const baseConfig = (extra: Record<string, unknown> = {}) =>
  parseConfig({
    region: 'us-east-1',
    alerts: { failuresBeforeAlert: 1, renotifyMinutes: 60 },
    targets: [{ name: 'team-repo', repository: 'test_repo', roleArn: ROLE }],
    ...extra,
  });

/** An alert sink that keeps what it was given. */
class RecordingSink implements AlertSink {
  sent: AnyAlert[] = [];
  async send(alert: AnyAlert) {
    this.sent.push(alert);
    return { delivered: true as const };
  }
  take() {
    const taken = this.sent.map((a) => `${a.attributes.state} ${a.attributes.kind}`);
    this.sent = [];
    return taken;
  }
}

/** A metric sink that keeps the datapoints. */
class RecordingMetrics implements MetricSink {
  readonly name = 'recording';
  points: Datapoint[] = [];
  async publish(points: readonly Datapoint[]) {
    this.points.push(...points);
    return { sink: this.name, published: points.length, fallback: 0, failed: 0, reason: null, durationMs: 0 };
  }
}

let sandbox: Sandbox;
let hang: FaultEndpoint;
beforeAll(async () => {
  sandbox = await startSandbox();
  hang = await connectHang();
});
afterAll(async () => {
  await hang?.stop();
  await sandbox?.stop();
});

const quiet = jsonLogger({ write: () => true });

describe('global STS reachability', () => {
  it('a hanging global endpoint beside a working regional one: one finding, one notification, cleared once', async () => {
    const sink = new RecordingSink();
    const alerts = alertPath({ sink, logger: quiet });
    const deps = { probe: sandbox.deps, metrics: new RecordingMetrics(), log: { write: () => true }, alerts };
    const config = (stsGlobal: string) =>
      baseConfig({ endpoints: { stsGlobal }, timeouts: { stsMs: 5000, gitMs: 5000, stsGlobalMs: 500 } });
    const targets = [sandbox.target()];
    const run = (stsGlobal: string) => runMonitor(config(stsGlobal), targets, deps, { stack: 's', budgetMs: 20_000 });

    const first = await run(hang.url);
    expect(first.ok).toBe(true);
    expect(first.findings.map((f) => [f.code, f.severity])).toEqual([['global-sts-unreachable', 'warning']]);
    expect(first.findings[0]?.message).toContain('timeout in connect');
    expect(first.findings[0]?.remediation).toContain('sts_regional_endpoints = regional');
    expect(sink.take()).toEqual(['FINDING global-sts-unreachable']);
    await run(hang.url);
    expect(sink.take()).toEqual([]); // still there: not announced again
    await run(sandbox.stsEndpoint); // the global endpoint answers now (moto)
    expect(sink.take()).toEqual(['CLEARED global-sts-unreachable']);
    expect(
      deps.metrics.points
        .filter((p) => p.name === 'Finding' && p.dimensions.Code === 'global-sts-unreachable')
        .map((p) => p.value),
    ).toEqual([1, 1, 0]);
  });

  it('no finding when the regional endpoint fails too (that is an outage, paged as such)', async () => {
    const config = baseConfig({
      endpoints: { stsGlobal: hang.url },
      timeouts: { stsMs: 500, gitMs: 500, stsGlobalMs: 500 },
    });
    const report = await probeAll(
      [sandbox.target({ stsEndpoint: hang.url, timeouts: { stsMs: 500, gitMs: 500 } })],
      sandbox.deps,
      {
        concurrency: 1,
        diagnosis: config,
      },
    );
    expect(report.ok).toBe(false);
    expect(report.findings.filter((f) => f.code === 'global-sts-unreachable')).toEqual([]);
  });
});

describe('PrivateLink path: the canonical names, resolved only', () => {
  const pathConfig = (network: Record<string, unknown>) =>
    baseConfig({ checks: { globalSts: false, path: true, certificateDays: 14 }, network });
  const answer = (a: string[]) => {
    sandbox.dns.set('sts.us-east-1.amazonaws.com', { a });
    sandbox.dns.set('git-codecommit.us-east-1.amazonaws.com', { a });
  };
  const probe = (network: Record<string, unknown>) =>
    probeAll([sandbox.target()], sandbox.deps, { concurrency: 1, diagnosis: pathConfig(network) });

  it('public addresses → endpoint-not-private, critical in a closed VPC, naming the endpoint services', async () => {
    answer(['52.119.160.1']); // a public address, only ever resolved here, never contacted
    const open = await probe({});
    expect(open.findings.map((f) => [f.code, f.severity, f.subject])).toEqual([
      ['endpoint-not-private', 'warning', 'sts.us-east-1.amazonaws.com'],
      ['endpoint-not-private', 'warning', 'git-codecommit.us-east-1.amazonaws.com'],
    ]);
    expect(open.findings[0]?.remediation).toContain('com.amazonaws.us-east-1.sts');
    expect(open.findings[1]?.remediation).toContain('com.amazonaws.us-east-1.git-codecommit');
    const closed = await probe({ closed: true });
    expect(closed.findings.map((f) => f.severity)).toEqual(['critical', 'critical']);
  });

  it('private addresses inside vpcCidrs → no finding; outside them → endpoint-outside-vpc', async () => {
    answer(['10.0.1.23', '10.0.2.41']);
    expect((await probe({ vpcCidrs: ['10.0.0.0/16'] })).findings).toEqual([]);
    expect((await probe({ vpcCidrs: ['10.1.0.0/16'] })).findings.map((f) => f.code)).toEqual([
      'endpoint-outside-vpc',
      'endpoint-outside-vpc',
    ]);
  });

  it('names the VPC resolver would not answer are no finding of this kind (the probe steps show the failure)', () => {
    const findings = findingsFor([], { globalSts: null, names: [] }, pathConfig({}));
    expect(findings).toEqual([]);
  });
});

describe('certificate expiry', () => {
  let shortLived: FaultServer;
  beforeAll(async () => {
    shortLived = await faultServer(issueServerCertificate(sandbox.pki, 5), { status: 404 });
  });
  afterAll(async () => shortLived?.stop());

  it('days left is measured at the handshake and becomes a finding under the threshold', async () => {
    const report = await probeAll([sandbox.target({ gitEndpoint: shortLived.url })], sandbox.deps, {
      concurrency: 1,
      diagnosis: baseConfig({ checks: { globalSts: false, path: false, certificateDays: 14 } }),
    });
    expect(report.targets[0]?.steps.git.certificateDaysLeft).toBe(4); // 5 days minus the part of today gone
    expect(report.targets[0]?.steps.sts.certificateDaysLeft).toBeGreaterThan(300);
    expect(report.findings.map((f) => [f.code, f.subject])).toEqual([
      ['certificate-expiring', `127.0.0.1:${shortLived.port}`],
    ]);
  });
});

describe('sub-minute sampling', () => {
  it('an outage starting mid-invocation opens the incident within one interval plus the deadline (injected clock)', async () => {
    const broken = await faultServer(sandbox.pki, { headersHang: true });
    try {
      let now = Date.parse('2026-01-01T00:00:00Z');
      let outageAt = Number.NaN;
      let samples = 0;
      const clock = { now: () => new Date(now), monotonicMs: sandbox.deps.clock.monotonicMs };
      const targets = [sandbox.target()];
      const sink = new RecordingSink();
      const config = baseConfig({
        checks: { globalSts: false, path: false, certificateDays: 14 },
        schedule: { samplesPerRun: 6, intervalSeconds: 10, highResolution: true },
        timeouts: { stsMs: 5000, gitMs: 600 },
      });
      const metrics = new RecordingMetrics();
      const summary = await runMonitor(
        config,
        targets,
        {
          probe: { ...sandbox.deps, clock },
          metrics,
          log: { write: () => true },
          alerts: alertPath({ sink, logger: quiet, settings: config.alerts, clock: { now: () => new Date(now) } }),
          // Virtual time: each wait moves the wall clock on; after the 3rd sample git-codecommit starts hanging.
          sleep: async () => {
            now += 10_000;
            samples++;
            if (samples === 3) {
              outageAt = now - 4_000; // somewhere inside the gap before the 4th sample
              targets[0] = sandbox.target({ gitEndpoint: broken.url, timeouts: { stsMs: 5000, gitMs: 600 } });
            }
          },
        },
        { stack: 's', budgetMs: 120_000 },
      );
      expect(summary.samples).toHaveLength(6);
      const alarm = sink.sent.find((a) => a.attributes.state === 'ALARM');
      expect(alarm).toBeDefined();
      const openedAt = Date.parse(alarm ? (alarm.facts as { at: string }).at : '');
      expect(openedAt - outageAt).toBeLessThanOrEqual(10_000 + 600);
      expect(sink.sent.filter((a) => a.attributes.state === 'ALARM')).toHaveLength(1);
      expect(metrics.points.every((p) => p.storageResolution === 1)).toBe(true);
    } finally {
      await broken.stop();
    }
  });
});

describe('no test reaches beyond loopback', () => {
  it('the sandbox resolver answers canonical AWS names only from the local test server', async () => {
    const resolve = serversResolve([sandbox.dns.server]);
    sandbox.dns.set('sts.amazonaws.com', { a: ['127.0.0.1'] });
    expect(await resolve('sts.amazonaws.com', AbortSignal.timeout(1000))).toEqual(['127.0.0.1']);
    expect(sandbox.dns.queries).toContain('sts.amazonaws.com');
  });
});
