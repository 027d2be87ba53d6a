/**
 * The demo's script: each scene sets the sandbox's fault switches, lets the schedule run a few times, and says
 * which alerts it must cause. The list is data: add a scene by adding an entry (the summary and the test check
 * `alerts` for every scene, whatever the list holds).
 */
import type { AlertState, AnyAlert } from '../alerting/text.ts';
import type { Fault } from '../sandbox/fault-switch.ts';
import type { EndpointName } from '../sandbox/sandbox.ts';

/** An alert as its SNS attributes describe it: pages and finding notifications alike. */
export interface ExpectedAlert {
  state: AlertState;
  /** ALARM: the failed step; RECOVERED: the step that had failed; a finding: 'none'. */
  step: string;
  /** The failure kind (`timeout`, `auth`, …) or the finding code (`global-sts-unreachable`, …). */
  kind: string;
}

export interface Scene {
  id: string;
  /** One line at the scene's start: what is happening and what to look for. */
  caption: string;
  /** The whole fault state while the scene plays; endpoints not named answer normally. */
  faults: Partial<Record<EndpointName, Fault>>;
  /** Scheduled runs the scene lasts. */
  runs: number;
  /** The alerts the scene must send, in order (none: it must send none). */
  alerts: readonly ExpectedAlert[];
}

export const SCENES: readonly Scene[] = [
  {
    id: 'healthy',
    caption:
      'All healthy: AssumeRole, then git ls-remote with the role. Look for every phase timed (dns, connect, tls, first byte, transfer) and incident "ok".',
    faults: {},
    runs: 2,
    alerts: [],
  },
  {
    id: 'sts-hang',
    caption:
      'The STS endpoint accepts connections and never answers: the classic PrivateLink hang. Look for sts "timeout in response" at the deadline, git skipped; the 1st failed run only counts, the 2nd opens the incident and pages (ALARM below), the 3rd does not page again.',
    faults: { sts: 'hang' },
    runs: 3,
    alerts: [{ state: 'ALARM', step: 'sts', kind: 'timeout' }],
  },
  {
    id: 'sts-recovered',
    caption:
      'STS answers again. Look for the RECOVERED message: what had failed, for how long, and how fast it is now.',
    faults: {},
    runs: 2,
    alerts: [{ state: 'RECOVERED', step: 'sts', kind: 'timeout' }],
  },
  {
    id: 'git-denied',
    caption:
      'git-codecommit refuses the role (HTTP 403: no codecommit:GitPull, an endpoint policy, an SCP). Look for sts ok but git "auth … HTTP 403"; the ALARM names the step and what to check.',
    faults: { git: 'deny' },
    runs: 3,
    alerts: [{ state: 'ALARM', step: 'git', kind: 'auth' }],
  },
  {
    id: 'git-recovered',
    caption: 'The role may pull again. Look for the RECOVERED message and refs/HEAD back in the git step.',
    faults: {},
    runs: 2,
    alerts: [{ state: 'RECOVERED', step: 'git', kind: 'auth' }],
  },
  {
    id: 'global-sts-hang',
    caption:
      "The global STS endpoint (sts.amazonaws.com; here a stand-in) stops answering while the regional one works: the monitor's own checks pass, but clients on the global endpoint (AWS CLI v1 < 1.42, sts_regional_endpoints = legacy) hang. Look for the global-sts-unreachable finding: one low-severity notification, not a page.",
    faults: { 'sts-global': 'hang' },
    runs: 2,
    alerts: [{ state: 'FINDING', step: 'none', kind: 'global-sts-unreachable' }],
  },
  {
    id: 'global-sts-back',
    caption: 'The global endpoint answers again. Look for the CLEARED notification, sent once.',
    faults: {},
    runs: 2,
    alerts: [{ state: 'CLEARED', step: 'none', kind: 'global-sts-unreachable' }],
  },
];

const describe = (a: ExpectedAlert): string => `${a.state} ${a.step} ${a.kind}`;

/**
 * What went differently from the scene's `alerts`, or null when it sent exactly those, in order.
 *
 * @example
 * sceneProblem(scene, []) // 'expected ALARM sts timeout, got no alerts'
 */
export function sceneProblem(scene: Scene, sent: readonly AnyAlert[]): string | null {
  const expected = scene.alerts.map(describe);
  const got = sent.map((alert) => describe(alert.attributes));
  if (expected.join('|') === got.join('|')) return null;
  const list = (items: string[]) => (items.length === 0 ? 'no alerts' : items.join(', '));
  return `expected ${list(expected)}, got ${list(got)}`;
}
