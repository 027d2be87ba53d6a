import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ResponseTooLarge } from './net/trace.ts';

/**
 * Bytes one response may bring (headers and body). The SDK buffers a whole body before parsing it, so without a
 * cap a broken endpoint (or a proxy) streaming an endless body fills the memory of a 256 MB function within a
 * second, and the alert being sent is lost with the process. SNS, DynamoDB and CloudWatch answers are a few KB.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

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
 * A keep-alive agent whose connections are cut when one response goes past `maxResponseBytes`. The count
 * restarts when a response is done and the socket goes back to the pool (`free`), so a long-lived connection
 * carries any number of small answers.
 */
function cappedAgent(options: { ca?: string | Buffer; maxResponseBytes: number }): Agent {
  const agent = new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const create = (agent as unknown as { createConnection: (o: object, cb?: unknown) => Socket }).createConnection.bind(
    agent,
  );
  (agent as unknown as { createConnection: unknown }).createConnection = (opts: object, cb?: unknown) => {
    const socket = create(opts, cb);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.maxResponseBytes) socket.destroy(new ResponseTooLarge(options.maxResponseBytes));
    });
    socket.on('free', () => {
      received = 0;
    });
    return socket;
  };
  return agent;
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
      httpsAgent: cappedAgent({
        ...(options.ca ? { ca: options.ca } : {}),
        maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      }),
    }),
  };
}

/**
 * Settles with `promise`, or rejects with the signal's reason when it aborts first: the deadline holds even
 * where the SDK does not watch the signal (credential resolution, retry back-off).
 *
 * @example
 * const signal = AbortSignal.timeout(3000);
 * await untilAborted(client.send(command, { abortSignal: signal }), signal);
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {}); // the abandoned call's own rejection is expected, not unhandled
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `Name: message` (plus the network code), for logs; the SDK's errors carry no credentials.
 *
 * @example
 * describeError(error) // 'Error: connect ECONNREFUSED 127.0.0.1:9'
 */
export const describeError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}: ${error.message}${typeof code === 'string' && !error.message.includes(code) ? ` (${code})` : ''}`;
};
