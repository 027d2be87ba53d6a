import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type AwsLogsEvent,
  DEFAULT_MAX_SKEW_MS,
  decodeSubscriptionEvent,
  type ExpectedSource,
  encodeSubscriptionEvent,
  findingsRecordLine,
  isLambdaLogStream,
  MalformedDeliveryError,
  probeLogGroupName,
  resultRecordLine,
} from '../lib/metrics/log-records.ts';
import { RECORD_LIMITS } from '../lib/metrics/record-schema.ts';
import type { FindingsRecord, ResultRecord, TargetResult } from '../lib/types.ts';

const NOW = new Date('2026-11-29T07:20:30.000Z');
const ACCOUNT = '111111111111';
const STACK = 'codecommit-canary-prod';
const LOG_GROUP = probeLogGroupName(STACK);
const STREAM = '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef';
const EXPECT: ExpectedSource = { logGroup: LOG_GROUP, account: ACCOUNT, now: NOW };
const MINUTE = 60_000;

/** Where a step went: an interface endpoint's private addresses, and its time against its deadline. */
const via = (endpoint: string, addresses: string[], [durationMs, deadlineMs]: [number, number]) => ({
  endpoint,
  addresses,
  private: true,
  durationMs,
  deadlineMs,
});

/** A target as the probe reports it when the git endpoint hung in the TLS handshake. */
function failingTarget(): TargetResult {
  return {
    name: 'team-repo',
    ok: false,
    repository: 'test_repo',
    region: 'ap-northeast-1',
    roleArn: 'arn:aws:iam::222222222222:role/SwitchRole',
    steps: {
      sts: {
        ok: true,
        ...via('https://sts.ap-northeast-1.amazonaws.com', ['10.0.1.23', '10.0.2.41'], [224.3, 5000]),
        phases: { dnsMs: 1.9, connectMs: 1.1, tlsMs: 21, firstByteMs: 199, transferMs: 0.4 },
        failure: null,
        certificateDaysLeft: 211,
        accountId: '222222222222',
      },
      git: {
        ok: false,
        ...via('https://git-codecommit.ap-northeast-1.amazonaws.com', ['10.0.1.57', 'fd00::1:57'], [10_000.4, 10_000]),
        phases: { dnsMs: 2.2, connectMs: 1.3, tlsMs: 9996.9, firstByteMs: 0, transferMs: 0 },
        failure: { kind: 'timeout', phase: 'tls', message: 'no progress in tls before the 10.0 s deadline' },
        refs: 0,
        head: null,
        headSha: null,
      },
    },
  };
}

/** A target whose AssumeRole was refused: git skipped. */
function deniedTarget(): TargetResult {
  const target = failingTarget();
  const { accountId: _, ...sts } = target.steps.sts;
  return {
    ...target,
    name: 'other-repo',
    roleArn: null,
    steps: {
      sts: {
        ...sts,
        ok: false,
        failure: { kind: 'auth', phase: 'response', status: 403, message: 'AccessDenied: not authorized' },
      },
      git: { ...target.steps.git, skipped: true, failure: null, durationMs: 0, addresses: [] },
    },
  };
}

function okTarget(): TargetResult {
  const target = failingTarget();
  return {
    ...target,
    ok: true,
    steps: {
      sts: target.steps.sts,
      git: {
        ...target.steps.git,
        ok: true,
        durationMs: 88,
        phases: { dnsMs: 1, connectMs: 1, tlsMs: 20, firstByteMs: 60, transferMs: 6 },
        failure: null,
        refs: 6,
        head: 'refs/heads/develop',
        headSha: 'b5f18fe3a2bb0c1d2e3f405162738495a6b7c8d9',
      },
    },
  };
}

const resultRecord = (result: TargetResult, at = new Date(NOW.getTime() - 2000)): ResultRecord => ({
  type: 'codecommit-canary/result',
  v: 1,
  runId: '6f1d2c4e-8a7b-4c3d-9e0f-112233445566',
  at: at.toISOString(),
  result,
});

