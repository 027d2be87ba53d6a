import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfigError } from '../config/config-error.ts';
import type { ResolvedTarget } from '../config/resolve-target.ts';
import { type NetDeps, timedExchange } from '../net/exchange.ts';
import { kindForStatus, StepFailure } from '../net/failure.ts';
import { type ExchangeHandlerOptions, exchangeRequestHandler } from '../net/request-handler.ts';
import { serverText } from '../net/server-text.ts';
import type { StsStepResult } from '../types.ts';
import type { AwsCredentials } from './git/password.ts';
import { gitPullSessionPolicy } from './session-policy.ts';

export interface StsOutcome {
  result: StsStepResult;
  /** The assumed role's credentials (or the caller's own, for a profile without a role). Never logged. */
  credentials?: AwsCredentials;
}

/** Cap on the bytes of an STS answer, headers included: 30 times a real AssumeRole answer. */
export const STS_MAX_RESPONSE_BYTES = 64 * 1024;

type StsTarget = Pick<ResolvedTarget, 'region' | 'roleArn' | 'externalId' | 'sessionName' | 'stsEndpoint'> & {
  /** The region to sign for (resolveTarget gives the STS endpoint's); `region` when absent. */
  stsRegion?: string;
  timeouts: { stsMs: number };
  /** The repository the session policy allows GitPull on; without it (or with `sessionPolicy: false`) none is sent. */
  repository?: string;
  sessionPolicy?: false;
};

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);
const AUTH = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
]);

/** An SDK service error (it got an HTTP answer) → failure data; anything else is left to the network classifier. */
function serviceFailure(error: unknown): StepFailure | undefined {
  const err = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  if (status === undefined) return undefined;
  const name = err.name ?? 'Error';
  const kind = THROTTLING.has(name)
    ? 'throttled'
    : AUTH.has(name)
      ? 'auth'
      : status < 300
        ? 'protocol'
        : kindForStatus(status);
  const phase = kind === 'protocol' ? 'body' : 'response';
  const detail = status < 300 ? 'unparseable response' : `HTTP ${status} ${name}`;
  // One line, as the contract says: the SDK's parse errors run over several, and a server writes what it likes.
  const firstLine = serverText((err.message ?? '').split('\n')[0] ?? '', 200);
  return new StepFailure({ kind, phase, status, message: `${detail}: ${firstLine}`.trim() });
}

/**
 * Step `sts`: one AssumeRole call (GetCallerIdentity when there is no role) against the explicit endpoint,
 * exactly one attempt, ended at the deadline in whatever phase it is.
 */
export async function stsStep(
  target: StsTarget,
  sourceCredentials: AwsCredentials,
  deps: NetDeps & Pick<StsDeps, 'stsClients'>,
  signal?: AbortSignal,
): Promise<StsOutcome> {
  const outcome = await timedExchange(
    target.stsEndpoint,
    // An AssumeRole answer is ~2 KB; the SDK buffers whole bodies and its XML parser is superlinear on some
    // input (repeated `<!DOCTYPE`: 200 KB took seconds of synchronous CPU no deadline can interrupt), so the
    // connection is cut before a broken or hostile endpoint gets that far.
    { deadlineMs: target.timeouts.stsMs, maxResponseBytes: STS_MAX_RESPONSE_BYTES },
    deps,
    async ({ url, agent, signal: abortSignal }) => {
      const shared = deps.stsClients?.for(url.origin, target.stsRegion ?? target.region, sourceCredentials);
      const client = shared ?? newStsClient(url.origin, target.stsRegion ?? target.region, sourceCredentials);
      // Each request through its own exchange's agent, also on a shared client (see exchangeRequestHandler).
      const options: ExchangeHandlerOptions = { abortSignal, agent };
      try {
        if (!target.roleArn) {
          const identity = await client.send(new GetCallerIdentityCommand({}), options);
          return { credentials: sourceCredentials, accountId: identity.Account };
        }
        const answer = await client.send(
          new AssumeRoleCommand({
            RoleArn: target.roleArn,
            RoleSessionName: target.sessionName,
            ...(target.externalId ? { ExternalId: target.externalId } : {}),
            ...(target.repository && target.sessionPolicy !== false
              ? { Policy: gitPullSessionPolicy(target.roleArn, target.region, target.repository) }
              : {}),
            DurationSeconds: 900,
          }),
          options,
        );
        const c = answer.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
          throw new StepFailure({
            kind: 'protocol',
            phase: 'body',
            message: 'AssumeRole answered without credentials',
          });
        }
        return {
          credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
          accountId: answer.AssumedRoleUser?.Arn?.split(':')[4],
        };
      } catch (error) {
        throw serviceFailure(error) ?? error;
      } finally {
        if (!shared) client.destroy();
      }
    },
    signal,
  );
  const { value, ...result } = outcome;
  return {
    result: { ...result, ...(value?.accountId ? { accountId: value.accountId } : {}) },
    ...(value?.credentials ? { credentials: value.credentials } : {}),
  };
}

/** What an STS call needs: the network and the caller's own credentials. */
export interface StsDeps extends NetDeps {
  /** The caller's own credentials, used to assume each target's role. */
  sourceCredentials: () => Promise<AwsCredentials>;
  /** STS clients shared by a sample's steps (probeAll makes one per sample); without it each call builds its own. */
  stsClients?: StsClients;
}

function newStsClient(endpoint: string, region: string, credentials: AwsCredentials): STSClient {
  return new STSClient({
    region,
    endpoint,
    credentials,
    // The endpoint is explicit: FIPS or dual-stack settings from the environment must not override it.
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    // Retries would hide exactly the latency and hangs being measured.
    maxAttempts: 1,
    // Each request through its own exchange's agent, passed in the send options (see stsStep).
    requestHandler: exchangeRequestHandler,
  });
}

/**
 * STS clients by endpoint, region and source key, for the steps of one sample: building a client and resolving its
 * configuration costs more CPU per target than the AssumeRole call itself. Each step still sends its own request
 * over its own traced connection (exchangeHandler); only the SDK's client object is shared.
 */
export class StsClients {
  readonly #clients = new Map<string, STSClient>();

  for(endpoint: string, region: string, credentials: AwsCredentials): STSClient {
    const key = `${endpoint}|${region}|${credentials.accessKeyId}|${credentials.sessionToken ?? ''}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = newStsClient(endpoint, region, credentials);
      this.#clients.set(key, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }
}

/**
 * The caller's credentials. Having none is a setup problem, not an endpoint failure: it is raised as one
 * (the CLI exits 2 with the reason; a Lambda's role always has credentials).
 */
export async function sourceCredentialsOf(deps: Pick<StsDeps, 'sourceCredentials'>): Promise<AwsCredentials> {
  try {
    return await deps.sourceCredentials();
  } catch (error) {
    throw new ConfigError('credentials', [
      `no AWS credentials to call AssumeRole with: ${(error as Error).message.split('\n')[0]}`,
    ]);
  }
}
