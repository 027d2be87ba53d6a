import { describe, expect, it } from 'vitest';
import { record, recordingLogger, targetResult } from '../../harness/sqs.ts';
import { chatbotNotification, webhookEvent } from '../../lib/alerting/chat.ts';
import type { Notification } from '../../lib/alerting/incident-policy.ts';
import { notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import type { AlertSink } from '../../lib/alerting/sinks.ts';
import { type Alert, type AnyAlert, buildAlert, SUBJECT_MAX_LENGTH } from '../../lib/alerting/text.ts';
import { MemoryTable } from '../../lib/alerting/versioned-table.ts';
import {
  type ExpectStepResult,
  type Failure,
  type FetchStepResult,
  type PathResult,
  type TargetResult,
  targetVerdict,
  zeroPhases,
} from '../../lib/types.ts';

const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const notification = (failure: Notification['failure'], overrides: Partial<Notification> = {}): Notification => ({
  state: 'ALARM',
  target: 'team-repo',
  dedupKey: `team-repo/${minutes(2).toISOString()}/ALARM/run-2`,
  runId: 'run-2',
  at: minutes(2).toISOString(),
  failingSince: minutes(1).toISOString(),
  consecutiveFailures: 2,
  incidentOpenedAt: minutes(2).toISOString(),
  failure,
  ...overrides,
});

const connectTimeout: Failure = {
  kind: 'timeout',
  phase: 'connect',
  message: 'no progress in connect before the 10.0 s deadline',
};

const path = (address: string, zone: string | null, failure: Failure | null = null, durationMs = 12): PathResult => ({
  address,
  zone,
  ok: failure === null,
  durationMs: failure?.kind === 'timeout' ? 10_000 : durationMs,
  phases: zeroPhases(),
  failure,
});

/** The git endpoint in three zones; `broken` maps an address to its path's failure. */
const gitPaths = (broken: Record<string, Failure> = {}): PathResult[] =>
  [
    ['10.0.1.20', 'ap-northeast-1a'],
    ['10.0.2.20', 'ap-northeast-1c'],
    ['10.0.3.20', 'ap-northeast-1d'],
  ].map(([address = '', zone = '']) => path(address, zone, broken[address] ?? null));

/** With the steps' `ok` and the target's verdict recomputed. */
function withSteps(result: TargetResult, steps: Partial<TargetResult['steps']>): TargetResult {
  const merged = { ...result.steps, ...steps };
  return { ...result, ok: targetVerdict(merged), steps: merged };
}

/** ls-remote answered; the path check to one zone's address did not. */
function degradedGit(address = '10.0.2.20', failure: Failure = connectTimeout): TargetResult {
  const paths = gitPaths({ [address]: failure });
  const zone = paths.find((p) => p.address === address)?.zone;
  const base = targetResult();
  return withSteps(base, {
    git: {
      ...base.steps.git,
      ok: false,
      addresses: paths.map((p) => p.address),
      failure: { ...failure, address, message: `path to ${address} (${zone}): ${failure.message}` },
      paths,
      degraded: true,
    },
  });
}

function fetchStep(overrides: Partial<FetchStepResult> = {}): FetchStepResult {
  const { git } = targetResult().steps;
  return {
    ok: true,
    endpoint: git.endpoint,
    addresses: git.addresses,
    private: true,
    durationMs: 900,
    deadlineMs: 15_000,
    phases: { ...zeroPhases(), connectMs: 2, tlsMs: 20, firstByteMs: 300, transferMs: 560 },
    failure: null,
    commit: git.headSha,
    tree: 'b'.repeat(40),
    committedAt: '2026-11-27T05:00:00.000Z',
    objects: 120,
    packBytes: 3_145_728,
    throughputBytesPerSec: 5_600_000,
    bytesBeforeStall: null,
    stalledForMs: null,
    ...overrides,
  };
}

/** The refs came; the pack stopped after 98,304 bytes, nothing more for 14.2 s until the 15 s deadline. */
const stalledFetch = (): TargetResult =>
  withSteps(targetResult(), {
    fetch: fetchStep({
      ok: false,
      durationMs: 15_000,
      failure: { kind: 'timeout', phase: 'body', message: 'no progress in body before the 15.0 s deadline' },
      commit: null,
      tree: null,
      committedAt: null,
      objects: 0,
      packBytes: 90_112,
      throughputBytesPerSec: null,
      bytesBeforeStall: 98_304,
      stalledForMs: 14_200,
    }),
  });

/** A mirror that stopped: a ref gone and HEAD three days old. */
function staleMirror(): TargetResult {
  const { git } = targetResult().steps;
  const expectations: ExpectStepResult['expectations'] = [
    { check: 'ref', ok: false, expected: 'refs/heads/release', found: null },
    { check: 'head', ok: true, expected: 'refs/heads/main', found: 'refs/heads/main' },
    { check: 'headAge', ok: false, expected: 'at most 1440 min old', found: '3 d 2 h old (5f1c0a4 committed …)' },
  ];
  return withSteps(targetResult(), {
    fetch: fetchStep(),
    expect: {
      ok: false,
      endpoint: git.endpoint,
      addresses: git.addresses,
      private: true,
      durationMs: 0,
      deadlineMs: 0,
      phases: zeroPhases(),
      failure: {
        kind: 'assertion',
        phase: 'body',
        message:
          'ref refs/heads/release is not advertised; HEAD is 3 d 2 h old (5f1c0a4 committed …), expected at most 1440 min old',
      },
      expectations,
    },
  });
}

const GIT_PATH_FAILURE = { step: 'git', kind: 'timeout', phase: 'connect' } as const;

describe('an alert about one zone’s endpoint interface', () => {
  it('names the zone and the address in the subject, how many of how many paths failed, and what to check there', () => {
    // Prepare
    const result = degradedGit('10.0.2.20');

    // Act
    const alert = buildAlert(notification(GIT_PATH_FAILURE), result);

    // Assess
    // The addresses do not fit in SNS's 100 characters here: the zone does, the body has the address.
    expect(alert.subject).toBe(
      '[ALARM] team-repo: git ls-remote: ap-northeast-1c failing, 1 of 3 addresses, timeout in connect',
    );
    expect(alert.text).toContain(
      'Step:          git ls-remote (sts AssumeRole ok in 180 ms); its own call succeeded, a path check failed\n',
    );
    expect(alert.text).toContain(
      [
        'Paths:         1 of 3 endpoint addresses failing (degraded: the other addresses answer)',
        '                 ap-northeast-1c (10.0.2.20): timeout in connect after 10.0 s',
        '                 ap-northeast-1a (10.0.1.20): ok in 12 ms',
        '                 ap-northeast-1d (10.0.3.20): ok in 12 ms',
      ].join('\n'),
    );
    expect(alert.facts.remediation).toMatch(/^The path to 10\.0\.2\.20 in ap-northeast-1c, one of the addresses/);
    for (const what of ['subnet in that AZ', 'security group', 'network ACLs', 'route tables']) {
      expect(alert.facts.remediation).toContain(what);
    }
    expect(alert.facts).toMatchObject({ severity: 'critical', degraded: true, step: 'git', kind: 'timeout' });
    expect(alert.facts.paths.filter((p) => !p.ok)).toEqual([
      { address: '10.0.2.20', zone: 'ap-northeast-1c', ok: false, kind: 'timeout', phase: 'connect' },
    ]);
    expect(alert.attributes.severity).toBe('critical');
  });

  it('follows the address that failed, not the first one', () => {
    const alert = buildAlert(notification(GIT_PATH_FAILURE), degradedGit('10.0.3.20'));

    expect(alert.subject).toContain('git ls-remote: ap-northeast-1d failing, 1 of 3 addresses, timeout in connect');
    expect(alert.facts.remediation).toContain('10.0.3.20 in ap-northeast-1d');
  });

  it('names the address alone when it is in no known zone, and every failing place when several are', () => {
    const refused: Failure = { kind: 'refused', phase: 'connect', message: 'connection refused (ECONNREFUSED)' };
    const base = targetResult();
    const noZone = withSteps(base, {
      sts: {
        ...base.steps.sts,
        ok: false,
        failure: { ...refused, address: '10.0.9.7' },
        paths: [path('10.0.1.10', null), path('10.0.9.7', null, refused)],
        degraded: true,
      },
    });
    const twoZones = degradedGit();
    twoZones.steps.git.paths = gitPaths({ '10.0.2.20': connectTimeout, '10.0.3.20': refused });

    expect(buildAlert(notification({ ...GIT_PATH_FAILURE, step: 'sts' }), noZone).subject).toBe(
      '[ALARM] team-repo: sts AssumeRole: 10.0.9.7 failing, 1 of 2 addresses, refused in connect',
    );
    const alert = buildAlert(notification(GIT_PATH_FAILURE), twoZones);
    expect(alert.subject).toMatch(
      /^\[ALARM\] team-repo: git ls-remote: ap-northeast-1c, ap-northeast-1d failing, 2 of 3 addresses, /,
    );
    expect(alert.text).toContain('Paths:         2 of 3 endpoint addresses failing (degraded');
  });

  it('names the failing address in the subject when it fits, and keeps the zone first when nothing else does', () => {
    const short = { ...degradedGit(), name: 'web' };
    short.steps.git.paths = short.steps.git.paths?.map((p) => ({
      ...p,
      zone: p.zone?.replace('ap-northeast-', 'us-east-') ?? null,
    }));
    const long = { ...degradedGit(), name: 'platform-team-monorepo-eu' };

    const reminder = buildAlert(notification(GIT_PATH_FAILURE, { state: 'REMINDER' }), long).subject;

    expect(buildAlert(notification(GIT_PATH_FAILURE), short).subject).toBe(
      '[ALARM] web: git ls-remote: us-east-1c failing, 1 of 3 addresses, timeout in connect (10.0.2.20)',
    );
    expect(reminder.length).toBe(SUBJECT_MAX_LENGTH);
    expect(reminder).toMatch(
      /^\[REMINDER\] platform-team-monorepo-eu: still failing after 1 min: git ls-remote: ap-northeast-1c /,
    );
  });

  it("leads with the paths when the step's own call hit the broken interface, with the path's hint", () => {
    const result = degradedGit();
    result.steps.git.failure = connectTimeout;

    const alert = buildAlert(notification(GIT_PATH_FAILURE), result);

    expect(alert.subject).toContain('git ls-remote: ap-northeast-1c failing, 1 of 3 addresses');
    expect(alert.text).toContain('Step:          git ls-remote (sts AssumeRole ok in 180 ms)\n');
    expect(alert.facts.remediation).toContain('10.0.2.20 in ap-northeast-1c');
  });

  it("leads with the step's own failure when it is another, and still lists the failing path", () => {
    const result = degradedGit();
    result.steps.git.failure = { kind: 'auth', phase: 'response', status: 403, message: 'HTTP 403' };

    const alert = buildAlert(notification({ step: 'git', kind: 'auth', phase: 'response', status: 403 }), result);

    expect(alert.subject).toBe('[ALARM] team-repo: git ls-remote access denied (HTTP 403)');
    expect(alert.text).toContain('                 ap-northeast-1c (10.0.2.20): timeout in connect after 10.0 s\n');
    expect(alert.facts.remediation).toContain('codecommit:GitPull');
  });

  it('leaves the paths out of a RECOVERED', () => {
    const alert = buildAlert(notification(GIT_PATH_FAILURE, { state: 'RECOVERED' }), targetResult());

    expect(alert.text).not.toContain('Paths:');
    expect(alert.attributes.severity).toBe('critical');
  });
});

describe('an alert about the fetch', () => {
  it('tells a stalled pack transfer from an ordinary failure: refs reachable, the bytes before the stall, MTU', () => {
    const alert = buildAlert(notification({ step: 'fetch', kind: 'timeout', phase: 'body' }), stalledFetch());

    expect(alert.subject).toBe(
      '[ALARM] team-repo: git fetch: refs reachable but pack transfer stalled after 98304 bytes',
    );
    expect(alert.text).toContain('Step:          git fetch (git ls-remote ok in 420 ms, 3 refs)\n');
    expect(alert.text).toContain(
      'Pack:          refs reachable, transfer stalled after 98304 bytes (96.0 KiB); nothing arrived for the last 14.2 s\n',
    );
    expect(alert.text).toContain('Elapsed:       15.0 s of 15.0 s deadline\n');
    expect(alert.facts.bytesBeforeStall).toBe(98_304);
    for (const what of ['MTU blackhole', 'ICMP type 3 code 4', 'MSS', 'proxy']) {
      expect(alert.facts.remediation).toContain(what);
    }
    expect(webhookEvent(alert).severity).toBe('critical');
    expect(chatbotNotification(alert).content.description).toContain('*Pack* stalled after 98304 bytes');
  });

  it('closes with the fetch among the step times of the good run', () => {
    const alert = buildAlert(
      notification({ step: 'fetch', kind: 'timeout', phase: 'body' }, { state: 'RECOVERED' }),
      withSteps(targetResult(), { fetch: fetchStep() }),
    );

    expect(alert.text).toContain(
      'Now:           sts AssumeRole 180 ms, git ls-remote 420 ms (3 refs), git fetch 900 ms (3.0 MiB pack)\n',
    );
    expect(alert.facts.bytesBeforeStall).toBeNull();
  });

  it('reads an ordinary fetch failure like the other steps', () => {
    const result = withSteps(targetResult(), {
      fetch: fetchStep({
        ok: false,
        durationMs: 95,
        failure: { kind: 'auth', phase: 'response', status: 403, message: 'HTTP 403 on git-upload-pack' },
        commit: null,
        packBytes: 0,
        throughputBytesPerSec: null,
      }),
    });

    const alert = buildAlert(notification({ step: 'fetch', kind: 'auth', phase: 'response', status: 403 }), result);

    expect(alert.subject).toBe('[ALARM] team-repo: git fetch access denied (HTTP 403)');
    expect(alert.text).not.toContain('Pack:');
    expect(alert.facts.bytesBeforeStall).toBeNull();
    expect(alert.facts.remediation).toMatch(/^ls-remote was allowed but git-upload-pack was not/);
  });
});

describe('an alert about failed assertions', () => {
  it('is a warning, not a critical page, and lists each failed expectation with the hint for a stopped mirror', () => {
    const alert = buildAlert(notification({ step: 'expect', kind: 'assertion', phase: 'body' }), staleMirror());

    expect(alert.subject).toBe(
      '[ALARM] team-repo: ref assertions failed: ref refs/heads/release is not advertised; HEAD is 3 d 2...',
    );
    expect(alert.text).toContain(
      'Severity:      warning: the path works, the repository is not as expected (not an outage)\n',
    );
    expect(alert.text).toContain(
      [
        'Expectations:  2 of 3 failed',
        '                 ref: expected refs/heads/release, found nothing',
        '                 headAge: expected at most 1440 min old, found 3 d 2 h old (5f1c0a4 committed …)',
      ].join('\n'),
    );
    expect(alert.text).not.toContain('Elapsed:');
    expect(alert.facts.remediation).toMatch(/^An expected ref is missing/);
    expect(alert.facts).toMatchObject({ severity: 'warning', step: 'expect', kind: 'assertion' });
    expect(alert.facts.failedExpectations.map((e) => e.check)).toEqual(['ref', 'headAge']);
    expect(alert.attributes).toMatchObject({ severity: 'warning', step: 'expect', kind: 'assertion' });
    expect(webhookEvent(alert)).toMatchObject({ action: 'trigger', severity: 'warning' });
    expect(chatbotNotification(alert).content.keywords).toContain('warning');
  });

  it('is critical when the path fails too: the first failing step decides', () => {
    const result = staleMirror();
    const degraded = degradedGit();
    const both = withSteps(result, { git: degraded.steps.git });

    const alert = buildAlert(notification(GIT_PATH_FAILURE), both);

    expect(alert.facts.severity).toBe('critical');
    expect(alert.text).not.toContain('Severity:');
  });
});

describe('the notifier with paths, the fetch and the assertions', () => {
  /** Every alert the notifier sends for `results`, one run a minute, opening at the first failure. */
  async function sent(results: TargetResult[]): Promise<Alert[]> {
    const alerts: AnyAlert[] = [];
    const sink: AlertSink = {
      send: async (alert) => {
        alerts.push(alert);
        return { delivered: true };
      },
    };
    const clock = { at: T0, now: () => clock.at };
    const deps = {
      outbox: new Outbox(new MemoryTable(), { clock }),
      sink,
      logger: recordingLogger(),
      settings: { failuresBeforeAlert: 1, renotifyMinutes: 60 },
      clock,
    };
    for (const [i, result] of results.entries()) {
      clock.at = minutes(i);
      await notify([record(`run-${i}`, minutes(i), result)], [], deps);
    }
    return alerts as Alert[];
  }

  it('pages a failed assertion through the same incident as any failure, as a warning, and resolves it', async () => {
    const alerts = await sent([staleMirror(), staleMirror(), targetResult()]);

    expect(alerts.map((a) => `${a.attributes.state} ${a.attributes.step} ${a.attributes.severity}`)).toEqual([
      'ALARM expect warning',
      'RECOVERED expect warning',
    ]);
    expect(webhookEvent(alerts[1] as Alert)).toMatchObject({ action: 'resolve', severity: 'info' });
  });

  it('pages a degraded step and a stalled fetch as critical', async () => {
    const alerts = await sent([degradedGit(), targetResult(), stalledFetch()]);

    expect(alerts.map((a) => `${a.attributes.state} ${a.attributes.step} ${a.attributes.severity}`)).toEqual([
      'ALARM git critical',
      'RECOVERED git critical',
      'ALARM fetch critical',
    ]);
    expect(alerts[0]?.subject).toContain('ap-northeast-1c');
    expect(alerts[2]?.subject).toContain('stalled after 98304 bytes');
  });
});

describe('an owed alert kept from before paths, stalls and severity', () => {
  it('still renders for chat and webhooks, as critical', () => {
    const alert = buildAlert(notification(GIT_PATH_FAILURE), degradedGit());
    const old = { ...alert, facts: { ...alert.facts } } as Alert;
    for (const key of ['severity', 'paths', 'bytesBeforeStall', 'degraded', 'failedExpectations'] as const) {
      delete (old.facts as Partial<typeof old.facts>)[key];
    }

    expect(webhookEvent(old).severity).toBe('critical');
    expect(chatbotNotification(old).content.keywords).toContain('critical');
    expect(chatbotNotification(old).content.description).not.toContain('*Paths*');
    expect(chatbotNotification(alert).content.description).toContain(
      '*Paths* 1 of 3 failing: ap-northeast-1c (10.0.2.20)',
    );
  });
});
