/**
 * How long a probe invocation may probe, and how long its Lambda may run: one source for the handler (which
 * budgets against `getRemainingTimeInMillis()`) and the packaged timeout (infra/from-config.cjs, through
 * scripts/check-config.ts), so the two cannot disagree about the reserve.
 */
import type { Config } from '../config/config.ts';
import { resolveTargets, stepsMs } from '../config/resolve-target.ts';

export type DeliveryMode = 'log' | 'direct';

/**
 * Time kept back from the probes for reporting. Log mode writes records and EMF to stdout. Direct mode also
 * calls PutMetricData (3 s), the incident and finding state (3 s each), SNS for owed and new notifications
 * (5 s each, only for changes) and the outbox bookkeeping.
 */
export const REPORTING_RESERVE_MS: Readonly<Record<DeliveryMode, number>> = { log: 2_000, direct: 20_000 };

/** Between the Lambda's start and the run's first probe: cold start, module load, scheduling on a small share of a vCPU. */
export const START_SLACK_MS = 3_000;

/** Lambda's ceiling. */
const MAX_TIMEOUT_SECONDS = 900;

/** The probe budget of one invocation. */
export const probeBudgetMs = (remainingMs: number, delivery: DeliveryMode): number =>
  Math.max(0, remainingMs - REPORTING_RESERVE_MS[delivery]);

/**
 * The probe's Lambda timeout (s): one minute for one sample per run; with `schedule.samplesPerRun`, every
 * sample's slot, the longest step pair, the reporting reserve and the start slack, so the last sample fits.
 *
 * @example
 * probeTimeoutSeconds(config, 'direct') // 60, or e.g. 67 for 2 samples 10 s apart with 12 s of steps
 */
export function probeTimeoutSeconds(config: Config, delivery: DeliveryMode): number {
  const { samplesPerRun, intervalSeconds } = config.schedule;
  const longestMs = Math.max(0, ...resolveTargets(config).map(stepsMs));
  const neededMs =
    (samplesPerRun - 1) * intervalSeconds * 1000 + longestMs + REPORTING_RESERVE_MS[delivery] + START_SLACK_MS;
  return Math.min(MAX_TIMEOUT_SECONDS, Math.max(60, Math.ceil(neededMs / 1000)));
}
