import type { Agent, IncomingMessage } from 'node:http';
import { request as plainRequest } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { NodeHttpHandler } from '@smithy/node-http-handler';

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];
type HttpResponse = Awaited<ReturnType<NodeHttpHandler['handle']>>['response'];

/** What the SDK passes a request handler per call; `agent` is the exchange's (see timedExchange). */
export interface ExchangeHandlerOptions {
  abortSignal?: AbortSignal;
  agent?: Agent;
}

/** Header values as the SDK wants them: one string each, repeated headers joined. */
function flatHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/**
 * The SDK's request handler for a client whose every request belongs to a timed exchange: it goes out through the
 * agent its exchange passes in the send options (a kept-alive connection of the sample, or a new one), and nothing
 * else is added. No timeouts of its own (the exchange's deadline ends the request through `abortSignal`), no
 * retries, no `100-continue`; a body is a string or bytes and there is no query string, as the Query protocol (STS)
 * sends it. The SDK's own
 * handler, built for each request to carry that request's agent, cost more CPU than the request.
 *
 * @example
 * new STSClient({ region, endpoint, credentials, maxAttempts: 1, requestHandler: exchangeRequestHandler })
 * await client.send(command, { abortSignal, agent } as never)
 */
export const exchangeRequestHandler = {
  handle(
    request: HttpRequest,
    { abortSignal, agent }: ExchangeHandlerOptions = {},
  ): Promise<{ response: HttpResponse }> {
    return new Promise((resolve, reject) => {
      if (abortSignal?.aborted) {
        reject(abortSignal.reason);
        return;
      }
      const { body } = request;
      // What the Query protocol sends: a form in the body, nothing in the query string.
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        reject(new TypeError('exchangeRequestHandler sends string or byte bodies only'));
        return;
      }
      if (Object.keys(request.query ?? {}).length > 0 || request.fragment) {
        reject(new TypeError('exchangeRequestHandler sends no query string or fragment'));
        return;
      }
      const send = request.protocol === 'https:' ? tlsRequest : plainRequest;
      const req = send(
        {
          method: request.method,
          host: request.hostname.replace(/^\[|\]$/g, ''),
          ...(request.port ? { port: request.port } : {}),
          path: request.path,
          headers: request.headers,
          ...(agent ? { agent } : {}),
        },
        (response) => {
          resolve({
            response: {
              statusCode: response.statusCode ?? -1,
              ...(response.statusMessage ? { reason: response.statusMessage } : {}),
              headers: flatHeaders(response),
              body: response,
            },
          });
        },
      );
      req.on('error', reject);
      if (abortSignal) {
        const onAbort = () => {
          req.destroy();
          reject(abortSignal.reason);
        };
        abortSignal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => abortSignal.removeEventListener('abort', onAbort));
      }
      req.end(body ?? undefined);
    });
  },
  updateHttpClientConfig: (): void => {},
  httpHandlerConfigs: () => ({}),
};
