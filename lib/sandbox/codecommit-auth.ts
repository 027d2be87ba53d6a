/**
 * CodeCommit's password check, as the service makes it: Basic credentials with username
 * `AccessKeyId[%SessionToken]` and password `<YYYYMMDDTHHMMSS>Z<signature>`, the signature over `GIT`, the
 * repository path and the bare host (lib/steps/git/password.ts computes it), within 15 minutes of now. The
 * CodeCommit stand-in and the `git http-backend` wrapper of the tests both check with it.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { repositoryPath } from '../config/endpoints.ts';
import { gitPassword } from '../steps/git/password.ts';

export type GitAuthentication = { ok: true; accessKeyId: string } | { ok: false; status: 401 | 403 };

export interface GitAuthOptions {
  /** The region the service signs for, as the real one does for its own region. */
  region: string;
  /** The secret key of an access key id; undefined for an unknown key. */
  secretFor: (accessKeyId: string) => Promise<string | undefined> | string | undefined;
  /** The server's clock, shiftable to test the 15-minute window. */
  now?: () => Date;
}

const MAX_SKEW_MS = 15 * 60_000;

/** `YYYYMMDDTHHMMSS` (UTC) → Date, or undefined when malformed. */
function parseTimestamp(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

const sameText = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The Host header without its port (the password signs the bare hostname); handles `[::1]:443`. */
const hostnameOf = (host: string): string =>
  host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');

/**
 * 401 without credentials, 403 for anything but a valid password for `repository`, else the access key id.
 *
 * @example
 * const auth = await authenticateGit(req.headers, 'test_repo', { region, secretFor: (id) => store.secretFor(id) });
 * if (!auth.ok) return reply(auth.status);
 */
export async function authenticateGit(
  headers: IncomingHttpHeaders,
  repository: string,
  options: GitAuthOptions,
): Promise<GitAuthentication> {
  if (!headers.authorization) return { ok: false, status: 401 };
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(headers.authorization)?.[1];
  const decoded = Buffer.from(basic ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, status: 403 };
  // The session token after `%` is not part of the signature.
  const accessKeyId = decoded.slice(0, colon).split('%')[0] ?? '';
  const password = decoded.slice(colon + 1);
  const at = parseTimestamp(password.split('Z')[0] ?? '');
  const now = options.now?.() ?? new Date();
  if (!at || Math.abs(now.getTime() - at.getTime()) > MAX_SKEW_MS) return { ok: false, status: 403 };
  const secret = accessKeyId ? await options.secretFor(accessKeyId) : undefined;
  if (!secret) return { ok: false, status: 403 };
  const host = hostnameOf(headers.host ?? '');
  const expected = gitPassword({ secretAccessKey: secret }, options.region, host, repositoryPath(repository), at);
  return sameText(password, expected) ? { ok: true, accessKeyId } : { ok: false, status: 403 };
}
