import { createServer, type IncomingMessage } from 'node:http';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeRequestHandler } from '../../lib/net/request-handler.ts';
import { type Listening, listenOnLoopback } from '../../lib/sandbox/listen.ts';

let server: Listening;
let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];

beforeAll(async () => {
  const http = createServer(async (req, res) => {
    const body = await text(req);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.url === '/hang') return;
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<ok/>');
  });
  server = await listenOnLoopback(http);
});
afterAll(() => server?.stop());

const request = (path: string, extra: object = {}) => ({
  protocol: 'http:',
  hostname: '127.0.0.1',
  port: server.port,
  method: 'POST',
  path,
  query: {},
  headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-amz-date': '20261129T000000Z' },
  body: 'Action=GetCallerIdentity&Version=2011-06-15',
  ...extra,
});

describe('the SDK request handler over an exchange', () => {
  it('sends the request as signed and hands back status, headers and the body as a stream', async () => {
    // Prepare
    seen = [];
    // Act
    const { response } = await exchangeRequestHandler.handle(request('/') as never);
    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/xml');
    expect(response.headers['set-cookie']).toBe('a=1,b=2');
    expect(await text(response.body as IncomingMessage)).toBe('<ok/>');
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/',
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
        headers: expect.objectContaining({ 'x-amz-date': '20261129T000000Z' }),
      }),
    ]);
  });

  it('ends the request when the exchange aborts, with the abort’s reason', async () => {
    // Prepare
    const controller = new AbortController();
    const pending = exchangeRequestHandler.handle(request('/hang') as never, { abortSignal: controller.signal });
    // Act
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    // Assess
    await expect(pending).rejects.toThrow('deadline');
  });

  it('refuses what it was not written for: a query string, a streamed body', async () => {
    await expect(exchangeRequestHandler.handle(request('/', { query: { a: 'b' } }) as never)).rejects.toThrow(
      'no query string',
    );
    await expect(exchangeRequestHandler.handle(request('/', { body: { pipe: () => {} } }) as never)).rejects.toThrow(
      'string or byte bodies',
    );
  });
});
