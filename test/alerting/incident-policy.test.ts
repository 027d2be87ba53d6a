import { describe, expect, it } from 'vitest';
import { gitTlsTimeout, record, stsConnectTimeout, targetResult } from '../../harness/sqs.ts';
import {
  type AlertSettings,
  type Decision,
  decide,
  failOpenDecision,
  type IncidentState,
  type Notification,
  severityOf,
} from '../../lib/alerting/incident-policy.ts';
import { jsonLogger } from '../../lib/log.ts';
import { type ResultRecord, STEP_NAMES, type TargetResult, zeroPhases } from '../../lib/types.ts';

const SETTINGS: AlertSettings = { failuresBeforeAlert: 2, renotifyMinutes: 60 };
const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** Runs records through `decide` one per minute, as the notifier would; returns the notifications. */
function run(records: ResultRecord[], settings = SETTINGS) {
  let state: IncidentState | null = null;
  const decisions: Decision[] = [];
  for (const r of records) {
    const decision = decide(state, r, settings, new Date(r.at));
    decisions.push(decision);
    if (decision.action === 'write') state = decision.state;
  }
  const notifications = decisions.flatMap((d) => (d.action === 'write' && d.notification ? [d.notification] : []));
  return { state, decisions, notifications };
}

const failing = (from: number, count: number, name = 'team-repo') =>
  Array.from({ length: count }, (_, i) => record(`run-${from + i}`, minutes(from + i), gitTlsTimeout(name)));
const healthy = (at: number, name = 'team-repo') => record(`run-${at}`, minutes(at), targetResult(name));

describe('decide (the incident policy)', () => {
  it('sends nothing for healthy runs', () => {
    const { notifications, state } = run([healthy(0), healthy(1)]);
    expect(notifications).toEqual([]);
    expect(state).toMatchObject({ status: 'ok', consecutiveFailures: 0, lastRunId: 'run-1' });
  });

  it('sends nothing for one failure below the threshold', () => {
    const { notifications, state } = run(failing(0, 1));
    expect(notifications).toEqual([]);
    expect(state).toMatchObject({ status: 'failing', consecutiveFailures: 1, failingSince: minutes(0).toISOString() });
  });

  it('opens the incident with one ALARM on the threshold-th consecutive failure', () => {
    const { notifications, state } = run(failing(0, 3));
    expect(notifications).toEqual<Notification[]>([
      {
        state: 'ALARM',
        target: 'team-repo',
        dedupKey: `team-repo/${minutes(1).toISOString()}/ALARM/run-1`,
        runId: 'run-1',
        at: minutes(1).toISOString(),
        failingSince: minutes(0).toISOString(),
        consecutiveFailures: 2,
        incidentOpenedAt: minutes(1).toISOString(),
        failure: { step: 'git', kind: 'timeout', phase: 'tls' },
      },
    ]);
    expect(state).toMatchObject({ status: 'incident', consecutiveFailures: 3, lastNotification: 'ALARM' });
  });

  it('opens at the first failure when failuresBeforeAlert is 1', () => {
    const { notifications } = run(failing(0, 1), { failuresBeforeAlert: 1, renotifyMinutes: 60 });
    expect(notifications.map((n) => n.state)).toEqual(['ALARM']);
  });

  it('does not count failures before a healthy run', () => {
    const { notifications } = run([...failing(0, 1), healthy(1), ...failing(2, 1), healthy(3)]);
    expect(notifications).toEqual([]);
  });

  it('reminds once per renotify interval, timed on the clock', () => {
    // Failing from minute 0 to 150: ALARM at 1, REMINDER at 61 and 121.
    const { notifications } = run(failing(0, 151));
    expect(new Set(notifications.map((n) => n.dedupKey)).size).toBe(notifications.length);
    expect(notifications.map((n) => [n.state, n.runId, n.consecutiveFailures])).toEqual([
      ['ALARM', 'run-1', 2],
      ['REMINDER', 'run-61', 62],
      ['REMINDER', 'run-121', 122],
    ]);
  });

  it('reminds on the processing clock, so a backlog delivered at once pages once', () => {
    let state: IncidentState | null = null;
    const states: string[] = [];
    for (const r of failing(0, 150)) {
      const d = decide(state, r, SETTINGS, minutes(150));
      if (d.action === 'write') {
        state = d.state;
        if (d.notification) states.push(d.notification.state);
      }
    }
    expect(states).toEqual(['ALARM']);
  });

  it('never reminds when renotifyMinutes is 0', () => {
    const { notifications } = run(failing(0, 200), { failuresBeforeAlert: 2, renotifyMinutes: 0 });
    expect(notifications.map((n) => n.state)).toEqual(['ALARM']);
  });

  it('closes the incident with exactly one RECOVERED that names the last failure', () => {
    const { notifications, state } = run([...failing(0, 12), healthy(12), healthy(13)]);
    expect(notifications.map((n) => n.state)).toEqual(['ALARM', 'RECOVERED']);
    expect(notifications[1]).toMatchObject({
      runId: 'run-12',
      failingSince: minutes(0).toISOString(),
      consecutiveFailures: 12,
      failure: { step: 'git', kind: 'timeout', phase: 'tls' },
    });
    expect(state).toMatchObject({ status: 'ok', failingSince: null, incidentOpenedAt: null });
  });

  it('opens a new incident after a recovery', () => {
    const { notifications } = run([...failing(0, 2), healthy(2), ...failing(3, 2)]);
    expect(notifications.map((n) => `${n.state}@${n.runId}`)).toEqual([
      'ALARM@run-1',
      'RECOVERED@run-2',
      'ALARM@run-4',
    ]);
  });

  it('takes the failure from the step that failed', () => {
    const { notifications } = run([
      record('a', minutes(0), stsConnectTimeout()),
      record('b', minutes(1), stsConnectTimeout()),
    ]);
    expect(notifications[0]?.failure).toEqual({ step: 'sts', kind: 'timeout', phase: 'connect' });
  });

  it('ignores the same record again, older records, and records without a time', () => {
    const [first, second] = failing(0, 2) as [ResultRecord, ResultRecord];
    const after = run([first, second]).state;
    expect(decide(after, second, SETTINGS, minutes(5))).toEqual({ action: 'ignore', reason: 'duplicate' });
    expect(decide(after, first, SETTINGS, minutes(5))).toEqual({ action: 'ignore', reason: 'stale' });
    expect(decide(after, { ...second, at: 'yesterday' }, SETTINGS, minutes(5))).toEqual({
      action: 'ignore',
      reason: 'invalid',
    });
  });

  it('orders records of the same time by run id', () => {
    const at = minutes(0);
    const { decisions } = run([record('run-b', at, gitTlsTimeout()), record('run-a', at, gitTlsTimeout())]);
    expect(decisions[1]).toEqual({ action: 'ignore', reason: 'stale' });
  });

  it('fails open: a failed result is alerted with the reason, a good one is not', () => {
    const reason = 'incident table t unreachable: Error: connect ECONNREFUSED 127.0.0.1:1';
    expect(failOpenDecision(record('r', T0, gitTlsTimeout()), reason)).toMatchObject({
      state: 'ALARM',
      failOpen: reason,
      failingSince: null,
      failure: { step: 'git', kind: 'timeout', phase: 'tls' },
    });
    expect(failOpenDecision(record('r', T0, targetResult()), reason)).toBeNull();
  });
});

