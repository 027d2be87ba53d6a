import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/**
 * The CAs to trust when the config names an extra CA file: Node's roots, NODE_EXTRA_CA_CERTS and that file.
 * (Passing `ca` replaces Node's default store, so the defaults are listed explicitly.) Verification stays on.
 */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  if (!caFile) return undefined;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return [...rootCertificates, ...(extra ? [readFileSync(extra, 'utf8')] : []), readFileSync(caFile, 'utf8')];
}