const findingsRecord = (at = new Date(NOW.getTime() - 2000)): FindingsRecord => ({
  type: 'codecommit-canary/findings',
  v: 1,
  runId: '6f1d2c4e-8a7b-4c3d-9e0f-112233445566',
  at: at.toISOString(),
  findings: [
    {
      code: 'global-sts-unreachable',
      severity: 'warning',
      subject: 'https://sts.amazonaws.com',
      message: 'The regional STS endpoint answers, but the global one does not.',
      remediation: 'set sts_regional_endpoints = regional',
    },
    {
      code: 'endpoint-not-private',
      severity: 'critical',
      target: 'team-repo',
      subject: 'git-codecommit.ap-northeast-1.amazonaws.com',
      message: 'resolves to public addresses',
      remediation: 'Enable private DNS on the interface endpoint.',
    },
  ],
});

/** What the probe writes between records: an EMF line (the subscription filter would not deliver it). */
const EMF_LINE = JSON.stringify({
  _aws: { Timestamp: NOW.getTime(), CloudWatchMetrics: [{ Namespace: 'CodeCommitCanary', Metrics: [] }] },
  Success: 1,
});

interface RawPayload {
  messageType?: string;
  owner?: string;
  logGroup?: string;
  logStream?: string;
  /** Log lines, each with its own timestamp (default: a second before NOW). */
  events: Array<{ message: string; timestamp?: number }>;
}

