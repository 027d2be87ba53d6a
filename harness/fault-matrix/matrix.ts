/**
 * What the fault matrix runs: every dependency of a monitor run crossed with every way a dependency breaks (the
 * fault cells), and the outages of the alert path that take more than one run to tell (the scenario cells). Each
 * cell is a list of runs ("steps"), each run with its own state of the world, and the pages on-call must get,
 * with the run after which each must have arrived. harness/fault-matrix/runner.ts runs them.
 */
import type { AlertSettings } from '../../lib/alerting/incident-policy.ts';
import type { FailureKind, Phase } from '../../lib/types.ts';

export const DEPENDENCIES = ['sts', 'git', 'cloudwatch', 'sns', 'dynamodb'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];
export type Mode = 'log' | 'direct';

export interface Fault {
  id: string;
  label: string;
  /** What the probe's step reports when this fault is at its endpoint. */
  probe: { kind: FailureKind; phase: Phase };
}

/** The faults, in the order. */
export const FAULTS: readonly Fault[] = [
  { id: 'dns-silent', label: 'DNS no answer', probe: { kind: 'timeout', phase: 'dns' } },
  { id: 'nxdomain', label: 'NXDOMAIN', probe: { kind: 'dns', phase: 'dns' } },
  { id: 'connect-hang', label: 'connect never completes', probe: { kind: 'timeout', phase: 'connect' } },
  { id: 'refused', label: 'connection refused', probe: { kind: 'refused', phase: 'connect' } },
  { id: 'reset', label: 'reset mid-response', probe: { kind: 'reset', phase: 'body' } },
  { id: 'tls-hang', label: 'TLS never answered', probe: { kind: 'timeout', phase: 'tls' } },
  { id: 'untrusted', label: 'untrusted certificate', probe: { kind: 'tls', phase: 'tls' } },
  { id: 'headers-hang', label: 'headers never sent', probe: { kind: 'timeout', phase: 'response' } },
  { id: 'trickle', label: 'body trickling', probe: { kind: 'timeout', phase: 'body' } },
  { id: 'http-403', label: 'HTTP 403', probe: { kind: 'auth', phase: 'response' } },
  { id: 'http-404', label: 'HTTP 404', probe: { kind: 'not-found', phase: 'response' } },
  { id: 'throttled', label: 'HTTP 429 Throttling', probe: { kind: 'throttled', phase: 'response' } },
  { id: 'http-503', label: 'HTTP 503', probe: { kind: 'http', phase: 'response' } },
  { id: 'garbage', label: 'garbage body', probe: { kind: 'protocol', phase: 'body' } },
  { id: 'endless', label: 'endless body', probe: { kind: 'protocol', phase: 'body' } },
];

/** A fault of FAULTS by id, or, for SNS only, a server that takes the Publish to SNS and loses the answer. */
export type FaultId = string;
export const ANSWER_LOST = 'answer-lost';

/**
 * Deadlines. A broken dependency gets short ones (the matrix must be fast); healthy ones keep room for moto
 * under the matrix's own load. Invocation deadlines are computed from them (arrange.ts, `notifyBoundMs`).
 */
export const TIMING = {
  /** The broken step's deadline (and the failing target's steps on the alert side). */
  brokenStepMs: 600,
  /** The healthy steps' deadline (sts when git is the broken one; a target that probes ok). */
  healthyStepMs: 2400,
  /** Probe budget of a run (runMonitor cuts every step to what is left of it). */
  budgetMs: 3000,
  /** Deadline of one call to a broken SDK dependency (sink timeout, outbox deadline, publish deadline)… */
  brokenCallMs: 600,
  /** …and of each attempt in it (connect and request timeouts of the bounded clients). */
  brokenAttemptMs: 300,
  /** The same for healthy ones. */
  healthyCallMs: 2500,
  healthyAttemptMs: 1500,
  /** Writing records and EMF, scheduling on a loaded 2-core machine. */
  slackMs: 400,
  /** The outbox's lease on a notification being published (the production default). */
  leaseMs: 30_000,
} as const;

