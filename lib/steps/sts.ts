import { ConfigError } from '../config/config-error.ts';
import type { ResolvedTarget } from '../config/resolve-target.ts';
import { type NetDeps, timedExchange } from '../net/exchange.ts';
import { kindForStatus, StepFailure } from '../net/failure.ts';
import { serverText } from '../net/server-text.ts';
import type { StsStepResult } from '../types.ts';
import type { AwsCredentials } from './git/password.ts';
import { gitPullSessionPolicy } from './session-policy.ts';
import {
  type AssumeRoleInput,
  BrokenAnswer,
  parseXmlAnswer,
  type StsAnswer,
  sendStsQuery,
  stsQueryBody,
} from './sts-wire.ts';

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

/** An answer the endpoint gave (a status and a reason) → failure data, the kind by STS's error code or the status. */
function answerFailure(status: number, code: string, reason: string): StepFailure {
  const kind = THROTTLING.has(code)
    ? 'throttled'
    : AUTH.has(code)
      ? 'auth'
      : status < 300
        ? 'protocol'
        : kindForStatus(status);
  const phase = kind === 'protocol' ? 'body' : 'response';
  const detail = status < 300 ? 'unparseable response' : `HTTP ${status} ${code}`;
  // One line, as the contract says: a server writes what it likes.
  const firstLine = serverText(reason.split('\n')[0] ?? '', 200);
  return new StepFailure({ kind, phase, status, message: `${detail}: ${firstLine}`.trim() });
}

/** What an error answer says: STS's `<ErrorResponse><Error><Code>…<Message>…`, or `Unknown` where it says nothing. */
function errorAnswerFailure({ status, body }: StsAnswer): StepFailure {
  if (body.trim() === '') return answerFailure(status, status === 404 ? 'NotFound' : 'Unknown', 'Unknown');
  const xml = parseXmlAnswer(body);
  if (!xml) return answerFailure(status, 'Error', 'XML parse error: not a whole XML document.');
  const code = xml.text('Code', 'Error') || (status === 404 ? 'NotFound' : 'Unknown');
  return answerFailure(status, code, xml.text('Message', 'Error') ?? 'Unknown');
}

/** An answer without the credentials it should carry. */
const withoutCredentials = (action: string) =>
  new StepFailure({ kind: 'protocol', phase: 'body', message: `${action} answered without credentials` });

/** The assumed role's credentials and account from a 2xx answer to AssumeRole. */
function assumedRole({ status, body }: StsAnswer): { credentials: AwsCredentials; accountId?: string } {
  if (body.trim() === '') throw withoutCredentials('AssumeRole');
  const xml = parseXmlAnswer(body);
  if (!xml) throw answerFailure(status, 'Error', 'XML parse error: not a whole XML document.');
  const accessKeyId = xml.text('AccessKeyId', 'Credentials');
  const secretAccessKey = xml.text('SecretAccessKey', 'Credentials');
  const sessionToken = xml.text('SessionToken', 'Credentials');
  if (!accessKeyId || !secretAccessKey || !sessionToken) throw withoutCredentials('AssumeRole');
  const accountId = xml.text('Arn', 'AssumedRoleUser')?.split(':')[4];
  return { credentials: { accessKeyId, secretAccessKey, sessionToken }, ...(accountId ? { accountId } : {}) };
}

/** The caller's account from a 2xx answer to GetCallerIdentity. */
function callerAccount({ status, body }: StsAnswer): string | undefined {
  if (body.trim() === '') return undefined;
  const xml = parseXmlAnswer(body);
  if (!xml) throw answerFailure(status, 'Error', 'XML parse error: not a whole XML document.');
  return xml.text('Account', 'GetCallerIdentityResult');
}

/**
 * Step `sts`: one AssumeRole call (GetCallerIdentity when there is no role) against the explicit endpoint,
 * exactly one attempt, ended at the deadline in whatever phase it is.
 */
export async function stsStep(
  target: StsTarget,
  sourceCredentials: AwsCredentials,
  deps: NetDeps,
  signal?: AbortSignal,
): Promise<StsOutcome> {
  const region = target.stsRegion ?? target.region;
  const body = target.roleArn
    ? stsQueryBody('AssumeRole', {
        RoleArn: target.roleArn,
        RoleSessionName: target.sessionName,
        Policy:
          target.repository && target.sessionPolicy !== false
            ? gitPullSessionPolicy(target.roleArn, target.region, target.repository)
            : undefined,
        DurationSeconds: 900,
        ExternalId: target.externalId || undefined,
      } satisfies AssumeRoleInput)
    : stsQueryBody('GetCallerIdentity');
  const outcome = await timedExchange(
    target.stsEndpoint,
    // An AssumeRole answer is ~2 KB: the connection is cut before a broken or hostile endpoint sends much more.
    { deadlineMs: target.timeouts.stsMs, maxResponseBytes: STS_MAX_RESPONSE_BYTES },
    deps,
    async ({ url, agent, signal: abortSignal }) => {
      let answer: StsAnswer;
      try {
        answer = await sendStsQuery(url, region, sourceCredentials, body, {
          agent,
          signal: abortSignal,
          maxBodyBytes: STS_MAX_RESPONSE_BYTES,
          now: deps.clock.now(),
        });
      } catch (error) {
        // Broken off after the head: the endpoint's answer, as far as it went (the exchange prefers a socket error).
        if (error instanceof BrokenAnswer) throw answerFailure(error.status, error.name, error.message);
        throw error;
      }
      if (answer.status < 200 || answer.status >= 300) throw errorAnswerFailure(answer);
      if (!target.roleArn) {
        const accountId = callerAccount(answer);
        return { credentials: sourceCredentials, ...(accountId ? { accountId } : {}) };
      }
      return assumedRole(answer);
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
