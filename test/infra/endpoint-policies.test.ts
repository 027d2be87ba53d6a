import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { repositoryArn, vpcEndpointPolicies } = require('../../infra/endpoint-policies.cjs') as {
  repositoryArn(target: Record<string, string>, defaultRegion: string): string;
  vpcEndpointPolicies(input: {
    delivery: 'log' | 'direct';
    targets: Record<string, string>[];
    defaultRegion: string;
    gitFips?: boolean;
  }): {
    Resources: Record<string, { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }>;
  };
};

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const TARGETS: Record<string, string>[] = [
  { name: 'a', repository: 'test_repo', roleArn: ROLE },
  { name: 'b', url: 'codecommit::eu-west-1://team.repo', roleArn: 'arn:aws:iam::222222222222:role/Reader' },
  { name: 'c', repository: 'other', region: 'us-west-2', roleArn: ROLE },
];

describe('VPC endpoint policies', () => {
  it('name each target’s repository in its role’s partition and account and its region, as the session policy does', () => {
    expect(TARGETS.map((target) => repositoryArn(target, 'ap-northeast-1'))).toEqual([
      'arn:aws:codecommit:ap-northeast-1:111111111111:test_repo',
      'arn:aws:codecommit:eu-west-1:222222222222:team.repo',
      'arn:aws:codecommit:us-west-2:111111111111:other',
    ]);
    expect(
      repositoryArn({ name: 'cn', repository: 'r', roleArn: 'arn:aws-cn:iam::333333333333:role/R' }, 'cn-north-1'),
    ).toBe('arn:aws-cn:codecommit:cn-north-1:333333333333:r');
  });

  it('cover exactly the endpoints each mode creates', () => {
    expect(
      Object.keys(
        vpcEndpointPolicies({ delivery: 'log', targets: TARGETS, defaultRegion: 'ap-northeast-1' }).Resources,
      ),
    ).toEqual(['StsVpcEndpoint', 'GitCodeCommitVpcEndpoint']);
    expect(
      Object.keys(
        vpcEndpointPolicies({ delivery: 'direct', targets: TARGETS, defaultRegion: 'ap-northeast-1' }).Resources,
      ),
    ).toEqual([
      'StsVpcEndpoint',
      'GitCodeCommitVpcEndpoint',
      'MonitoringVpcEndpoint',
      'SnsVpcEndpoint',
      'DynamoDbVpcEndpoint',
    ]);
  });

  it('give the FIPS git endpoint, when there is one, the git endpoint’s policy', () => {
    const { Resources } = vpcEndpointPolicies({
      delivery: 'log',
      targets: TARGETS,
      defaultRegion: 'us-gov-west-1',
      gitFips: true,
    });
    expect(Resources.GitCodeCommitFipsVpcEndpoint).toEqual(Resources.GitCodeCommitVpcEndpoint);
  });

  it('let the target roles GitPull the target repositories and nothing else through git-codecommit', () => {
    const { Resources } = vpcEndpointPolicies({ delivery: 'log', targets: TARGETS, defaultRegion: 'ap-northeast-1' });
    expect(Resources.GitCodeCommitVpcEndpoint?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'TargetRolesPullTargetRepositories',
        Effect: 'Allow',
        Principal: { AWS: [ROLE, 'arn:aws:iam::222222222222:role/Reader'] },
        Action: 'codecommit:GitPull',
        Resource: [
          'arn:aws:codecommit:ap-northeast-1:111111111111:test_repo',
          'arn:aws:codecommit:eu-west-1:222222222222:team.repo',
          'arn:aws:codecommit:us-west-2:111111111111:other',
        ],
      },
    ]);
  });
});