/** The alert policy of the matrix: one failure opens the incident, so a failing target's first run pages. */
export const ALERT_SETTINGS: AlertSettings = { failuresBeforeAlert: 1, renotifyMinutes: 60 };

/**
 * The world during one run. Absent: healthy. A fault on `sts`/`git` is at the target's endpoint; on the SDK
 * dependencies, at their client's endpoint. In log mode a run is a probe invocation and the notifier's
 * invocations for its subscription event (delivered `deliveries` times into the same warm container, as
 * CloudWatch Logs delivers at least once and Lambda retries a failed invocation); in direct mode it is a probe
 * invocation that raises its own alerts.
 */
export interface Step {
  sts?: FaultId;
  git?: FaultId;
  cloudwatch?: FaultId;
  sns?: FaultId;
  dynamodb?: FaultId;
  /** The cell's single target probes healthy this run (default: it fails; sts refused, unless sts/git are broken). */
  targetOk?: boolean;
  /** The invocation that alerts dies after its state write, while its Publish is in flight (never returns). */
  kill?: boolean;
  /** How far the alert path's clock is ahead of real time this run (ms): past a dead invocation's lease. */
  clockOffsetMs?: number;
  /** Log mode: how often the run's subscription event is delivered to the notifier (default 2). */
  deliveries?: number;
  /** What the table must still owe after this run (default: nothing). */
  owedAfter?: readonly string[];
}

/** A page on-call must get: by the end of run `run` (1-based), not before, exactly once. */
export interface ExpectedPage {
  /** The cell's target id ('' for a single-target cell). */
  target: string;
  state: 'ALARM' | 'RECOVERED';
  run: number;
  failOpen?: boolean;
}

export interface Cell {
  id: string;
  /** `fault`: one of the 5 × 15; `scenario`: an alert-path outage over several runs. */
  kind: 'fault' | 'scenario';
  /** Fault cells: the dependency broken and how. */
  dependency?: Dependency;
  fault?: Fault;
  label: string;
  modes: readonly Mode[];
  /** The cell's targets (ids, '' for the one target) and whether they probe healthy (default: they fail). */
  targets: ReadonlyArray<{ id: string; healthy?: boolean }>;
  /** Samples per probe invocation (schedule.samplesPerRun); default 1. */
  samples?: number;
  steps: readonly Step[];
  pages: readonly ExpectedPage[];
  /**
   * SNS may have taken a message whose answer was lost: re-sends with the same dedupKey are expected here (and
   * reported). Anywhere else a second delivery of one dedupKey is a fault of the alert path.
   */
  ambiguous?: boolean;
}

const ONE_TARGET = [{ id: '' }] as const;

/** The delivery modes a dependency takes part in. */
export const modesOf = (dependency: Dependency): Mode[] =>
  dependency === 'cloudwatch' ? ['direct'] : ['log', 'direct'];

function faultCell(dependency: Dependency, fault: Fault): Cell {
  const base = {
    id: `${dependency}-${fault.id}`,
    kind: 'fault' as const,
    dependency,
    fault,
    label: `${dependency} × ${fault.label}`,
    modes: modesOf(dependency),
    targets: ONE_TARGET,
  };
  switch (dependency) {
    case 'sts':
    case 'git':
    case 'cloudwatch':
      return { ...base, steps: [{ [dependency]: fault.id }], pages: [{ target: '', state: 'ALARM', run: 1 }] };
    case 'sns':
      // Owed in the broken run; the next invocation with SNS healthy sends it.
      return {
        ...base,
        steps: [{ sns: fault.id, owedAfter: ['ALARM'] }, {}],
        pages: [{ target: '', state: 'ALARM', run: 2 }],
      };
    case 'dynamodb':
      return {
        ...base,
        steps: [{ dynamodb: fault.id }],
        pages: [{ target: '', state: 'ALARM', run: 1, failOpen: true }],
      };
  }
}

