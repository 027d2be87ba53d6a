'use strict';

/**
 * Policies for the VPC endpoints the stack creates (createVpcEndpoints=true): each endpoint lets through only
 * what the canary sends through it, instead of AWS's default full access. Pure: the config's targets, the
 * delivery mode and the config's region in, a `resources` fragment out that serverless merges into the
 * endpoints of infra/endpoints.cjs (same logical ids).
 *
 * An endpoint policy is a boundary evaluated next to the caller's own policies: other workloads in the VPC that
 * resolve the same private DNS names are refused by these endpoints. Give them their own endpoints (with
 * privateDns=false on these) or leave createVpcEndpoints off and write the policies yourself.
 */

const { arnOf, ref } = require('./shared.cjs');

/** The incident table's item actions the probe sends in direct mode (lib/alerting/versioned-table.ts). */
const { INCIDENT_TABLE_ACTIONS } = require('./iam.cjs');

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//;
const TARGET_URL = /^codecommit(?:::([a-z0-9-]+))?:\/\/(?:[^@/]+@)?([\w.-]+)$/;

/**
 * The repository ARN a target reads: in its role's partition and account, in its region (the target's, the
 * URL's, else the config's), as the session policy (lib/steps/session-policy.ts) names it.
 */
function repositoryArn(target, defaultRegion) {
  const role = ROLE_ARN.exec(target.roleArn);
  if (!role) throw new Error(`targets: ${target.name}: not an IAM role ARN: ${target.roleArn}`);
  const fromUrl = target.url ? TARGET_URL.exec(target.url) : null;
  const region = target.region ?? fromUrl?.[1] ?? defaultRegion;
  const repository = target.repository ?? fromUrl?.[2];
  return `arn:${role[1]}:codecommit:${region}:${role[2]}:${repository}`;
}

const policy = (statement) => ({ PolicyDocument: { Version: '2012-10-17', Statement: [statement] } });
const sorted = (values) => [...new Set(values)].sort();

/**
 * The fragment: sts lets the probe role assume the target roles; git-codecommit lets the target roles' sessions
 * GitPull the target repositories; in direct mode monitoring, sns and dynamodb let the probe role send what it
 * sends (PutMetricData, Publish to the alert topic, the incident table's item actions).
 */
function vpcEndpointPolicies({ delivery, targets, defaultRegion, gitFips = false }) {
  const roleArns = sorted(targets.map((target) => target.roleArn));
  const probe = { AWS: arnOf('ProbeRole') };
  const Resources = {
    StsVpcEndpoint: {
      Properties: policy({
        Sid: 'ProbeAssumesTargetRoles',
        Effect: 'Allow',
        Principal: probe,
        Action: 'sts:AssumeRole',
        Resource: roleArns,
      }),
    },
    GitCodeCommitVpcEndpoint: {
      Properties: policy({
        Sid: 'TargetRolesPullTargetRepositories',
        Effect: 'Allow',
        Principal: { AWS: roleArns },
        Action: 'codecommit:GitPull',
        Resource: sorted(targets.map((target) => repositoryArn(target, defaultRegion))),
      }),
    },
  };
  // The FIPS git endpoint (gitFipsEndpoint=true) carries the same git traffic: the same policy.
  if (gitFips) Resources.GitCodeCommitFipsVpcEndpoint = Resources.GitCodeCommitVpcEndpoint;
  if (delivery === 'direct') {
    Resources.MonitoringVpcEndpoint = {
      Properties: policy({
        Sid: 'ProbePutsMetricData',
        Effect: 'Allow',
        Principal: probe,
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
      }),
    };
    Resources.SnsVpcEndpoint = {
      Properties: policy({
        Sid: 'ProbePublishesAlerts',
        Effect: 'Allow',
        Principal: probe,
        Action: 'sns:Publish',
        Resource: ref('AlertTopic'),
      }),
    };
    Resources.DynamoDbVpcEndpoint = {
      Properties: policy({
        Sid: 'ProbeKeepsIncidentState',
        Effect: 'Allow',
        Principal: probe,
        Action: INCIDENT_TABLE_ACTIONS,
        Resource: arnOf('IncidentTable'),
      }),
    };
  }
  return { Resources };
}

module.exports = { repositoryArn, vpcEndpointPolicies };
