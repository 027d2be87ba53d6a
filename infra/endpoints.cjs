'use strict';

/**
 * The optional consumer-side VPC endpoints (createVpcEndpoints=true), per delivery mode. Pure: the checked
 * parameters (infra/params.cjs: the probe's subnets and security groups, vpcId, routeTableIds) in, a
 * `resources` fragment out.
 */

const { ref } = require('./shared.cjs');

/**
 * The endpoints: the two the probe tests, sts and git-codecommit, and in direct mode the ones it then reports
 * through: monitoring, sns (interface) and dynamodb (gateway, on routeTableIds). Interface endpoints go into
 * the probe's subnets (one per AZ) with private DNS (the VPC needs DNS hostnames and support enabled), behind
 * a security group that admits 443 from each of the probe's security groups. Their endpoint policies, limited to
 * the canary's calls, come from infra/endpoint-policies.cjs (merged in by logical id).
 */
function vpcEndpoints({ delivery, subnetIds, securityGroupIds, vpcId, routeTableIds }) {
  const interfaceEndpoint = (service) => ({
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      VpcId: vpcId,
      SubnetIds: subnetIds,
      SecurityGroupIds: [ref('VpcEndpointSecurityGroup')],
      PrivateDnsEnabled: true,
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
  if (delivery === 'direct') {
    Resources.MonitoringVpcEndpoint = interfaceEndpoint('monitoring');
    Resources.SnsVpcEndpoint = interfaceEndpoint('sns');
    Resources.DynamoDbVpcEndpoint = {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.dynamodb` },
        VpcId: vpcId,
        RouteTableIds: routeTableIds,
      },
    };
  }
  return { Resources };
}

module.exports = { vpcEndpoints };
