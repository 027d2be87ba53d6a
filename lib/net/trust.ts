import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

const contexts = new Map<string, SecureContext>();

/**
 * The trust store when the config names an extra CA file: Node's roots, NODE_EXTRA_CA_CERTS and that file, as one
 * TLS context built once per process (building it parses ~150 certificates: tens of ms, not to be paid per
 * connection). Passing CAs replaces Node's default store, so the defaults are listed explicitly. Verification
 * stays on.
 */
export function trustedContext(caFile: string | undefined): SecureContext | undefined {
  if (!caFile) return undefined;
  let context = contexts.get(caFile);
  if (!context) {
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    const ca = [...rootCertificates, ...(extra ? [readFileSync(extra, 'utf8')] : []), readFileSync(caFile, 'utf8')];
    context = createSecureContext({ ca });
    contexts.set(caFile, context);
  }
  return context;
}

let defaultContext: SecureContext | undefined;

/**
 * Node's default trust store (its roots and NODE_EXTRA_CA_CERTS) as one TLS context, built at the first connection
 * that needs it (not at cold start) and shared: left to itself, every TLS connection builds its own context, about
 * 0.5 ms of CPU each.
 */
export const sharedDefaultContext = (): SecureContext => {
  defaultContext ??= createSecureContext();
  return defaultContext;
};
