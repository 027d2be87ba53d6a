/**
 * SigV4's shared part for the two requests the probe signs itself: STS's query (sts-wire.ts) and CodeCommit's git
 * password (git/password.ts). Each builds its own canonical request; the scope, the string to sign, the signing key
 * and the signature are the same algorithm, written once here.
 */
import { createHash, createHmac } from 'node:crypto';

export const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** Signing keys by secret, day, region and service: a day's key serves every request signed with that secret. */
const signingKeys = new Map<string, Buffer>();
const MAX_KEYS = 16;

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${day}|${region}|${service}|${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size >= MAX_KEYS) signingKeys.clear();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * The credential scope and the hex signature of `canonicalRequest`, signed at `requestTime` (`YYYYMMDDTHHMMSSZ`, or
 * without the `Z` as CodeCommit's password writes it) for `service` in `region`.
 *
 * @example
 * sigv4Signature('secret', '20171224T115320', 'us-west-2', 'codecommit', canonical).scope // '20171224/us-west-2/codecommit/aws4_request'
 */
export function sigv4Signature(
  secret: string,
  requestTime: string,
  region: string,
  service: string,
  canonicalRequest: string,
): { scope: string; signature: string } {
  const day = requestTime.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${requestTime}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(secret, day, region, service);
  return { scope, signature: createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex') };
}
