/**
 * A CodeCommit stand-in (git-codecommit): CodeCommit's URL layout (`/v1/repos/<name>`) and its password check
 * (codecommit-auth.ts) in front of repositories held in memory. Only what `git ls-remote` over protocol v0 needs:
 * the upload-pack ref advertisement. Without credentials 401, a wrong password 403, an unknown repository 404
 * (after the password, as CodeCommit). The fault switch: `hang` never answers, `deny` answers 403 even to a valid
 * password (a role without codecommit:GitPull), `slow` answers late.
 */
import { authenticateGit } from './codecommit-auth.ts';
import { FaultSwitch } from './fault-switch.ts';
import { type Answer, type StandInOptions, type StandInServer, startStandIn } from './https-stand-in.ts';
import type { HostedRepository } from './repository.ts';

export interface CodeCommitStandInOptions extends StandInOptions {
  /** The region this "CodeCommit" signs for, as the real service does for its own region. */
  region: string;
  /** Knows the secret of each key the callers may hold (the STS stand-in's credential store). */
  credentials: { secretFor(accessKeyId: string): string | undefined };
  repositories: readonly HostedRepository[];
}

const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})\/info\/refs$/;

const text = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'text/plain', ...headers },
  body,
});

/**
 * Starts the endpoint on 127.0.0.1 (a random port).
 *
 * @example
 * const git = await startCodeCommitStandIn({ tls: pki, region, credentials: sts.credentials, repositories: [hosted(DEMO_REPOSITORY)] });
 */
export async function startCodeCommitStandIn(options: CodeCommitStandInOptions): Promise<StandInServer> {
  const faults = options.faults ?? new FaultSwitch('git');
  return startStandIn({ ...options, faults }, async (req) => {
    const url = new URL(req.url ?? '/', 'https://placeholder');
    const name = ROUTE.exec(url.pathname)?.[1];
    if (!name || req.method !== 'GET' || url.searchParams.get('service') !== 'git-upload-pack') {
      return text(404, 'not found\n');
    }
    const auth = await authenticateGit(req.headers, name, {
      region: options.region,
      secretFor: (id) => options.credentials.secretFor(id),
    });
    if (!auth.ok) {
      return auth.status === 401
        ? text(401, 'authentication required\n', { 'www-authenticate': 'Basic realm="AWS CodeCommit"' })
        : text(403, 'forbidden\n');
    }
    const signed = { accessKeyId: auth.accessKeyId };
    if (faults.fault === 'deny') return { ...text(403, 'forbidden\n'), ...signed };
    const repository = options.repositories.find((r) => r.name === name);
    if (!repository) return { ...text(404, 'repository not found\n'), ...signed };
    return {
      status: 200,
      headers: { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' },
      body: repository.advertisement,
      ...signed,
    };
  });
}
