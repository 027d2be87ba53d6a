/**
 * A throwaway CA and server certificates, made in memory with node:crypto alone (no openssl binary), so every
 * sandbox server speaks TLS like production and its clients keep certificate verification on, trusting only
 * this CA.
 *
 * The certificates are written as DER by hand (X.509 v3, ECDSA P-256 with SHA-256), with just the fields TLS
 * clients check, strict ones included (OpenSSL's X509_STRICT, GnuTLS): validity, basic constraints, key usage,
 * key identifiers, subject alternative names (DNS names and IP addresses), server auth.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TlsIdentity } from './https-stand-in.ts';

export interface Pki extends TlsIdentity {
  /** The CA certificate (PEM): the only trust anchor the sandbox's clients get. */
  caPem: string;
  /** Another server certificate for the same names from the same CA, valid `validDays` (the expiry finding). */
  issue(validDays: number): TlsIdentity;
}

export interface PkiOptions {
  /** DNS names of the server certificate (wildcards allowed). */
  names: readonly string[];
  /** IP addresses of the server certificate. Default none. */
  ips?: readonly string[];
  /** Default 90: well past the probe's certificate-expiry check (14 days by default), so no finding. */
  validDays?: number;
  /** The CA's common name. */
  caName?: string;
}

// ---- DER, the few types a certificate needs ----

const lengthBytes = (n: number): Buffer =>
  n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
const octets = (bytes: Buffer) => tlv(0x04, bytes);
const TRUE = tlv(0x01, Buffer.from([0xff]));

function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const n of rest) {
    const base128 = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/**
 * A positive INTEGER in DER's one encoding: no leading zero bytes (OpenSSL 3 refuses a random serial that starts
 * with 0x00 as "illegal padding"), then one zero byte when the high bit is set.
 */
export function positiveInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = bytes.subarray(start);
  return tlv(0x02, (minimal[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}
/** UTCTime `YYMMDDHHMMSSZ` (valid for dates before 2050, which is all a run needs). */
const utcTime = (at: Date) => tlv(0x17, Buffer.from(`${at.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
const commonName = (cn: string) => sequence(tlv(0x31, sequence(objectId('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(objectId(id), ...(critical ? [TRUE] : []), octets(value));

/** An IP address as the 4 or 16 bytes of a subjectAltName iPAddress. */
function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail] = ip.split('::');
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const [before, after] = [groups(head), groups(tail)];
  const all = [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return Buffer.from(all.flatMap((group) => [Number.parseInt(group, 16) >> 8, Number.parseInt(group, 16) & 0xff]));
}

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));
const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;
const DAY_MS = 86_400_000;

interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

const newKeyPair = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyId = (key: KeyObject) =>
  createHash('sha1')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest();

interface CertificateSpec {
  subject: string;
  issuer: { name: string; keys: KeyPair };
  keys: KeyPair;
  validDays: number;
  /** May sign certificates. */
  ca: boolean;
  /** The names and addresses a server certificate is for. */
  server?: { names: readonly string[]; ips: readonly string[] };
}

function certificatePem(spec: CertificateSpec): string {
  const now = Date.now();
  const extensions = [
    extension(OID.subjectKeyIdentifier, false, octets(keyId(spec.keys.publicKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId(spec.issuer.keys.publicKey)))),
    extension(OID.basicConstraints, true, spec.ca ? sequence(TRUE) : sequence()),
    // digitalSignature (bit 0), for a CA keyCertSign and cRLSign too (bits 5, 6); the first byte counts unused bits
    extension(OID.keyUsage, true, tlv(0x03, Buffer.from(spec.ca ? [0x01, 0x86] : [0x07, 0x80]))),
  ];
  if (spec.server) {
    const names = spec.server.names.map((name) => tlv(0x82, Buffer.from(name)));
    const ips = spec.server.ips.map((ip) => tlv(0x87, ipBytes(ip)));
    extensions.push(
      extension(OID.extKeyUsage, false, sequence(objectId(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...names, ...ips)),
    );
  }
  const toBeSigned = sequence(
    tlv(0xa0, positiveInteger(Buffer.from([2]))), // v3
    positiveInteger(randomBytes(16)),
    ECDSA_WITH_SHA256,
    commonName(spec.issuer.name),
    // An hour of slack before now tolerates a clock that is slightly behind.
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + spec.validDays * DAY_MS))),
    commonName(spec.subject),
    spec.keys.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', toBeSigned, spec.issuer.keys.privateKey);
  const der = sequence(toBeSigned, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const keyPem = (keys: KeyPair) => keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * A CA and a server certificate it signed for `names` and `ips`.
 *
 * @example
 * const pki = createPki({ names: ['sts.demo.test', 'git.demo.test'] });
 * https.createServer({ cert: pki.certPem, key: pki.keyPem }, handler); // clients trust [pki.caPem] only
 */
export function createPki(options: PkiOptions): Pki {
  const caName = options.caName ?? 'codecommit-canary sandbox CA (this run only)';
  const ca = { name: caName, keys: newKeyPair() };
  const server = { names: options.names, ips: options.ips ?? [] };
  const issue = (validDays: number): TlsIdentity => {
    const keys = newKeyPair();
    const subject = options.names[0] ?? 'sandbox';
    return {
      certPem: certificatePem({ subject, issuer: ca, keys, validDays, ca: false, server }),
      keyPem: keyPem(keys),
    };
  };
  const validDays = options.validDays ?? 90;
  return {
    caPem: certificatePem({ subject: caName, issuer: ca, keys: ca.keys, validDays, ca: true }),
    ...issue(validDays),
    issue,
  };
}

/**
 * A certificate for `names` and `ips` that signed itself, as `openssl req -x509` makes one (a CA of its own): no
 * CA the sandbox's clients trust vouches for it, so verification must fail (DEPTH_ZERO_SELF_SIGNED_CERT).
 */
export function selfSignedIdentity(options: PkiOptions): TlsIdentity {
  const keys = newKeyPair();
  const name = options.caName ?? 'untrusted self-signed';
  const server = { names: options.names, ips: options.ips ?? [] };
  const validDays = options.validDays ?? 2;
  const certPem = certificatePem({ subject: name, issuer: { name, keys }, keys, validDays, ca: true, server });
  return { certPem, keyPem: keyPem(keys) };
}

/** Where a PKI's files are, for tools that read files (NODE_EXTRA_CA_CERTS, GIT_SSL_CAINFO, moto_server). */
export interface PkiFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Writes the CA certificate and a server identity as PEM files in `dir` (a new temporary folder by default). */
export function writePkiFiles(
  pki: TlsIdentity & { caPem: string },
  dir = mkdtempSync(join(tmpdir(), 'canary-pki-')),
  name = 'server',
): PkiFiles {
  const files = {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, `${name}.pem`),
    keyFile: join(dir, `${name}.key`),
  };
  writeFileSync(files.caFile, pki.caPem);
  writeFileSync(files.certFile, pki.certPem);
  writeFileSync(files.keyFile, pki.keyPem, { mode: 0o600 });
  return files;
}
