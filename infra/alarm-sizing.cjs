'use strict';

/**
 * How the alarms are sized from the probe's schedule: the alarm period (one run per period) checked against
 * CloudWatch's one-day window, M of N datapoints, and the heartbeat alarms' warm-up. Pure arithmetic.
 */

const { CanaryDeployError } = require('./shared.cjs');

/** The fewest datapoints any alarm here needs to page (M of M-of-N): one datapoint is never a page. */
const MIN_DATAPOINTS_TO_ALARM = 2;
/** CloudWatch: Period x EvaluationPeriods of an alarm may not exceed one day. */
const MAX_ALARM_WINDOW_SECONDS = 86_400;
/** CloudWatch alarm warm-up: 1 to 2,880 minutes. */
const MAX_WARM_UP_MINUTES = 2_880;
/**
 * From the creation of the stack's alarms to the probe's first heartbeat, before the first schedule period:
 * CloudFormation creates the VPC function (Lambda waits for its network interfaces), then the schedule rule
 * that needs the function's ARN; EMF in the log becomes a metric a minute or so later.
 */
const FIRST_HEARTBEAT_ALLOWANCE_SECONDS = 600;

/**
 * Alarm period = schedule period: one probe run (and one notifier invocation) per period. Refused when the
 * target alarms' window (failuresBeforeAlert periods, at least 2) would exceed one day.
 */
function alarmPeriodSeconds(periodSeconds, failuresBeforeAlert) {
  const periods = Math.max(MIN_DATAPOINTS_TO_ALARM, failuresBeforeAlert);
  if (periodSeconds * periods > MAX_ALARM_WINDOW_SECONDS) {
    throw new CanaryDeployError(
      `param schedule: ${periods} periods of ${periodSeconds} s exceed CloudWatch's one-day alarm window; use a shorter rate or fewer alerts.failuresBeforeAlert`,
    );
  }
  return periodSeconds;
}

/**
 * M of N for a self-monitoring alarm: M datapoints must breach within the last N periods. M is one more than
 * the periods a harmless blip of `toleratedSeconds` can fill (at least 2: one datapoint never pages); N is
 * M + 2, so a fault that comes and goes (every other run) still pages. Both capped by the one-day window.
 *
 * @example
 * mOfN(60, 120)  // { DatapointsToAlarm: 3, EvaluationPeriods: 5 }: a 1-minute schedule, 2 minutes of lag tolerated
 * mOfN(300, 120) // { DatapointsToAlarm: 2, EvaluationPeriods: 4 }
 */
function mOfN(periodSeconds, toleratedSeconds, datapoints = 1 + Math.ceil(toleratedSeconds / periodSeconds)) {
  const maxPeriods = Math.floor(MAX_ALARM_WINDOW_SECONDS / periodSeconds);
  const evaluationPeriods = Math.min(Math.max(datapoints, MIN_DATAPOINTS_TO_ALARM) + 2, maxPeriods);
  return {
    DatapointsToAlarm: Math.min(Math.max(datapoints, MIN_DATAPOINTS_TO_ALARM), evaluationPeriods),
    EvaluationPeriods: evaluationPeriods,
  };
}

/**
 * Warm-up of a heartbeat alarm (missing data = breaching), in minutes: long enough for the first heartbeat
 * after a fresh deploy plus a full evaluation window of real datapoints. The alarm ends it early as soon as
 * its window is filled with data, so a healthy stack pays nothing for a generous value; a probe that never
 * starts pages when it ends.
 */
const warmUpMinutes = (periodSeconds, evaluationPeriods) =>
  Math.min(
    MAX_WARM_UP_MINUTES,
    Math.ceil((FIRST_HEARTBEAT_ALLOWANCE_SECONDS + (evaluationPeriods + 1) * periodSeconds) / 60),
  );

module.exports = {
  MIN_DATAPOINTS_TO_ALARM,
  MAX_ALARM_WINDOW_SECONDS,
  MAX_WARM_UP_MINUTES,
  FIRST_HEARTBEAT_ALLOWANCE_SECONDS,
  alarmPeriodSeconds,
  mOfN,
  warmUpMinutes,
};
