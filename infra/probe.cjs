'use strict';

/**
 * The probe function's settings that follow from the parameters: how long a scheduled run may wait to be
 * delivered (in EventBridge and in Lambda) and its environment per delivery mode. Pure: the schedule period
 * and the delivery mode (infra/params.cjs) in, serverless.yml values out.
 */

const { ref, arnOf } = require('./shared.cjs');

/** EventInvokeConfig.MaximumEventAgeInSeconds: 60 to 21,600; an EventBridge target's RetryPolicy: 60 to 86,400. */
const MAX_LAMBDA_EVENT_AGE_SECONDS = 21_600;

/**
 * functions.probe.maximumEventAge (the EventInvokeConfig's MaximumEventAgeInSeconds): one schedule period.
 * A run that waited in Lambda's asynchronous queue longer (throttled, the function being updated) would
 * only probe late, next to the run of its own period: Lambda drops it instead.
 */
const probeMaximumEventAge = (periodSeconds) => Math.min(MAX_LAMBDA_EVENT_AGE_SECONDS, periodSeconds);

/**
 * The schedule rule's one target with a RetryPolicy (resources.extensions; osls's `schedule` event has no
 * retry setting): EventBridge keeps an undelivered run for at most one period and does not retry it. Its
 * default is to retry for 24 hours (185 attempts), which would start runs of long-gone periods.
 */
const probeScheduleTargets = (periodSeconds) => [
  {
    Arn: arnOf('ProbeLambdaFunction'),
    Id: 'probeSchedule',
    RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: periodSeconds },
  },
];

/** The probe's own environment (on top of provider.environment): the alert path's names in direct mode only. */
const probeEnvironment = (delivery) =>
  delivery === 'direct' ? { CANARY_TABLE: ref('IncidentTable'), CANARY_TOPIC_ARN: ref('AlertTopic') } : {};

module.exports = { MAX_LAMBDA_EVENT_AGE_SECONDS, probeMaximumEventAge, probeScheduleTargets, probeEnvironment };
