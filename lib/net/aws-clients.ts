import { Agent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { capResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, onEachSocket } from './trace.ts';

export { DEFAULT_MAX_RESPONSE_BYTES };

export interface BoundedClientOptions {
  region: string;
  /** Override, e.g. `https://127.0.0.1:<port>` in tests. */
  endpoint?: string;
  /** Extra CA certificates (PEM) to trust, e.g. a test CA; the system's CAs are used otherwise. */
  ca?: string | Buffer;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Per-attempt connect and request timeouts (ms). */
  timeoutMs?: number;
  maxAttempts?: number;
  /** Cap on the bytes of one response; past it the connection is cut. Default 8 MiB. */
  maxResponseBytes?: number;
}

/**
 * SDK client settings that cannot hang: connect and request timeouts that throw (the SDK's defaults are none),
 * few attempts, and a cap on the bytes of a response. Callers still pass an `abortSignal` per call as the hard
 * deadline.
 *
 * @example
 * new SQSClient(boundedClientConfig({ region, endpoint: moto.url, ca: readFileSync(pki.caFile), credentials }))
 */
export function boundedClientConfig(options: BoundedClientOptions) {
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      httpsAgent: onEachSocket(new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }), (socket) =>
        capResponseBytes(socket, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
      ),
    }),
  };
}

/**
 * One line about an error, for logs and reasons: HTTP status, code (or name), the message's first line; at most
 * 300 characters. The SDK's and Node's messages carry no credentials.
 *
 * @example
 * describeError(error) // 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9', 'HTTP 500 InternalFailure scripted failure'
 */
export function describeError(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? `HTTP ${e.$metadata.httpStatusCode}` : '';
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : '';
  const message = typeof e?.message === 'string' ? (e.message.split('\n')[0] ?? '') : String(error);
  return [status, code, message]
    .filter((part) => part !== '')
    .join(' ')
    .slice(0, 300);
}
