import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';

/**
 * The infra/*.cjs files, typed for the tests that call their functions directly. They are plain CommonJS (they
 * run inside the serverless CLI), so these are the shapes the tests rely on, not declarations TypeScript checks
 * the files against.
 */

const require = createRequire(import.meta.url);

/** The self-monitoring alarms that page (the notifier's heartbeat alarm holds state for a composite): the tests' expectation, written once. */
export const SELF_MONITORING_PAGES = [
  'ProbeNotRunningAlarm',
  'NotifierNotRunningAlarm',
  'NotifierErrorsAlarm',
  'NotifierThrottledAlarm',
  'NotifierFailedEventsAlarm',
  'NotifierPagesStuckAlarm',
  'NotifierRecordsRejectedAlarm',
] as const;

export type Delivery = 'log' | 'direct';
export interface Target {
  name: string;
  roleArn: string;
  fetch?: { enabled?: boolean };
}
export interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
/** An item of serverless.yml's `resources` list: `{}` when nothing is wanted. */
export interface Fragment {
  Resources?: Record<string, Resource>;
}
export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
export interface MOfN {
  DatapointsToAlarm: number;
  EvaluationPeriods: number;
}
export type Resolve = (variable: string) => Promise<unknown>;
export type Resolver = (input: { resolveVariable: Resolve }) => Promise<unknown>;

export const shared = require('../../infra/shared.cjs') as {
  CanaryDeployError: new (message: string) => Error;
};

export const params = require('../../infra/params.cjs') as {
  paramHint(name: string, example: string): string;
  parseBoolean(name: string, text: string): boolean;
  parseIdList(name: string, text: string, pattern: RegExp, example: string): string[];
  parseDelivery(text: string): Delivery;
  parseSchedule(text: string): { rate: string; periodSeconds: number };
  parseProbeVpc(subnetIds: string, securityGroupIds: string): { subnetIds: string[]; securityGroupIds: string[] };
  parseTopicKeyArn(text: string): string | { 'Fn::Sub': string } | null;
  parseOpsTopicArn(text: string): { arn: string; region: string } | null;
  opsTopicInRegion(opsTopic: { arn: string; region: string }, stackRegion: string): string;
  parseAlertEmail(text: string): string | null;
  parseVpcId(text: string): string;
  parseRouteTableIds(text: string): string[];
  readParam(resolveVariable: Resolve, name: string): Promise<string>;
  paramReader(resolveVariable: Resolve): Record<string, (name?: string) => Promise<unknown>>;
};

export interface DeployedConfig {
  config: { region: string; targets: Target[]; tls?: { caFile?: string } };
  probeTimeoutSeconds: Record<Delivery, number>;
  /** The sealed config the functions are built with (lib/config/packaged.ts). */
  packaged: string;
  namespace: string;
  detail: 'basic' | 'phases';
  failuresBeforeAlert: number;
  targets: Target[];
}
export const config = require('../../infra/config.cjs') as {
  loadConfig(configPath: string): DeployedConfig;
  deployedConfig(
    checked: { config: unknown; probeTimeoutSeconds: Record<Delivery, number>; packaged?: string },
    shown: string,
  ): DeployedConfig;
  configJsonLiteral(config: unknown): string;
};

export const probe = require('../../infra/probe.cjs') as {
  MAX_LAMBDA_EVENT_AGE_SECONDS: number;
  probeMaximumEventAge(periodSeconds: number): number;
  probeScheduleTargets(periodSeconds: number): unknown[];
  probeEnvironment(delivery: Delivery): Record<string, unknown>;
};

export type KeyArn = string | { 'Fn::Sub': string } | null;
export const iam = require('../../infra/iam.cjs') as {
  ENI_ACTIONS: string[];
  INCIDENT_TABLE_ACTIONS: string[];
  PROBE_FUNCTION_ARN: { 'Fn::Sub': string };
  probePolicyStatements(input: {
    targets: Target[];
    namespace: string;
    delivery: Delivery;
    keyArn: KeyArn;
  }): Statement[];
  notifierPolicyStatements(input: { keyArn: KeyArn }): Statement[];
  topicPublisherRoleArns(delivery: Delivery): unknown[];
  alertTopicProperties(keyArn: KeyArn): Record<string, unknown>;
  alertEmailSubscription(email: string | null): Fragment;
};

export const alarmSizing = require('../../infra/alarm-sizing.cjs') as {
  MAX_ALARM_WINDOW_SECONDS: number;
  MAX_WARM_UP_MINUTES: number;
  alarmPeriodSeconds(periodSeconds: number, failuresBeforeAlert: number): number;
  mOfN(periodSeconds: number, toleratedSeconds: number, datapoints?: number): MOfN;
  warmUpMinutes(periodSeconds: number, evaluationPeriods: number): number;
};

export const alarms = require('../../infra/alarms.cjs') as {
  SELF_MONITORING_ALARM_NAMES: Record<string, string>;
  targetAlarmName(name: string): string;
  alarmArn(alarmName: string): string;
  targetLogicalId(prefix: string, name: string): string;
  targetAlarms(input: {
    targets: Target[];
    namespace: string;
    failuresBeforeAlert: number;
    periodSeconds: number;
    page: boolean;
    fetchByDefault?: boolean;
  }): Fragment;
  selfMonitoringAlarms(input: { namespace: string; periodSeconds: number; opsTopicArn: string | null }): Fragment;
};

export const dashboard = require('../../infra/dashboard.cjs') as {
  MAX_DASHBOARD_WIDGETS: number;
  MAX_ALARMS_PER_ALARM_WIDGET: number;
  dashboardBody(input: { targets: Target[]; namespace: string; detail: 'basic' | 'phases'; periodSeconds: number }): {
    'Fn::Sub': string;
  };
};

export const endpoints = require('../../infra/endpoints.cjs') as {
  vpcEndpoints(input: {
    delivery: Delivery;
    subnetIds: string[];
    securityGroupIds: string[];
    vpcId: string;
    routeTableIds: string[];
    /** The stack's Region: its partition decides the endpoint service names. */
    region?: string;
    privateDns?: boolean;
    gitFips?: boolean;
  }): Fragment;
};

export const fromConfig = require('../../infra/from-config.cjs') as Record<string, Resolver>;

/** `n` targets named t0, t1, ... (what the pure builders need of a target). */
export const targets = (n: number, roleArn = 'arn:aws:iam::111111111111:role/R'): Target[] =>
  Array.from({ length: n }, (_, index) => ({ name: `t${index}`, roleArn }));

/** How the functions are bundled (shared with scripts/build.mjs and serverless.yml's custom.esbuild). */
export const lambdaBundle = require('../../infra/lambda-bundle.cjs') as {
  alias: Record<string, string>;
  mainFields: string[];
  external: string[];
  banner: { js: string };
  plugins: Plugin[];
};
