import { expect, it } from 'vitest';
import { type Delivery, endpoints, type Resource } from './modules.ts';

/** infra/endpoints.cjs: the endpoints the probe needs per delivery mode, reachable only from its groups. */

const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const SECURITY_GROUPS = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
const VPC = 'vpc-0123456789abcdef0';
const ROUTE_TABLES = ['rtb-0123456789abcdef0'];

const build = (delivery: Delivery) =>
  endpoints.vpcEndpoints({
    delivery,
    subnetIds: SUBNETS,
    securityGroupIds: SECURITY_GROUPS,
    vpcId: VPC,
    routeTableIds: delivery === 'direct' ? ROUTE_TABLES : [],
  }).Resources as Record<string, Resource>;

/** [logical id, service, type] of every endpoint. */
const summary = (resources: Record<string, Resource>) =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::EC2::VPCEndpoint')
    .map(([id, r]) => [
      id,
      /\.([\w-]+)$/.exec((r.Properties.ServiceName as { 'Fn::Sub': string })['Fn::Sub'])?.[1],
      r.Properties.VpcEndpointType,
    ]);

it('log mode: only what the probe tests, sts and git-codecommit', () => {
  expect(summary(build('log'))).toEqual([
    ['StsVpcEndpoint', 'sts', 'Interface'],
    ['GitCodeCommitVpcEndpoint', 'git-codecommit', 'Interface'],
  ]);
});

it('direct mode: also what the probe reports through, monitoring and sns, and a DynamoDB gateway', () => {
  const resources = build('direct');
  expect(summary(resources)).toEqual([
    ['StsVpcEndpoint', 'sts', 'Interface'],
    ['GitCodeCommitVpcEndpoint', 'git-codecommit', 'Interface'],
    ['MonitoringVpcEndpoint', 'monitoring', 'Interface'],
    ['SnsVpcEndpoint', 'sns', 'Interface'],
    ['DynamoDbVpcEndpoint', 'dynamodb', 'Gateway'],
  ]);
  expect(resources.DynamoDbVpcEndpoint?.Properties).toEqual({
    VpcEndpointType: 'Gateway',
    ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.dynamodb` },
    VpcId: VPC,
    RouteTableIds: ROUTE_TABLES,
  });
});

it('puts interface endpoints in the probe’s subnets with private DNS, behind a group open to its groups on 443', () => {
  const resources = build('direct');
  for (const id of ['StsVpcEndpoint', 'GitCodeCommitVpcEndpoint', 'MonitoringVpcEndpoint', 'SnsVpcEndpoint']) {
    expect(resources[id]?.Properties).toMatchObject({
      VpcId: VPC,
      SubnetIds: SUBNETS,
      SecurityGroupIds: [{ Ref: 'VpcEndpointSecurityGroup' }],
      PrivateDnsEnabled: true,
    });
  }
  const ingress = resources.VpcEndpointSecurityGroup?.Properties.SecurityGroupIngress as Record<string, unknown>[];
  expect(resources.VpcEndpointSecurityGroup?.Properties.VpcId).toBe(VPC);
  expect(ingress.map((rule) => [rule.IpProtocol, rule.FromPort, rule.ToPort, rule.SourceSecurityGroupId])).toEqual(
    SECURITY_GROUPS.map((group) => ['tcp', 443, 443, group]),
  );
});

it('service names follow the partition: cn.com.amazonaws. for sts and monitoring in China, com.amazonaws. elsewhere', () => {
  const names = (region: string) =>
    Object.values(
      endpoints.vpcEndpoints({
        delivery: 'direct',
        subnetIds: SUBNETS,
        securityGroupIds: SECURITY_GROUPS,
        vpcId: VPC,
        routeTableIds: ROUTE_TABLES,
        region,
      }).Resources as Record<string, Resource>,
    )
      .filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')
      .map((r) => (r.Properties.ServiceName as { 'Fn::Sub': string })['Fn::Sub'].replace(`\${AWS::Region}`, region));
  expect(names('cn-north-1')).toEqual([
    'cn.com.amazonaws.cn-north-1.sts',
    'com.amazonaws.cn-north-1.git-codecommit',
    'cn.com.amazonaws.cn-north-1.monitoring',
    'com.amazonaws.cn-north-1.sns',
    'com.amazonaws.cn-north-1.dynamodb',
  ]);
  expect(names('us-gov-west-1')[0]).toBe('com.amazonaws.us-gov-west-1.sts');
  expect(names('ap-northeast-1')[2]).toBe('com.amazonaws.ap-northeast-1.monitoring');
});

it('privateDns=false for a VPC that already has the endpoints with private DNS; an optional git-codecommit-fips one', () => {
  const resources = endpoints.vpcEndpoints({
    delivery: 'log',
    subnetIds: SUBNETS,
    securityGroupIds: SECURITY_GROUPS,
    vpcId: VPC,
    routeTableIds: [],
    region: 'us-east-1',
    privateDns: false,
    gitFips: true,
  }).Resources as Record<string, Resource>;
  expect(summary(resources)).toEqual([
    ['StsVpcEndpoint', 'sts', 'Interface'],
    ['GitCodeCommitVpcEndpoint', 'git-codecommit', 'Interface'],
    ['GitCodeCommitFipsVpcEndpoint', 'git-codecommit-fips', 'Interface'],
  ]);
  for (const endpoint of Object.values(resources).filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')) {
    expect(endpoint.Properties.PrivateDnsEnabled).toBe(false);
  }
});
