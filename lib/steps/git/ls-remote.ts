import type { IncomingMessage } from 'node:http';
import { request as plainRequest } from 'node:http';
import { request } from 'node:https';
import type { ResolvedTarget } from '../../config/config.ts';
import { repositoryPath } from '../../config/endpoints.ts';
import { signingRegion } from '../../config/git-host.ts';
import { type NetDeps, timedExchange } from '../../net/exchange.ts';
import { kindForStatus, StepFailure } from '../../net/failure.ts';
import { type GitStepResult, zeroPhases } from '../../types.ts';
import { type Advertisement, AdvertisementParser } from './advertisement.ts';
import { type AwsCredentials, basicAuthorization, gitCredentials } from './password.ts';

type GitTarget = Pick<ResolvedTarget, 'repository' | 'region' | 'gitEndpoint'> & { timeouts: { gitMs: number } };

const ADVERTISEMENT_TYPE = 'application/x-git-upload-pack-advertisement';
export const USER_AGENT = 'git/2.0 (codecommit-canary)';

/** Reads the advertisement off the response, stopping at the closing flush or the byte cap. */
async function readAdvertisement(response: IncomingMessage, maxBytes: number): Promise<Advertisement> {
  const parser = new AdvertisementParser({ maxBytes });
  for await (const chunk of response) {
    if (!parser.push(chunk as Buffer)) break;
  }
  // Leaving the loop early (closing flush, cap) destroys the response: nothing more is read.
  const parsed = parser.finish();
  if (!parsed.ok) throw new StepFailure({ kind: 'protocol', phase: 'body', message: parsed.error.message });
  return parsed.advertisement;
}

/**
 * Step `git`: what `git ls-remote` does over smart HTTP (protocol v0), natively: one signed GET of
 * `/v1/repos/<repo>/info/refs?service=git-upload-pack`, the advertisement parsed as it streams in.
 */
export async function gitStep(
  target: GitTarget,
  credentials: AwsCredentials,
  deps: NetDeps & { maxAdvertisementBytes: number },
  signal?: AbortSignal,
): Promise<GitStepResult> {
  const { value, ...result } = await timedExchange(
    target.gitEndpoint,
    // The parser enforces the advertisement cap; the socket cap (a little above) covers headers too.
    { deadlineMs: target.timeouts.gitMs, maxResponseBytes: deps.maxAdvertisementBytes + 64 * 1024 },
    deps,
    ({ url, agent, signal: abortSignal }) =>
      new Promise<Advertisement>((resolve, reject) => {
        const path = repositoryPath(target.repository);
        // A fresh password per request, signed for the host name as sent (without port), like the AWS CLI.
        const auth = gitCredentials(
          credentials,
          signingRegion(url.hostname, target.region),
          url.hostname,
          path,
          deps.clock.now(),
        );
        const send = url.protocol === 'https:' ? request : plainRequest;
        const req = send(
          new URL(`${path}/info/refs?service=git-upload-pack`, url),
          {
            agent,
            signal: abortSignal,
            headers: { Authorization: basicAuthorization(auth), 'User-Agent': USER_AGENT, Accept: '*/*' },
          },
          (response) => {
            const status = response.statusCode ?? 0;
            if (status !== 200) {
              response.destroy();
              const kind = kindForStatus(status);
              reject(new StepFailure({ kind, phase: 'response', status, message: `HTTP ${status} from ${url.host}` }));
              return;
            }
            const type = response.headers['content-type'] ?? '';
            if (!type.startsWith(ADVERTISEMENT_TYPE)) {
              response.destroy();
              const message = `expected ${ADVERTISEMENT_TYPE}, got "${type.slice(0, 80)}" (not a smart-HTTP git server?)`;
              reject(new StepFailure({ kind: 'protocol', phase: 'response', message }));
              return;
            }
            readAdvertisement(response, deps.maxAdvertisementBytes).then(resolve, reject);
          },
        );
        req.on('error', reject);
        req.end();
      }),
    signal,
  );
  return {
    ...result,
    refs: value?.refs.length ?? 0,
    head: value?.head ?? null,
    headSha: value?.headSha ?? null,
  };
}

/** The git step's result when `sts` failed and there were no credentials to try with. */
export function skippedGitStep(target: GitTarget): GitStepResult {
  return {
    ok: false,
    skipped: true,
    endpoint: new URL(target.gitEndpoint).origin,
    addresses: [],
    private: false,
    durationMs: 0,
    deadlineMs: target.timeouts.gitMs,
    phases: zeroPhases(),
    failure: null,
    refs: 0,
    head: null,
    headSha: null,
  };
}
