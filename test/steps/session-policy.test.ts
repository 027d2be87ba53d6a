import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig, type ResolvedTarget, resolveTargets } from '../../lib/config/config.ts';
import type { NetDeps } from '../../lib/net/exchange.ts';
import { CredentialStore } from '../../lib/sandbox/credentials.ts';
import { createPki } from '../../lib/sandbox/pki.ts';
import { type StsStandIn, startStsStandIn } from '../../lib/sandbox/sts.ts';
import { gitPullSessionPolicy, repositoryArn } from '../../lib/steps/session-policy.ts';
import { stsStep } from '../../lib/steps/sts.ts';

/**
 * Every AssumeRole carries a session policy allowing codecommit:GitPull on the target's repository and nothing
 * else, unless the target turns it off. Read back from what an STS stand-in received on the wire.
 */

const REGION = 'ap-northeast-1';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';
const SOURCE = { accessKeyId: 'AKIDSOURCE', secretAccessKey: 'source-secret' };

/** The form parameters of each request the stand-ins received. */
const received: URLSearchParams[] = [];
const pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
/** An STS stand-in per region the targets sign their requests for (it checks the SigV4 scope as STS does). */
const stsByRegion = new Map<string, StsStandIn>();
const deps: NetDeps = { clock: systemClock, resolve: async () => ['127.0.0.1'], tls: { ca: [pki.caPem] } };

beforeAll(async () => {
  const credentials = new CredentialStore({ sources: [SOURCE] });
  for (const region of [REGION, 'eu-west-1', 'us-west-2']) {
    const onRequest = ({ params }: { params: URLSearchParams }) => received.push(params);
    stsByRegion.set(region, await startStsStandIn({ tls: pki, region, credentials, onRequest }));
  }
});
afterAll(() => Promise.all([...stsByRegion.values()].map((sts) => sts.stop())));

/**
 * A config's target resolved as the probe resolves it, its STS endpoint the stand-in of the region it signs for:
 * the STS endpoint's (the monitor's), not the target's, or regional STS refuses the signature.
 */
const targetOf = (target: Record<string, unknown>): ResolvedTarget => {
  const [resolved] = resolveTargets(parseConfig({ region: REGION, targets: [target] }, 'test'));
  const sts = resolved && stsByRegion.get(resolved.stsRegion);
  if (!resolved || !sts) throw new Error('no target, or no stand-in for its region');
  return { ...resolved, stsEndpoint: sts.url };
};

describe('the session policy', () => {
  it('names the repository in the role’s partition and account and the target’s region', () => {
    expect(repositoryArn(ROLE_ARN, 'ap-northeast-1', 'test_repo')).toBe(
      'arn:aws:codecommit:ap-northeast-1:111111111111:test_repo',
    );
    expect(repositoryArn('arn:aws-cn:iam::222222222222:role/x/Reader', 'cn-north-1', 'r.1')).toBe(
      'arn:aws-cn:codecommit:cn-north-1:222222222222:r.1',
    );
    expect(repositoryArn('arn:aws-us-gov:iam::333333333333:role/R', 'us-gov-west-1', 'r')).toBe(
      'arn:aws-us-gov:codecommit:us-gov-west-1:333333333333:r',
    );
  });

  it('is sent with every AssumeRole: GitPull on the target repository and nothing else', async () => {
    // Prepare
    received.length = 0;
    const target = targetOf({ name: 'team-repo', repository: 'test_repo', roleArn: ROLE_ARN, region: 'eu-west-1' });

    // Act
    const { result } = await stsStep(target, SOURCE, deps);

    // Assess: read back from the wire.
    expect(result.ok).toBe(true);
    expect(received).toHaveLength(1);
    const sent = received[0] ?? new URLSearchParams();
    expect(sent.get('Action')).toBe('AssumeRole');
    expect(sent.get('RoleArn')).toBe(ROLE_ARN);
    expect(JSON.parse(sent.get('Policy') ?? 'null')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'GitPullOnly',
          Effect: 'Allow',
          Action: 'codecommit:GitPull',
          Resource: 'arn:aws:codecommit:eu-west-1:111111111111:test_repo',
        },
      ],
    });
    // No managed session policies, nothing else that widens or changes the session.
    expect([...sent.keys()].sort()).toEqual([
      'Action',
      'DurationSeconds',
      'Policy',
      'RoleArn',
      'RoleSessionName',
      'Version',
    ]);
  });

  it('is sent for a target given by URL too, with the URL’s repository and region', async () => {
    received.length = 0;
    const target = targetOf({ name: 'by-url', url: 'codecommit::us-west-2://team.repo', roleArn: ROLE_ARN });

    await stsStep(target, SOURCE, deps);

    expect(JSON.parse(received[0]?.get('Policy') ?? 'null').Statement[0].Resource).toBe(
      'arn:aws:codecommit:us-west-2:111111111111:team.repo',
    );
  });

  it('is left out for a target with sessionPolicy: false, and for a profile without a role', async () => {
    // Prepare
    received.length = 0;
    const target = targetOf({ name: 'tags', repository: 'test_repo', roleArn: ROLE_ARN, sessionPolicy: false });

    // Act
    await stsStep(target, SOURCE, deps);
    await stsStep({ ...target, roleArn: null }, SOURCE, deps);

    // Assess
    expect(received.map((params) => [params.get('Action'), params.has('Policy')])).toEqual([
      ['AssumeRole', false],
      ['GetCallerIdentity', false],
    ]);
  });

  it('stays far below STS’s 2,048-character limit for the longest repository name', () => {
    const policy = gitPullSessionPolicy('arn:aws-us-gov:iam::111111111111:role/R', 'us-gov-west-1', 'r'.repeat(100));
    expect(policy.length).toBeLessThan(400);
  });
});
