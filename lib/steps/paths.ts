import type { IncomingMessage } from 'node:http';
import { repositoryPath } from '../config/endpoints.ts';
import { untilAborted } from '../net/deadline.ts';
import { type ExchangeContext, type NetDeps, requestFor, timedExchange } from '../net/exchange.ts';
import { classifyError } from '../net/failure.ts';
import type { ZoneOf } from '../net/zones.ts';
import type { Failure, PathResult } from '../types.ts';
import { USER_AGENT } from './git/request.ts';

/** What to ask each address: a request the service answers without credentials. */
export type PathRequest = { kind: 'git'; repository: string } | { kind: 'sts' };

/** Every address of one endpoint name, checked once. */
export interface EndpointPaths {
  endpoint: string;
  request: PathRequest['kind'];
  paths: PathResult[];
  /** The lookup's failure: then no address was checked (the full step reports the same failure). */
  failure: Failure | null;
}

export type PathDeps = Pick<NetDeps, 'resolve' | 'clock' | 'tls'> & { zoneOf?: ZoneOf };

/** Body bytes read from an answer: its status already proved the path; the rest only times the transfer. */
const PATH_BODY_BYTES = 16 * 1024;
/** Socket cap: the read stops at PATH_BODY_BYTES, this only bounds what arrives before it does. */
const PATH_MAX_RESPONSE_BYTES = 1024 * 1024;
/** An unsigned STS call: STS answers it (403, MissingAuthenticationToken) without looking at any credential. */
const STS_UNSIGNED_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/** Sends the request without credentials and reads (a bounded part of) the answer, whatever its status. */
function askWithoutCredentials(request: PathRequest, { url, agent, signal }: ExchangeContext): Promise<number> {
  const send = requestFor(url);
  const git = request.kind === 'git';
  const path = git ? `${repositoryPath(request.repository)}/info/refs?service=git-upload-pack` : '/';
  const headers: Record<string, string | number> = git
    ? { 'User-Agent': USER_AGENT, Accept: '*/*' }
    : { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': STS_UNSIGNED_BODY.length };
  return new Promise<number>((resolve, reject) => {
    const onResponse = (response: IncomingMessage) => {
      readSome(response).then(() => resolve(response.statusCode ?? 0), reject);
    };
    const req = send(new URL(path, url), { method: git ? 'GET' : 'POST', agent, signal, headers }, onResponse);
    req.on('error', reject);
    req.end(git ? undefined : STS_UNSIGNED_BODY);
  });
}

async function readSome(response: IncomingMessage): Promise<void> {
  let read = 0;
  for await (const chunk of response) {
    read += (chunk as Buffer).length;
    if (read >= PATH_BODY_BYTES) break; // leaving the loop destroys the response
  }
}

/**
 * Checks every address `endpoint`'s name resolves to (IPv4 and IPv6), concurrently, all within `deadlineMs` from
 * the start of the lookup: the step's deadline ends every path, whichever phase it is in. The name is resolved once
 * (or `addresses` are taken as resolved); each address gets its own connection, TLS verified against the name
 * (SNI = host), and one request answered without credentials: any HTTP status proves the path. Failures are data,
 * with the kinds and phases of the steps.
 */
export async function checkPaths(
  endpoint: string,
  request: PathRequest,
  addresses: readonly string[] | undefined,
  deps: PathDeps,
  { deadlineMs }: { deadlineMs: number },
  signal?: AbortSignal,
): Promise<EndpointPaths> {
  const url = new URL(endpoint);
  const startedAt = deps.clock.monotonicMs();
  const deadline = AbortSignal.timeout(deadlineMs);
  const lookupSignal = signal ? AbortSignal.any([deadline, signal]) : deadline;
  const done = (paths: PathResult[], failure: Failure | null): EndpointPaths => ({
    endpoint: url.origin,
    request: request.kind,
    paths,
    failure,
  });

  let resolved: readonly string[];
  try {
    resolved =
      addresses ?? (await untilAborted(deps.resolve(url.hostname.replace(/^\[|\]$/g, ''), lookupSignal), lookupSignal));
  } catch (error) {
    return done([], classifyError(error, 'dns', deadline.aborted, deadlineMs));
  }
  if (resolved.length === 0) return done([], { kind: 'dns', phase: 'dns', message: 'the name resolved to no address' });
  const dnsMs = addresses ? 0 : round(deps.clock.monotonicMs() - startedAt);
  const remainingMs = Math.max(1, Math.floor(deadlineMs - dnsMs));

  const checkOne = async (address: string): Promise<PathResult> => {
    const { ok, durationMs, phases, failure } = await timedExchange(
      endpoint,
      { deadlineMs: remainingMs, maxResponseBytes: PATH_MAX_RESPONSE_BYTES },
      { resolve: async () => [address], clock: deps.clock, ...(deps.tls ? { tls: deps.tls } : {}) },
      (context) => askWithoutCredentials(request, context),
      signal,
    );
    return {
      address,
      zone: deps.zoneOf?.(address) ?? null,
      ok,
      durationMs: round(dnsMs + durationMs),
      phases: { ...phases, dnsMs },
      // The deadline is the step's, not what was left of it after the lookup.
      failure: failure?.kind === 'timeout' ? classifyError(null, failure.phase, true, deadlineMs) : failure,
    };
  };
  return done(await Promise.all([...new Set(resolved)].map(checkOne)), null);
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

export interface PathsSummary {
  /** Some but not all paths failed: one AZ's endpoint interface (or the path to it) is broken. */
  degraded: boolean;
  failed: number;
  /** The first failing path, in the lookup's order. */
  firstFailed: PathResult | null;
}

export function summarizePaths(paths: readonly PathResult[]): PathsSummary {
  const failedPaths = paths.filter((path) => !path.ok);
  return {
    degraded: failedPaths.length > 0 && failedPaths.length < paths.length,
    failed: failedPaths.length,
    firstFailed: failedPaths[0] ?? null,
  };
}

/**
 * The step's failure when its full call succeeded but a path did not: the first failing path's kind and phase,
 * naming its address (and zone).
 *
 * @example
 * pathFailure(path) // { kind: 'refused', phase: 'connect', address: '10.0.2.15', message: 'path to 10.0.2.15 (ap-northeast-1c): connection refused (ECONNREFUSED)' }
 */
export function pathFailure(path: PathResult): Failure & { address: string } {
  const failure = path.failure ?? { kind: 'protocol', phase: 'response', message: 'path check failed' };
  const where = path.zone ? `${path.address} (${path.zone})` : path.address;
  return { ...failure, address: path.address, message: `path to ${where}: ${failure.message}` };
}

/**
 * The path checks of one run, shared: the first caller for an endpoint and request kind starts them, every later
 * caller gets the same promise (200 targets on one endpoint pair cost one set of checks). The first caller's
 * repository and deadline are used: any answer from any repository proves the path.
 */
export class PathChecks {
  private readonly checks = new Map<string, Promise<EndpointPaths>>();

  constructor(
    private readonly deps: PathDeps,
    private readonly signal?: AbortSignal,
  ) {}

  check(endpoint: string, request: PathRequest, limits: { deadlineMs: number }): Promise<EndpointPaths> {
    const key = `${request.kind} ${new URL(endpoint).origin}`;
    let check = this.checks.get(key);
    if (!check) {
      check = checkPaths(endpoint, request, undefined, this.deps, limits, this.signal);
      this.checks.set(key, check);
    }
    return check;
  }

  /** How many distinct sets of checks were started. */
  get started(): number {
    return this.checks.size;
  }
}