export const FAULT_CELLS: readonly Cell[] = DEPENDENCIES.flatMap((dependency) =>
  FAULTS.map((fault) => faultCell(dependency, fault)),
);

const BOTH_MODES: readonly Mode[] = ['log', 'direct'];
const repeat = (n: number, step: Step): Step[] => Array.from({ length: n }, () => ({ ...step }));

function snsOutage(fault: 'refused' | 'headers-hang', runs: number): Cell {
  const how = fault === 'refused' ? 'refused' : 'hanging (accepts, never answers)';
  return {
    id: `sns-${fault === 'refused' ? 'refused' : 'hanging'}-${runs}x`,
    kind: 'scenario',
    label: `SNS ${how} for ${runs} run${runs > 1 ? 's' : ''}, then back`,
    modes: BOTH_MODES,
    targets: ONE_TARGET,
    steps: [...repeat(runs, { sns: fault, owedAfter: ['ALARM'] }), {}],
    pages: [{ target: '', state: 'ALARM', run: runs + 1 }],
  };
}

export const SCENARIO_CELLS: readonly Cell[] = [
  snsOutage('refused', 1),
  snsOutage('refused', 3),
  snsOutage('refused', 10),
  snsOutage('headers-hang', 1),
  snsOutage('headers-hang', 3),
  snsOutage('headers-hang', 10),
  {
    id: 'sns-down-at-recovery',
    kind: 'scenario',
    label: 'SNS refused when the target recovers, then back',
    modes: BOTH_MODES,
    targets: ONE_TARGET,
    steps: [{}, { targetOk: true, sns: 'refused', owedAfter: ['RECOVERED'] }, { targetOk: true }],
    pages: [
      { target: '', state: 'ALARM', run: 1 },
      { target: '', state: 'RECOVERED', run: 3 },
    ],
  },
  {
    id: 'notifier-killed',
    kind: 'scenario',
    label: 'alerting invocation killed between the state write and the publish',
    modes: BOTH_MODES,
    targets: ONE_TARGET,
    steps: [
      { kill: true, owedAfter: ['ALARM'] },
      // The next invocations: within the dead one's lease (nothing re-sent yet), then past it.
      { clockOffsetMs: 10_000, owedAfter: ['ALARM'] },
      { clockOffsetMs: TIMING.leaseMs + 1000 },
    ],
    pages: [{ target: '', state: 'ALARM', run: 3 }],
  },
  {
    id: 'dynamodb-down',
    kind: 'scenario',
    label: 'DynamoDB refused, SNS up: 2 failing + 1 healthy target, 3 samples a run, 2 runs',
    modes: BOTH_MODES,
    targets: [{ id: 'a' }, { id: 'b' }, { id: 'ok', healthy: true }],
    samples: 3,
    steps: repeat(2, { dynamodb: 'refused' }),
    pages: [
      { target: 'a', state: 'ALARM', run: 1, failOpen: true },
      { target: 'b', state: 'ALARM', run: 1, failOpen: true },
    ],
  },
  {
    id: 'both-down',
    kind: 'scenario',
    label: 'SNS and DynamoDB refused for 3 runs, then both back',
    modes: BOTH_MODES,
    targets: ONE_TARGET,
    steps: [...repeat(3, { sns: 'refused', dynamodb: 'refused' }), {}],
    pages: [{ target: '', state: 'ALARM', run: 4 }],
  },
  {
    id: 'sns-answer-lost',
    kind: 'scenario',
    label: 'SNS takes the Publish, its answer is lost (1 run), then back',
    modes: BOTH_MODES,
    targets: ONE_TARGET,
    steps: [{ sns: ANSWER_LOST, owedAfter: ['ALARM'] }, {}],
    pages: [{ target: '', state: 'ALARM', run: 1 }],
    ambiguous: true,
  },
];

export const CELLS: readonly Cell[] = [...FAULT_CELLS, ...SCENARIO_CELLS];

export const cellName = (cell: Cell): string => cell.label;
