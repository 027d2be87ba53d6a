import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Clock } from '../../clock.ts';
import type { ResolvedTarget } from '../../config/config.ts';
import { repositoryPath } from '../../config/endpoints.ts';
import { signingRegion } from '../../config/git-host.ts';
import { requestFor } from '../../net/exchange.ts';
import { kindForStatus, StepFailure } from '../../net/failure.ts';
import { type StepResult, zeroPhases } from '../../types.ts';
import { type AwsCredentials, basicAuthorization, gitCredentials } from './password.ts';

export const USER_AGENT = 'git/2.0 (codecommit-canary)';

export interface GitRequestOptions {
  method?: 'GET' | 'POST';
  agent: Agent;
  signal: AbortSignal;
  headers: Record<string, string | number>;
}

/**
 * One request to a CodeCommit repository's git endpoint (`/v1/repos/<repo><suffix>`), with a fresh password signed
 * for the host name as sent (without port) and the repository path, like the AWS CLI's credential helper.
 */
export function gitRequest(
  target: Pick<ResolvedTarget, 'repository' | 'region'>,
  credentials: AwsCredentials,
  clock: Clock,
  url: URL,
  suffix: string,
  options: GitRequestOptions,
  onResponse: (response: IncomingMessage) => void,
): ClientRequest {
  const path = repositoryPath(target.repository);
  const auth = gitCredentials(credentials, signingRegion(url.hostname, target.region), url.hostname, path, clock.now());
  const send = requestFor(url);
  const headers = { Authorization: basicAuthorization(auth), 'User-Agent': USER_AGENT, ...options.headers };
  return send(new URL(`${path}${suffix}`, url), { ...options, headers }, onResponse);
}

/**
 * Throws the step's failure unless the answer is a 200 of `contentType` (whose body is then the caller's to read):
 * another status by its kind (`auth`, `not-found` …), another content type as `protocol`, both in `response`.
 */
export function expectGitAnswer(response: IncomingMessage, url: URL, contentType: string): void {
  const status = response.statusCode ?? 0;
  const type = response.headers['content-type'] ?? '';
  if (status === 200 && type.startsWith(contentType)) return;
  response.destroy();
  if (status !== 200) {
    throw new StepFailure({
      kind: kindForStatus(status),
      phase: 'response',
      status,
      message: `HTTP ${status} from ${url.host}`,
    });
  }
  const message = `expected ${contentType}, got "${type.slice(0, 80)}" (not a smart-HTTP git server?)`;
  throw new StepFailure({ kind: 'protocol', phase: 'response', message });
}

/** A git step that did not run (nothing to run it with, or nothing to fetch): no address, no phase, no failure. */
export function skippedGitEndpointStep(gitEndpoint: string, deadlineMs: number): StepResult & { skipped: true } {
  return {
    ok: false,
    skipped: true,
    endpoint: new URL(gitEndpoint).origin,
    addresses: [],
    private: false,
    durationMs: 0,
    deadlineMs,
    phases: zeroPhases(),
    failure: null,
  };
}
