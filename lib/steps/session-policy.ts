/**
 * The inline session policy every AssumeRole passes: the session may `codecommit:GitPull` on the target's
 * repository and nothing else, whatever the role allows. AWS intersects the role's permissions with it, so a
 * broad role (or one later widened) still hands the probe's session, whose token travels to the git endpoint
 * as the Basic username, nothing beyond one read of one repository.
 */

/** The partition and account of an IAM role ARN (`arn:<partition>:iam::<account>:role/<name>`). */
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//;

/**
 * The repository's ARN: in the role's partition and account (CodeCommit has no cross-account repository
 * policies, so the role's account owns the repository), in the target's region.
 *
 * @example
 * repositoryArn('arn:aws:iam::111111111111:role/SwitchRole', 'ap-northeast-1', 'test_repo')
 * // 'arn:aws:codecommit:ap-northeast-1:111111111111:test_repo'
 */
export function repositoryArn(roleArn: string, region: string, repository: string): string {
  const match = ROLE_ARN.exec(roleArn);
  if (!match) throw new Error(`not an IAM role ARN: ${roleArn}`);
  return `arn:${match[1]}:codecommit:${region}:${match[2]}:${repository}`;
}

/**
 * The session policy document (compact JSON, as STS counts its packed size against 2,048 characters).
 *
 * @example
 * JSON.parse(gitPullSessionPolicy(roleArn, 'us-east-1', 'test_repo')).Statement[0].Action // 'codecommit:GitPull'
 */
export function gitPullSessionPolicy(roleArn: string, region: string, repository: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitPullOnly',
        Effect: 'Allow',
        Action: 'codecommit:GitPull',
        Resource: repositoryArn(roleArn, region, repository),
      },
    ],
  });
}
