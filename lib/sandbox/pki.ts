/**
 * A throwaway CA and one server certificate, made in memory with node:crypto alone (no openssl binary), so the
 * demo speaks TLS like production and keeps certificate verification on: the probe trusts only this CA.
 *
 * The certificates are written as DER by hand (X.509 v3, ECDSA P-256 with SHA-256): just the fields a TLS
 * client checks — validity, basic constraints, key usage, subject alternative names, server auth.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

export interface DemoPki {
  /** The CA certificate (PEM): the only trust anchor the demo's probe gets. */
  caPem: string;
  /** The server certificate (PEM) for every demo name, signed by the CA. */
  certPem: string;
  /** The server certificate's private key (PEM, PKCS #8). */
  keyPem: string;
}

// ---- DER, the few types a certificate needs ----

const lengthBytes = (n: number): Buffer =>
  n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
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

/** A positive INTEGER: a leading zero byte when the high bit is set. */
const positiveInteger = (bytes: Buffer) =>
  tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
/** UTCTime `YYMMDDHHMMSSZ` (valid for dates before 2050, which is all a run needs). */
const utcTime = (at: Date) => tlv(0x17, Buffer.from(`${at.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
const commonName = (cn: string) => sequence(tlv(0x31, sequence(objectId('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(objectId(id), ...(critical ? [TRUE] : []), tlv(0x04, value));

/** Well past the probe's certificate-expiry check (14 days by default), so the demo raises no such finding. */
export const VALID_DAYS = 90;

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));
const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

interface CertificateSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  /** DNS names for a server certificate; absent for the CA. */
  dnsNames?: readonly string[];
}

function certificatePem(spec: CertificateSpec): string {
  const now = Date.now();
  const isCa = spec.dnsNames === undefined;
  const extensions = isCa
    ? [
        extension(OID.basicConstraints, true, sequence(TRUE)),
        // keyCertSign + cRLSign (bits 5 and 6; one unused bit)
        extension(OID.keyUsage, true, tlv(0x03, Buffer.from([0x01, 0x06]))),
      ]
    : [
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature (bit 0; seven unused bits)
        extension(OID.keyUsage, true, tlv(0x03, Buffer.from([0x07, 0x80]))),
        extension(OID.extKeyUsage, false, sequence(objectId(OID.serverAuth))),
        extension(OID.subjectAltName, false, sequence(...(spec.dnsNames ?? []).map((n) => tlv(0x82, Buffer.from(n))))),
      ];
  const toBeSigned = sequence(
    tlv(0xa0, positiveInteger(Buffer.from([2]))), // v3
    positiveInteger(randomBytes(16)),
    ECDSA_WITH_SHA256,
    commonName(spec.issuer),
    // An hour of slack before now tolerates a clock that is slightly behind.
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + VALID_DAYS * 86_400_000))),
    commonName(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', toBeSigned, spec.signingKey);
  const der = sequence(toBeSigned, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * A CA and a server certificate for `dnsNames` signed by it, both valid for VALID_DAYS days.
 *
 * @example
 * const pki = createDemoPki(['sts.demo.test', 'git.demo.test']);
 * https.createServer({ cert: pki.certPem, key: pki.keyPem }, handler); // clients trust [pki.caPem] only
 */
export function createDemoPki(dnsNames: readonly string[]): DemoPki {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = 'codecommit-canary demo CA (this run only)';
  return {
    caPem: certificatePem({ subject: caName, issuer: caName, publicKey: ca.publicKey, signingKey: ca.privateKey }),
    certPem: certificatePem({
      subject: dnsNames[0] ?? 'demo',
      issuer: caName,
      publicKey: server.publicKey,
      signingKey: ca.privateKey,
      dnsNames,
    }),
    keyPem: server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
