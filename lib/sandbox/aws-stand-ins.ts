/**
 * The pair a healthy target needs: an STS stand-in and a CodeCommit stand-in sharing one credential store, so
 * the CodeCommit password signed with credentials the STS issued checks out.
 */
import type { AwsCredentials } from '../steps/git/password.ts';
import { type CodeCommitStandInOptions, startCodeCommitStandIn } from './codecommit.ts';
import { CredentialStore } from './credentials.ts';
import type { FaultSwitch } from './fault-switch.ts';
import type { StandInOptions, StandInServer } from './https-stand-in.ts';
import { type StsStandIn, type StsStandInOptions, startStsStandIn } from './sts.ts';

export interface AwsStandInsOptions extends Omit<StandInOptions, 'faults'> {
  region: string;
  /** The keys the callers sign AssumeRole with. */
  sources: readonly AwsCredentials[];
  repositories: CodeCommitStandInOptions['repositories'];
  /** How many issued credentials STS remembers. Default: the store's. */
  remember?: number;
  roles?: StsStandInOptions['roles'];
  callerAccount?: string;
  faults?: { sts?: FaultSwitch; git?: FaultSwitch };
}

export interface AwsStandIns {
  sts: StsStandIn;
  git: StandInServer;
  credentials: CredentialStore;
  stop(): Promise<void>;
}

/**
 * Starts both on 127.0.0.1; if one fails to start, the other is stopped.
 *
 * @example
 * const aws = await startAwsStandIns({ tls: pki, region: 'us-east-1', sources: [source], repositories: [hosted(DEMO_REPOSITORY)] });
 * // target: { stsEndpoint: aws.sts.url, gitEndpoint: aws.git.url, … }
 */
export async function startAwsStandIns(options: AwsStandInsOptions): Promise<AwsStandIns> {
  const { faults, sources, remember, repositories, roles, callerAccount, ...shared } = options;
  const credentials = new CredentialStore({ sources, ...(remember ? { remember } : {}) });
  const started = await Promise.allSettled([
    startStsStandIn({
      ...shared,
      credentials,
      ...(roles ? { roles } : {}),
      ...(callerAccount ? { callerAccount } : {}),
      ...(faults?.sts ? { faults: faults.sts } : {}),
    }),
    startCodeCommitStandIn({ ...shared, credentials, repositories, ...(faults?.git ? { faults: faults.git } : {}) }),
  ]);
  const [sts, git] = started;
  if (sts?.status !== 'fulfilled' || git?.status !== 'fulfilled') {
    await Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    const failed = started.find((s) => s.status === 'rejected');
    throw new Error(`the STS and CodeCommit stand-ins did not start: ${String(failed?.reason)}`);
  }
  return {
    sts: sts.value,
    git: git.value,
    credentials,
    stop: () => Promise.allSettled([sts.value.stop(), git.value.stop()]).then(() => {}),
  };
}