/** A delivery with any lines (unfiltered), as someone with PutLogEvents could make CloudWatch Logs send. */
function rawEvent({ events, ...meta }: RawPayload): AwsLogsEvent {
  const payload = {
    messageType: 'DATA_MESSAGE',
    owner: ACCOUNT,
    logGroup: LOG_GROUP,
    logStream: STREAM,
    subscriptionFilters: ['codecommit-canary-records'],
    ...meta,
    logEvents: events.map((e, i) => ({
      id: String(i),
      timestamp: e.timestamp ?? NOW.getTime() - 1000,
      message: e.message.replace(/\n$/, ''),
    })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
}

const decodeLines = (lines: string[], meta: Omit<RawPayload, 'events'> = {}, expect = EXPECT) =>
  decodeSubscriptionEvent(rawEvent({ ...meta, events: lines.map((message) => ({ message })) }), expect);

/** A record line with some of its JSON changed. */
function tampered(change: (record: Record<string, unknown> & { result: Record<string, unknown> }) => void): string {
  const record = JSON.parse(resultRecordLine(resultRecord(failingTarget())));
  change(record);
  return JSON.stringify(record);
}

describe('decodeSubscriptionEvent', () => {
  it('returns the records the probe wrote, unchanged, and counts the other lines as not-a-record', () => {
    // Arrange: what the probe writes in one run
    const written = [resultRecord(failingTarget()), resultRecord(deniedTarget()), resultRecord(okTarget())];
    const lines = [...written.map(resultRecordLine), EMF_LINE, findingsRecordLine(findingsRecord()), 'not json {'];
    // Act
    const decoded = decodeLines(lines);
    // Assess
    expect(decoded.records).toEqual(written);
    expect(decoded.findings).toEqual([findingsRecord()]);
    expect(decoded.rejections).toEqual({ 'not-a-record': 2 });
    expect(decoded.rejected).toBe(2);
    expect(decoded.messageType).toBe('DATA_MESSAGE');
  });

  it('round-trips through encodeSubscriptionEvent, which delivers only what the subscription filter matches', () => {
    const written = resultRecord(failingTarget());
    const probeStdout = `${resultRecordLine(written)}${EMF_LINE}\nSTART RequestId: 1\n${findingsRecordLine(findingsRecord())}`;
    const event = encodeSubscriptionEvent(probeStdout.split('\n'), {
      logGroup: LOG_GROUP,
      logStream: STREAM,
      owner: ACCOUNT,
      timestamp: NOW.getTime(),
    });
    const decoded = decodeSubscriptionEvent(event, EXPECT);
    expect(decoded.records).toEqual([written]);
    expect(decoded.findings).toEqual([findingsRecord()]);
    expect(decoded.rejected).toBe(0);
    expect(decoded.rejections).toEqual({});
  });

  it('yields nothing for a CONTROL_MESSAGE', () => {
    const event = rawEvent({
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      events: [{ message: 'CWL CONTROL MESSAGE: Checking health of destination Lambda function.' }],
    });
    expect(decodeSubscriptionEvent(event, EXPECT)).toEqual({
      records: [],
      findings: [],
      rejected: 0,
      rejections: {},
      messageType: 'CONTROL_MESSAGE',
    });
  });

  it('throws on a delivery that is not gzipped JSON of the subscription shape (a broken delivery: retried)', () => {
    const of = (data: Buffer) => ({ awslogs: { data: data.toString('base64') } });
    expect(() => decodeSubscriptionEvent(of(Buffer.from('plain text')), EXPECT)).toThrow(MalformedDeliveryError);
    expect(() => decodeSubscriptionEvent(of(gzipSync('{ not json')), EXPECT)).toThrow(MalformedDeliveryError);
    expect(() => decodeSubscriptionEvent(of(gzipSync('{"messageType":"DATA_MESSAGE"}')), EXPECT)).toThrow(
      /not a subscription delivery/,
    );
  });

  describe('the delivery must come from the probe log group of the stack account', () => {
    const lines = [resultRecordLine(resultRecord(okTarget())), findingsRecordLine(findingsRecord()), EMF_LINE];

    it('keeps records from the expected log group and account', () => {
      const decoded = decodeLines(lines);
      expect(decoded.records).toHaveLength(1);
      expect(decoded.findings).toHaveLength(1);
    });

    it('rejects every event of a delivery from another log group', () => {
      const decoded = decodeLines(lines, { logGroup: probeLogGroupName('someone-else') });
      expect(decoded).toMatchObject({ records: [], findings: [], rejected: 3, rejections: { 'log-group': 3 } });
    });

    it('rejects every event of a delivery from another account', () => {
      const decoded = decodeLines(lines, { owner: '999999999999' });
      expect(decoded).toMatchObject({ records: [], findings: [], rejected: 3, rejections: { account: 3 } });
    });

    it('does not check the account when none is expected', () => {
      const decoded = decodeLines(lines, { owner: '999999999999' }, { logGroup: LOG_GROUP, now: NOW });
      expect(decoded.records).toHaveLength(1);
    });
  });

  describe('the log stream must be a Lambda function stream', () => {
    it.each([
      STREAM,
      '2026/01/01/[$LATEST]ffffffffffffffffffffffffffffffff',
      '2026/11/29/[42]0123456789abcdef0123456789abcdef',
    ])('keeps records from %s', (logStream) => {
      expect(decodeLines([resultRecordLine(resultRecord(okTarget()))], { logStream }).records).toHaveLength(1);
    });

    it.each([
      'forged',
      '2026/11/29/[$LATEST]demo',
      '2026/13/29/[$LATEST]0123456789abcdef0123456789abcdef',
      '2026/11/29/[$LATEST]0123456789ABCDEF0123456789ABCDEF',
      '2026/11/29/[0]0123456789abcdef0123456789abcdef',
      '2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef/extra',
      '',
    ])('rejects records from %j as log-stream, other lines as not-a-record', (logStream) => {
      const decoded = decodeLines([resultRecordLine(resultRecord(okTarget())), EMF_LINE], { logStream });
      expect(decoded.records).toEqual([]);
      expect(decoded.rejections).toEqual({ 'log-stream': 1, 'not-a-record': 1 });
    });

    it('isLambdaLogStream agrees', () => {
      expect(isLambdaLogStream(STREAM)).toBe(true);
      expect(isLambdaLogStream('2026/11/29/[$LATEST]demo')).toBe(false);
    });
  });

  describe('a record must pass the full schema', () => {
    it.each<[string, string]>([
      ['an unknown failure kind', tampered((r) => setPath(r, 'result.steps.git.failure.kind', 'bogus'))],
      ['an unknown phase', tampered((r) => setPath(r, 'result.steps.git.failure.phase', 'handshake'))],
      ['missing phases', tampered((r) => setPath(r, 'result.steps.sts.phases', undefined))],
      ['a missing phase', tampered((r) => setPath(r, 'result.steps.sts.phases.tlsMs', undefined))],
      ['a negative duration', tampered((r) => setPath(r, 'result.steps.sts.durationMs', -1))],
      ['an hour-long step', tampered((r) => setPath(r, 'result.steps.git.durationMs', 3_600_000))],
      ['a missing step', tampered((r) => setPath(r, 'result.steps.git', undefined))],
      ['a version 2 record', tampered((r) => setPath(r, 'v', 2))],
      ['no runId', tampered((r) => setPath(r, 'runId', ''))],
      ['an at without milliseconds', tampered((r) => setPath(r, 'at', '2026-11-29T07:20:28Z'))],
      ['an at with an offset', tampered((r) => setPath(r, 'at', '2026-11-29T16:20:28.000+09:00'))],
      ['an impossible date', tampered((r) => setPath(r, 'at', '2026-02-30T07:20:28.000Z'))],
      ['a failed step without a failure', tampered((r) => setPath(r, 'result.steps.git.failure', null))],
      [
        'an ok step with a failure',
        tampered((r) => {
          setPath(r, 'result.steps.git.ok', true);
          setPath(r, 'result.ok', true);
        }),
      ],
      ['a skipped step that is ok', tampered((r) => setPath(r, 'result.steps.sts.skipped', true))],
      ['a target ok whose git step failed', tampered((r) => setPath(r, 'result.ok', true))],
      ['a target name with a newline', tampered((r) => setPath(r, 'result.name', 'team\nrepo'))],
      ['a long target name', tampered((r) => setPath(r, 'result.name', 'n'.repeat(RECORD_LIMITS.name + 1)))],
      ['a repository name with a slash', tampered((r) => setPath(r, 'result.repository', 'a/b'))],
      ['a role that is not an IAM role ARN', tampered((r) => setPath(r, 'result.roleArn', 'arn:aws:s3:::bucket'))],
      ['an endpoint that is not a URL', tampered((r) => setPath(r, 'result.steps.sts.endpoint', 'sts'))],
      ['an address that is not an IP', tampered((r) => setPath(r, 'result.steps.sts.addresses', ['sts.local']))],
      [
        'too many addresses',
        tampered((r) =>
          setPath(
            r,
            'result.steps.sts.addresses',
            Array.from({ length: RECORD_LIMITS.addresses + 1 }, (_, i) => `10.0.${i}.1`),
          ),
        ),
      ],
      ['a short head sha', tampered((r) => setPath(r, 'result.steps.git.headSha', 'b5f18fe3'))],
      ['a string for a number', tampered((r) => setPath(r, 'result.steps.git.refs', '6'))],
    ])('rejects %s', (_, line) => {
      const decoded = decodeLines([line]);
      expect(decoded.records).toEqual([]);
      expect(decoded.rejections).toEqual({ schema: 1 });
    });

    it('rejects a findings record with an unknown code or severity', () => {
      const record = findingsRecord();
      const badCode = { ...record, findings: [{ ...record.findings[0], code: 'bogus' }] };
      const badSeverity = { ...record, findings: [{ ...record.findings[0], severity: 'page-everyone' }] };
      const decoded = decodeLines([JSON.stringify(badCode), JSON.stringify(badSeverity)]);
      expect(decoded.findings).toEqual([]);
      expect(decoded.rejections).toEqual({ schema: 2 });
    });

    it('strips fields it does not know (a newer probe still gets through)', () => {
      const line = tampered((r) => {
        r.extra = 'x';
        r.result.extra = { nested: true };
        setPath(r, 'result.steps.git.failure.hint', 'new field');
      });
      const [decoded] = decodeLines([line]).records;
      expect(decoded).toEqual(resultRecord(failingTarget()));
    });

    it('cuts a long failure message instead of dropping the failure', () => {
      const serverText = `remote error: ${'x'.repeat(60_000)}`;
      const line = tampered((r) => setPath(r, 'result.steps.git.failure.message', serverText));
      const [decoded] = decodeLines([line]).records;
      const message = decoded?.result.steps.git.failure?.message ?? '';
      expect(message).toHaveLength(RECORD_LIMITS.text);
      expect(message.startsWith('remote error: xxx')).toBe(true);
      expect(message.endsWith('…')).toBe(true);
    });
  });

  describe('a record must be dated when it was logged, and not ahead of now', () => {
    const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
    const event = (recordAt: Date, timestamp: number) =>
      rawEvent({ events: [{ message: resultRecordLine(resultRecord(okTarget(), recordAt)), timestamp }] });

    it('keeps a record logged within the skew of its at (a slow run: logged 4 minutes after it started)', () => {
      const decoded = decodeSubscriptionEvent(event(at(-5 * MINUTE), at(-1 * MINUTE).getTime()), EXPECT);
      expect(decoded.records).toHaveLength(1);
    });

    it('keeps a late delivery of an old record (a retried invocation hours later)', () => {
      const decoded = decodeSubscriptionEvent(
        event(at(-3 * 60 * MINUTE), at(-3 * 60 * MINUTE + 500).getTime()),
        EXPECT,
      );
      expect(decoded.records).toHaveLength(1);
    });

    it('rejects a record dated more than the skew before its log event as clock-skew', () => {
      const decoded = decodeSubscriptionEvent(event(at(-7 * MINUTE), at(-1 * MINUTE).getTime()), EXPECT);
      expect(decoded.rejections).toEqual({ 'clock-skew': 1 });
    });

    it('rejects a record dated more than the skew after its log event as clock-skew', () => {
      const decoded = decodeSubscriptionEvent(event(at(0), at(-6 * MINUTE).getTime()), EXPECT);
      expect(decoded.rejections).toEqual({ 'clock-skew': 1 });
    });

    it('rejects a record dated more than the skew ahead of now as future, even when its log event agrees', () => {
      const future = at(DEFAULT_MAX_SKEW_MS + 1000);
      const decoded = decodeSubscriptionEvent(event(future, future.getTime()), EXPECT);
      expect(decoded.rejections).toEqual({ future: 1 });
    });

    it('rejects the forged silencer: an ok record dated 2099, written now', () => {
      const forged = resultRecord(okTarget(), new Date('2099-01-01T00:00:00.000Z'));
      const forgedFindings = { ...findingsRecord(), at: '2099-01-01T00:00:00.000Z', findings: [] };
      const decoded = decodeLines([resultRecordLine(forged), findingsRecordLine(forgedFindings)]);
      expect(decoded.records).toEqual([]);
      expect(decoded.findings).toEqual([]);
      expect(decoded.rejections).toEqual({ future: 2 });
    });

    it('takes maxSkewMs and now from the caller', () => {
      const e = event(at(-2 * MINUTE), at(0).getTime());
      expect(decodeSubscriptionEvent(e, { ...EXPECT, maxSkewMs: MINUTE }).rejections).toEqual({ 'clock-skew': 1 });
      const later = { ...EXPECT, now: at(-10 * MINUTE) };
      expect(decodeSubscriptionEvent(e, later).rejections).toEqual({ future: 1 });
    });
  });
});

describe('probeLogGroupName', () => {
  it('names the log group as the stack does', () => {
    expect(probeLogGroupName('codecommit-canary-prod')).toBe('/aws/lambda/codecommit-canary-prod-probe');
  });
});

/** Sets (or, with undefined, deletes) a dotted path in parsed JSON. */
function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let at: Record<string, unknown> = object;
  for (const key of keys) {
    const next = at[key];
    if (typeof next !== 'object' || next === null) throw new Error(`no ${key} in ${path}`);
    at = next as Record<string, unknown>;
  }
  if (value === undefined) delete at[last];
  else at[last] = value;
}
