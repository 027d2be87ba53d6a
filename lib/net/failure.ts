import type { Failure, FailureKind, Phase } from '../types.ts';
import { serverText } from './server-text.ts';

/** Thrown inside a step to end it with a specific failure (e.g. a bad status); caught and turned into data. */
export class StepFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'EREFUSED', 'EBADRESP', 'ECONNREFUSED', 'ETIMEOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

const isTlsError = (code: string, message: string): boolean =>
  code.startsWith('ERR_TLS') ||
  code.startsWith('ERR_SSL') ||
  code.includes('CERT') ||
  code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
  code === 'EPROTO' ||
  /certificate|ssl|tls/i.test(message);

/** HTTP status → failure kind, the same for STS and git. */
export function kindForStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 429) return 'throttled';
  return 'http';
}

/** Longest failure message: a step's own words around at most SERVER_TEXT_MAX_CHARS of a server's. */
export const FAILURE_MESSAGE_MAX_CHARS = 400;

/**
 * Turns what ended a step into a failure. `phase` is where the trace stopped; `timedOut` says the deadline
 * fired (the abort error the runtime throws then carries no useful code of its own). The message is the last
 * stop before records, alerts and the terminal: one printable line, bounded, whoever wrote it.
 */
export function classifyError(error: unknown, phase: Phase, timedOut: boolean, deadlineMs: number): Failure {
  const failure = classify(error, phase, timedOut, deadlineMs);
  return { ...failure, message: serverText(failure.message, FAILURE_MESSAGE_MAX_CHARS) };
}

function classify(error: unknown, phase: Phase, timedOut: boolean, deadlineMs: number): Failure {
  if (error instanceof StepFailure) return error.failure;
  if (timedOut) {
    return {
      kind: 'timeout',
      phase,
      message: `no progress in ${phase} before the ${formatSeconds(deadlineMs)} deadline`,
    };
  }
  const err = error as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  // One line, whatever the runtime or a library put in the message.
  const message = (typeof err?.message === 'string' ? err.message : String(error)).split('\n')[0] ?? '';
  const failure = (kind: FailureKind, at: Phase, text: string): Failure => ({ kind, phase: at, message: text });
  if (code === 'ERR_RESPONSE_TOO_LARGE') return failure('protocol', 'body', message);
  if (phase === 'dns' && (DNS_CODES.has(code) || code.startsWith('E'))) {
    const what = code === 'ENOTFOUND' ? 'name does not exist (NXDOMAIN)' : `lookup failed (${code || message})`;
    return failure('dns', 'dns', what);
  }
  if (UNREACHABLE_CODES.has(code)) return failure('refused', 'connect', `connection refused (${code})`);
  if (isTlsError(code, message) && (phase === 'tls' || phase === 'connect')) {
    return failure('tls', 'tls', `TLS handshake failed: ${code || message}`);
  }
  if (RESET_CODES.has(code) || /socket hang up|reset/i.test(message)) {
    return failure('reset', phase, `connection reset by peer in ${phase}${code ? ` (${code})` : ''}`);
  }
  return failure('protocol', phase, `unexpected error in ${phase}: ${code || message}`.slice(0, 300));
}

/** A duration for subjects and messages: `850 ms` below a second, `10.0 s` above. */
export const formatSeconds = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
