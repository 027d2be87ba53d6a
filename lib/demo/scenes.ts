/**
 * The demo's script: each scene sets the sandbox's fault switches, lets the schedule run a few times, and says
 * which alerts it must cause. The list is data: add a scene by adding an entry (`faultAndEnd` for a fault and its end) (the summary and the test check
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
  /** A silence of every target in force while the scene plays (`mute --all`), with this reason. */
  silence?: string;
  /**
   * The git name's addresses the scene needs (one per AZ: 127.0.0.1-3, loopback aliases Linux has and macOS does
   * not); where the sandbox has fewer, the scene is left out. Default 1.
   */
  gitAddresses?: number;
}

/** A scene with nothing broken. */
const healthy = (id: string, caption: string, runs = 2): Scene => ({ id, caption, faults: {}, runs, alerts: [] });

/**
 * A fault and its end as two scenes: while `faults` hold, the schedule must raise `raises` once; in the scene
 * after, with every endpoint answering again, it must close it (a page RECOVERED, a finding CLEARED).
 */
function faultAndEnd(
  fault: Pick<Scene, 'id' | 'faults' | 'runs' | 'gitAddresses'> & { raises: ExpectedAlert },
  caption: string,
  end: { id: string; caption: string },
): [Scene, Scene] {
  const { id, faults, runs, raises, gitAddresses } = fault;
  const closed: AlertState = raises.state === 'FINDING' ? 'CLEARED' : 'RECOVERED';
  const needs = gitAddresses === undefined ? {} : { gitAddresses };
  return [
    { id, caption, faults, runs, alerts: [raises], ...needs },
    { ...healthy(end.id, end.caption), alerts: [{ ...raises, state: closed }], ...needs },
  ];
}

export const SCENES: readonly Scene[] = [
  healthy(
    'healthy',
    'All healthy: AssumeRole, then git ls-remote with the role, then a shallow fetch of HEAD (a 384 KiB pack); beside them every address of each endpoint checked on its own. Look for every phase timed (dns, connect, tls, first byte, transfer), a path line per address of git.demo.test (one per AZ), and incident "ok".',
  ),
  ...faultAndEnd(
    { id: 'sts-hang', faults: { sts: 'hang' }, runs: 3, raises: { state: 'ALARM', step: 'sts', kind: 'timeout' } },
    'The STS endpoint accepts connections and never answers: the classic PrivateLink hang. Look for sts "timeout in response" at the deadline, git skipped; the 1st failed run only counts, the 2nd opens the incident and pages (ALARM below), the 3rd does not page again.',
    {
      id: 'sts-recovered',
      caption:
        'STS answers again. Look for the RECOVERED message: what had failed, for how long, and how fast it is now.',
    },
  ),
  ...faultAndEnd(
    { id: 'git-denied', faults: { git: 'deny' }, runs: 3, raises: { state: 'ALARM', step: 'git', kind: 'auth' } },
    'git-codecommit refuses the role (HTTP 403: no codecommit:GitPull, an endpoint policy, an SCP). Look for sts ok but git "auth … HTTP 403"; the ALARM names the step and what to check.',
    {
      id: 'git-recovered',
      caption: 'The role may pull again. Look for the RECOVERED message and refs/HEAD back in the git step.',
    },
  ),
  ...faultAndEnd(
    {
      id: 'az-down',
      faults: { 'git-1d': 'hang' },
      runs: 3,
      gitAddresses: 3,
      raises: { state: 'ALARM', step: 'git', kind: 'timeout' },
    },
    'One Availability Zone\'s endpoint interface goes dead: git.demo.test answers with three addresses (ap-northeast-1a, 1c, 1d), and the one in ap-northeast-1d accepts connections but never completes TLS, so a third of the clients hang. ls-remote on the first address still passes; the check of every address finds the dead one. Look for git "degraded: 1 of 3 paths failed" and the ALARM naming 127.0.0.3 and ap-northeast-1d.',
    {
      id: 'az-back',
      caption: 'The interface in ap-northeast-1d answers again. Look for every path ok and the RECOVERED message.',
    },
  ),
  ...faultAndEnd(
    {
      id: 'pack-stall',
      faults: { git: 'stall' },
      runs: 3,
      raises: { state: 'ALARM', step: 'fetch', kind: 'timeout' },
    },
    'A path that drops large packets (a PMTU blackhole, a stuck middlebox): the first 64 KiB of each answer pass, then nothing. ls-remote and the path checks pass, their answers are small; the fetch of the pack stalls. Look for fetch "timeout in body … stalled after N bytes" and the ALARM for the pack transfer.',
    {
      id: 'pack-flows',
      caption: 'Large packets pass again. Look for the whole pack fetched and the RECOVERED message.',
    },
  ),
  {
    id: 'silenced',
    caption:
      'Planned work: `codecommit-canary mute --all --for 10m --reason "rotating the role policy"`. git is refused again: the runs fail and the incident opens in the table, but nothing pages.',
    faults: { git: 'deny' },
    runs: 3,
    silence: 'rotating the role policy',
    alerts: [],
  },
  {
    id: 'silence-lifted',
    caption:
      '`codecommit-canary unmute --all` while git is still refused: the incident still open pages once, its ALARM noting the silence that held it.',
    faults: { git: 'deny' },
    runs: 1,
    alerts: [{ state: 'ALARM', step: 'git', kind: 'auth' }],
  },
  {
    ...healthy('silence-recovered', 'The role may pull again: RECOVERED, as after any incident.'),
    alerts: [{ state: 'RECOVERED', step: 'git', kind: 'auth' }],
  },
  ...faultAndEnd(
    {
      id: 'global-sts-hang',
      faults: { 'sts-global': 'hang' },
      runs: 2,
      raises: { state: 'FINDING', step: 'none', kind: 'global-sts-unreachable' },
    },
    "The global STS endpoint (sts.amazonaws.com; here a stand-in) stops answering while the regional one works: the monitor's own checks pass, but clients on the global endpoint (AWS CLI v1 < 1.42, sts_regional_endpoints = legacy) hang. Look for the global-sts-unreachable finding: one low-severity notification, not a page.",
    {
      id: 'global-sts-back',
      caption: 'The global endpoint answers again. Look for the CLEARED notification, sent once.',
    },
  ),
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
