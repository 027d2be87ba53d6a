'use strict';

/**
 * The optional consumer-side VPC endpoints (createVpcEndpoints=true), per delivery mode. Pure: the checked
 * parameters (infra/params.cjs: the probe's subnets and security groups, vpcId, routeTableIds) in, a
 * `resources` fragment out.
 */

const { ref } = require('./shared.cjs');

/**
 * Services whose endpoint service name in the China regions starts `cn.com.amazonaws.` instead of
 * `com.amazonaws.` (the names AWS publishes there, as aws-cdk's InterfaceVpcEndpointAwsService lists them for
 * cn-north-1 and cn-northwest-1); every other pair, GovCloud included, keeps `com.amazonaws.`.
 */
const CHINA_PREFIXED_SERVICES = new Set(['sts', 'monitoring']);

/**
 * The endpoint service name of an AWS service in the stack's Region, e.g. `com.amazonaws.<region>.sts` or, in
 * China, `cn.com.amazonaws.<region>.sts`.
 */
const serviceName = (region, service) =>
  `${region?.startsWith('cn-') && CHINA_PREFIXED_SERVICES.has(service) ? 'cn.' : ''}com.amazonaws.\${AWS::Region}.${service}`;

/**
 * The endpoints: the two the probe tests, sts and git-codecommit, and in direct mode the ones it then reports
 * through: monitoring, sns (interface) and dynamodb (gateway, on routeTableIds). Interface endpoints go into
 * the probe's subnets (one per AZ) with private DNS (the VPC needs DNS hostnames and support enabled), behind
 * a security group that admits 443 from each of the probe's security groups. Their endpoint policies, limited to
 * the canary's calls, come from infra/endpoint-policies.cjs (merged in by logical id).
 */
function vpcEndpoints({
  delivery,
  subnetIds,
  securityGroupIds,
  vpcId,
  routeTableIds,
  region,
  privateDns = true,
  gitFips = false,
}) {
  const interfaceEndpoint = (service) => ({
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Sub': serviceName(region, service) },
      VpcId: vpcId,
      SubnetIds: subnetIds,
      SecurityGroupIds: [ref('VpcEndpointSecurityGroup')],
      // privateDns=false when the VPC already has this endpoint with private DNS: a second one would conflict
      // over the same private hosted zone (CloudFormation fails); the probe then names the endpoint itself.
      PrivateDnsEnabled: privateDns,
    },
  });
  const Resources = {
    VpcEndpointSecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'CodeCommit canary VPC endpoints: HTTPS from the probe',
        VpcId: vpcId,
        SecurityGroupIngress: securityGroupIds.map((groupId) => ({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: groupId,
          Description: 'HTTPS from the canary probe',
        })),
      },
    },
    StsVpcEndpoint: interfaceEndpoint('sts'),
    GitCodeCommitVpcEndpoint: interfaceEndpoint('git-codecommit'),
  };
  if (gitFips) Resources.GitCodeCommitFipsVpcEndpoint = interfaceEndpoint('git-codecommit-fips');
  if (delivery === 'direct') {
    Resources.MonitoringVpcEndpoint = interfaceEndpoint('monitoring');
    Resources.SnsVpcEndpoint = interfaceEndpoint('sns');
    Resources.DynamoDbVpcEndpoint = {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Sub': serviceName(region, 'dynamodb') },
        VpcId: vpcId,
        RouteTableIds: routeTableIds,
      },
    };
  }
  return { Resources };
}

module.exports = { CHINA_PREFIXED_SERVICES, serviceName, vpcEndpoints };
