'use strict';

/**
 * Where serverless.yml meets the canary config and the deploy parameters: the entry points only.
 *
 * serverless.yml refers to each export as `${file(./infra/from-config.cjs):<export>}`. Every export is a
 * resolver function that osls (and Serverless Framework v4, same contract) calls with `{ resolveVariable }`;
 * it reads the `${param:...}` values it needs (and the config only if it needs it), and hands them to the
 * file that does the job:
 *
 *   params.cjs        the deploy parameters, checked, with the message that says how to fix each
 *   config.cjs        the canary config, checked by lib/config/config.ts through scripts/check-config.ts, cached
 *   probe.cjs         the probe function's event age, schedule target and environment
 *   iam.cjs           the roles' statements, the topic's publishers and key, the email subscription
 *   alarm-sizing.cjs  alarm period, M of N, warm-up, from the schedule
 *   alarms.cjs        self-monitoring and per-target alarms
 *   dashboard.cjs     the dashboard body
 *   endpoints.cjs     the optional VPC endpoints
 *
 * Plain CommonJS without dependencies: it runs inside the CLI before anything is built. Everything is
 * decided at package time, so the generated template is the deployed truth: no CloudFormation Conditions on
 * values that are already known (cfn-lint flags those as W8003), no resources that exist only to be switched
 * off. The order in which a resolver reads and checks its inputs decides which problem is reported first.
 */

const { alarmPeriodSeconds } = require('./alarm-sizing.cjs');
const { selfMonitoringAlarms, targetAlarms } = require('./alarms.cjs');
const { configJsonLiteral, loadConfig } = require('./config.cjs');
const { dashboardBody } = require('./dashboard.cjs');
const { logDataProtectionPolicy } = require('./data-protection.cjs');
const { vpcEndpointPolicies } = require('./endpoint-policies.cjs');
const { vpcEndpoints } = require('./endpoints.cjs');
const iam = require('./iam.cjs');
const { opsTopicInRegion, paramReader } = require('./params.cjs');
const probe = require('./probe.cjs');

/** A resolver's inputs, each read (and checked) only when it asks for it. */
function inputs(resolveVariable) {
  const params = paramReader(resolveVariable);
  const config = async () => loadConfig(await params.text('configPath'));
  /** The Region the stack deploys to: `--region` if given, else the config's (as provider.region resolves). */
  const stackRegion = async () => {
    const option = await resolveVariable('opt:region, null');
    return option == null || option === '' ? (await config()).config.region : String(option);
  };
  return {
    ...params,
    config,
    stackRegion,
    /** The schedule period, checked against the alarm window the config's alert threshold needs. */
    alarmPeriodSeconds: async () => {
      const { periodSeconds } = await params.schedule();
      return alarmPeriodSeconds(periodSeconds, (await config()).failuresBeforeAlert);
    },
    /** opsTopicArn, checked, in the stack's Region; null when not given. */
    opsTopicArn: async () => {
      const opsTopic = await params.opsTopicArn();
      return opsTopic && opsTopicInRegion(opsTopic, await stackRegion());
    },
  };
}

/** A resolver as serverless calls it: `build` gets the inputs of this one call. */
const resolver =
  (build) =>
  async ({ resolveVariable }) =>
    build(inputs(resolveVariable));

// ---------------------------------------------------------------------------------------------------------
// Values

/** provider.region: the config's region (a `--region` option still wins). */
exports.region = resolver(async (input) => (await input.config()).config.region);

/** custom.esbuild.define: the checked config, packaged (sealed, defaults applied), bundled into both functions. */
exports.configJsonLiteral = resolver(async (input) => configJsonLiteral((await input.config()).packaged));

/** The probe's Lambda timeout (s), from lib/run/budget.ts: the same reserve the handler budgets with. */
exports.probeTimeout = resolver(async (input) => (await input.config()).probeTimeoutSeconds[await input.delivery()]);

exports.delivery = resolver((input) => input.delivery());

exports.scheduleRate = resolver(async (input) => (await input.schedule()).rate);

exports.probeMaximumEventAge = resolver(async (input) =>
  probe.probeMaximumEventAge((await input.schedule()).periodSeconds),
);

exports.probeScheduleTargets = resolver(async (input) =>
  probe.probeScheduleTargets((await input.schedule()).periodSeconds),
);

exports.probeEnvironment = resolver(async (input) => probe.probeEnvironment(await input.delivery()));

/** functions.probe.vpc */
exports.probeVpc = resolver((input) => input.probeVpc());

exports.probePolicyStatements = resolver(async (input) => {
  const { targets, namespace } = await input.config();
  const delivery = await input.delivery();
  const keyArn = await input.topicKeyArn();
  return iam.probePolicyStatements({ targets, namespace, delivery, keyArn });
});

exports.notifierPolicyStatements = resolver(async (input) =>
  iam.notifierPolicyStatements({ keyArn: await input.topicKeyArn() }),
);

exports.topicPublisherRoleArns = resolver(async (input) => iam.topicPublisherRoleArns(await input.delivery()));

exports.alertTopicProperties = resolver(async (input) => iam.alertTopicProperties(await input.topicKeyArn()));

exports.dashboardBody = resolver(async (input) => {
  const { targets, namespace, detail } = await input.config();
  const { periodSeconds } = await input.schedule();
  return dashboardBody({ targets, namespace, detail, periodSeconds });
});

// ---------------------------------------------------------------------------------------------------------
// Resources fragments (items of serverless.yml's `resources` list; `{}` when not wanted)

exports.targetAlarms = resolver(async (input) => {
  const { targets, namespace, failuresBeforeAlert, config } = await input.config();
  const periodSeconds = await input.alarmPeriodSeconds();
  const page = await input.boolean('pageOnTargetAlarms');
  const fetchByDefault = config.fetch.enabled;
  return targetAlarms({ targets, namespace, failuresBeforeAlert, periodSeconds, page, fetchByDefault });
});

exports.selfMonitoringAlarms = resolver(async (input) => {
  const { namespace } = await input.config();
  const periodSeconds = await input.alarmPeriodSeconds();
  const opsTopicArn = await input.opsTopicArn();
  return selfMonitoringAlarms({ namespace, periodSeconds, opsTopicArn });
});

exports.alertEmailSubscription = resolver(async (input) => iam.alertEmailSubscription(await input.alertEmail()));

/** Both log groups' data protection policy (infra/data-protection.cjs). */
exports.logDataProtectionPolicy = resolver(async () => logDataProtectionPolicy());

/** Policies for the endpoints vpcEndpoints creates, merged into them by logical id; nothing without them. */
exports.vpcEndpointPolicies = resolver(async (input) => {
  if (!(await input.boolean('createVpcEndpoints'))) return {};
  const { config, targets } = await input.config();
  const delivery = await input.delivery();
  const gitFips = await input.boolean('gitFipsEndpoint');
  return vpcEndpointPolicies({ delivery, targets, defaultRegion: config.region, gitFips });
});

exports.vpcEndpoints = resolver(async (input) => {
  if (!(await input.boolean('createVpcEndpoints'))) return {};
  const delivery = await input.delivery();
  const { subnetIds, securityGroupIds } = await input.probeVpc();
  const vpcId = await input.vpcId();
  const routeTableIds = delivery === 'direct' ? await input.routeTableIds() : [];
  const region = await input.stackRegion();
  const privateDns = await input.boolean('privateDns');
  const gitFips = await input.boolean('gitFipsEndpoint');
  return vpcEndpoints({ delivery, subnetIds, securityGroupIds, vpcId, routeTableIds, region, privateDns, gitFips });
});
