/**
 * Checks an AWS Signature Version 4 `Authorization` header the way the service does: rebuild the canonical
 * request from what arrived, sign it with the secret the server knows for the access key id, compare.
 * The local STS uses it, so the demo proves the SDK signed with the demo's key (and no other).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SignedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type SignatureCheck =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      code: 'MissingAuthenticationToken' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';
      message: string;
    };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60_000;

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** `20250101T000000Z` → Date, or undefined. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

function canonicalQuery(search: string): string {
  return [...new URLSearchParams(search)]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Verifies the request's SigV4 signature for `service` in `region`.
 *
 * @example
 * const check = verifySigV4(request, { region: 'ap-northeast-1', service: 'sts', secretFor: store.secretFor });
 * if (!check.ok) reply(403, check.code, check.message);
 */
export function verifySigV4(
  request: SignedRequest,
  expected: { region: string; service: string; secretFor: (accessKeyId: string) => string | undefined; now?: Date },
): SignatureCheck {
  const header = request.headers.authorization;
  if (!header)
    return { ok: false, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
  const m = AUTHORIZATION.exec(header);
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const at = parseAmzDate(amzDate);
  if (!m || !at) return { ok: false, code: 'SignatureDoesNotMatch', message: 'Malformed Authorization header' };
  const [, accessKeyId = '', date = '', region, service, signedHeaders = '', signature = ''] = m;
  const secret = expected.secretFor(accessKeyId);
  if (!secret) {
    return {
      ok: false,
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    };
  }
  const skew = Math.abs((expected.now ?? new Date()).getTime() - at.getTime());
  if (
    region !== expected.region ||
    service !== expected.service ||
    date !== amzDate.slice(0, 8) ||
    skew > MAX_SKEW_MS
  ) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'Credential scope or date does not match' };
  }
  const url = new URL(request.url, 'http://placeholder');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = String(request.headers['x-amz-content-sha256'] ?? sha256Hex(request.body));
  const canonicalRequest = [
    request.method,
    url.pathname,
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region ?? ''), service ?? ''), 'aws4_request');
  const computed = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  const same = timingSafeEqual(Buffer.from(computed), Buffer.from(signature));
  return same
    ? { ok: true, accessKeyId }
    : {
        ok: false,
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
}