describe('jsonLogger', () => {
  it('writes one JSON object per line, type first', () => {
    const lines: string[] = [];
    jsonLogger({ write: (line: string) => lines.push(line) }).error('boom', {
      type: 'codecommit-canary/x',
      target: 't',
    });
    expect(lines).toEqual(['{"type":"codecommit-canary/x","level":"error","message":"boom","target":"t"}\n']);
  });
});

describe('severityOf', () => {
  it('makes only a failed assertion a warning', () => {
    expect(STEP_NAMES.map((step) => [step, severityOf({ step })])).toEqual([
      ['sts', 'critical'],
      ['git', 'critical'],
      ['fetch', 'critical'],
      ['expect', 'warning'],
    ]);
    expect(severityOf(null)).toBe('critical');
  });
});

describe('decide with a failed assertion', () => {
  /** ls-remote passed; HEAD points at another branch than expected. */
  const otherHead = (): TargetResult => {
    const healthyResult = targetResult();
    const { git } = healthyResult.steps;
    return {
      ...healthyResult,
      ok: false,
      steps: {
        ...healthyResult.steps,
        expect: {
          ok: false,
          endpoint: git.endpoint,
          addresses: git.addresses,
          private: git.private,
          durationMs: 0,
          deadlineMs: 0,
          phases: zeroPhases(),
          failure: {
            kind: 'assertion',
            phase: 'body',
            message: 'HEAD points at refs/heads/master, expected refs/heads/main',
          },
          expectations: [{ check: 'head', ok: false, expected: 'refs/heads/main', found: 'refs/heads/master' }],
        },
      },
    };
  };

  it('opens, reminds and closes an incident like any failure, its failure naming the expect step', () => {
    const records = [0, 1, 61, 62].map((at) => record(`run-${at}`, minutes(at), otherHead()));

    const { notifications } = run([...records, healthy(63)]);

    expect(notifications.map((n) => [n.state, n.failure?.step, n.failure?.kind, severityOf(n.failure)])).toEqual([
      ['ALARM', 'expect', 'assertion', 'warning'],
      ['REMINDER', 'expect', 'assertion', 'warning'],
      ['RECOVERED', 'expect', 'assertion', 'warning'],
    ]);
  });
});
