import { createHash, createHmac } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../../lib/sandbox/listen.ts';
import { verifySigV4 } from '../../lib/sandbox/sigv4.ts';
import { assumeRoleXml } from '../../lib/sandbox/sts-xml.ts';
import {
  BrokenAnswer,
  parseXmlAnswer,
  sendStsQuery,
  signedStsHeaders,
  stsQueryBody,
} from '../../lib/steps/sts-wire.ts';

/**
 * The sts step's own wire format: the form body as the SDK's STS client serialises it and the signature as the SDK's
 * signer computes it (the SDK itself is the oracle), accepted by the sandbox's SigV4 check with a session token, the
 * answer read whole under a byte cap, and the tolerant XML reading.
 */

const SOURCE = {
  accessKeyId: 'ASIAWIRETESTSOURCE01',
  secretAccessKey: 'wire/test+Secret0123456789abcdefghijklm',
  sessionToken: 'IQoJb3JpZ2luX2VjWIRE+token/with=odd&chars',
};
const ROLE_ARN = 'arn:aws:iam::111111111111:role/team/Reader';

/** What the SDK's STS client puts in the body of `command`: captured from its request handler, never sent. */
async function sdkBody(command: AssumeRoleCommand | GetCallerIdentityCommand): Promise<string> {
  let body = '';
  const client = new STSClient({
    region: 'eu-west-1',
    endpoint: 'https://sts.eu-west-1.amazonaws.com',
    credentials: SOURCE,
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { body: string }) => {
        body = request.body;
        throw new Error('captured');
      },
    } as never,
  });
  await client.send(command as never).catch(() => {});
  client.destroy();
  return body;
}

interface Seen {
  headers: IncomingMessage['headers'];
  check: ReturnType<typeof verifySigV4>;
}

let seen: Seen[] = [];
let reply: (response: ServerResponse) => void = (response) => response.end();
let url: URL;
let stop: () => Promise<void>;
const agent = new Agent({ keepAlive: false });

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const check = verifySigV4(
        { method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) },
        {
          region: 'eu-west-1',
          service: 'sts',
          secretFor: (id) => (id === SOURCE.accessKeyId ? SOURCE.secretAccessKey : undefined),
        },
      );
      seen.push({ headers: req.headers, check });
      reply(res);
    });
  });
  const listening = await listenOnLoopback(server);
  url = new URL(`http://127.0.0.1:${listening.port}`);
  stop = listening.stop;
});
afterAll(async () => {
  agent.destroy();
  await stop?.();
});

const send = (body: string, maxBodyBytes = 64 * 1024, credentials = SOURCE) =>
  sendStsQuery(url, 'eu-west-1', credentials, body, {
    agent,
    signal: AbortSignal.timeout(5000),
    maxBodyBytes,
    now: new Date(),
  });

describe('the STS query body', () => {
  it('is the SDK’s, byte for byte: AssumeRole with every member the step sends, and GetCallerIdentity', async () => {
    // Prepare: values that need encoding (the policy's JSON, RFC 3986's reserved characters, non-ASCII).
    const input = {
      RoleArn: ROLE_ARN,
      RoleSessionName: "canary.probe-(1)*!'",
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Action: 'codecommit:GitPull', Resource: 'a b+c' }],
      }),
      DurationSeconds: 900,
      ExternalId: 'ext id/é=&',
    };

    // Act and assess
    expect(stsQueryBody('AssumeRole', input)).toBe(await sdkBody(new AssumeRoleCommand(input)));
    const { Policy: _, ExternalId: __, ...bare } = input;
    expect(stsQueryBody('AssumeRole', { ...bare, Policy: undefined, ExternalId: undefined })).toBe(
      await sdkBody(new AssumeRoleCommand(bare)),
    );
    expect(stsQueryBody('GetCallerIdentity')).toBe(await sdkBody(new GetCallerIdentityCommand({})));
  });
});

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SHA-256 for the SDK's signer, on Node's crypto (as the SDK's own Node build does it). */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

describe('the signature', () => {
  it('is the SDK signer’s, with and without a session token, on a default port and another', async () => {
    const body = stsQueryBody('AssumeRole', { RoleArn: ROLE_ARN, RoleSessionName: 'canary', DurationSeconds: 900 });
    const now = new Date('2026-11-29T20:41:07.123Z');
    for (const endpoint of ['https://sts.eu-west-1.amazonaws.com', 'https://127.0.0.1:8443']) {
      for (const credentials of [SOURCE, { accessKeyId: 'AKIAWIRETESTLONGTERM', secretAccessKey: 'long/term+key' }]) {
        // Prepare: the SDK's signer on the same request (its checksum header off: STS's clients send none).
        const url = new URL(endpoint);
        const ours = signedStsHeaders(url, 'eu-west-1', credentials, body, now);
        const { authorization: _, ...unsigned } = ours;
        const sdk = new SignatureV4({
          service: 'sts',
          region: 'eu-west-1',
          credentials,
          sha256: NodeSha256,
          applyChecksum: false,
        });

        // Act
        const signed = await sdk.sign(
          {
            method: 'POST',
            protocol: url.protocol,
            hostname: url.hostname,
            path: '/',
            query: {},
            headers: { ...unsigned },
            body,
          },
          { signingDate: now },
        );

        // Assess
        expect(ours.authorization).toBe(signed.headers.authorization);
        expect(ours['x-amz-date']).toBe('20261129T204107Z');
      }
    }
  });
});

describe('sending it', () => {
  it('signs for sts in the region, the session token signed and sent, as the service checks it', async () => {
    // Prepare
    seen = [];
    reply = (res) => res.writeHead(200, { 'content-type': 'text/xml' }).end('<A>ok</A>');

    // Act
    const answer = await send(stsQueryBody('GetCallerIdentity'));

    // Assess
    expect(answer).toEqual({ status: 200, body: '<A>ok</A>' });
    expect(seen[0]?.check).toEqual({ ok: true, accessKeyId: SOURCE.accessKeyId });
    expect(seen[0]?.headers['x-amz-security-token']).toBe(SOURCE.sessionToken);
    expect(seen[0]?.headers.authorization).toMatch(/SignedHeaders=[a-z0-9;-]*x-amz-security-token/);
    expect(seen[0]?.headers.authorization).toContain(`/eu-west-1/sts/aws4_request`);
  });

  it('is refused by the check when signed with another secret', async () => {
    seen = [];
    await send(stsQueryBody('GetCallerIdentity'), 64 * 1024, { ...SOURCE, secretAccessKey: 'not-the-secret' });
    expect(seen[0]?.check).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('reads an error answer whole, with its status', async () => {
    reply = (res) => res.writeHead(403).end('<ErrorResponse/>');
    expect(await send(stsQueryBody('GetCallerIdentity'))).toEqual({ status: 403, body: '<ErrorResponse/>' });
  });

  it('cuts a body past its cap: the exchange’s `protocol` in `body` error, not a partial answer', async () => {
    reply = (res) => res.writeHead(200).end('x'.repeat(10_000));
    await expect(send(stsQueryBody('GetCallerIdentity'), 4096)).rejects.toMatchObject({
      code: 'ERR_RESPONSE_TOO_LARGE',
      message: 'response exceeded the cap of 4096 bytes',
    });
  });

  it('an answer that breaks off after its head is the endpoint’s, with its status', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('<AssumeRoleResponse>');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const error = await send(stsQueryBody('GetCallerIdentity')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenAnswer);
    expect(error).toMatchObject({ status: 200 });
  });
});

describe('reading the answer', () => {
  const valid = assumeRoleXml({ ...SOURCE, sessionToken: 'tok' }, ROLE_ARN, 'canary');

  it('finds an element’s text, within its parent when named, with XML’s entities decoded', () => {
    const xml = parseXmlAnswer(
      `<?xml version="1.0"?>\n<R><E><Code>A&amp;B &lt;&gt; &quot;&apos; &#65;&#x42;</Code></E></R>\n`,
    );
    expect(xml?.text('Code', 'E')).toBe(`A&B <> "' AB`);
    expect(xml?.text('Code', 'Missing')).toBeUndefined();
    expect(parseXmlAnswer(valid)?.text('Arn', 'AssumedRoleUser')).toBe(
      'arn:aws:sts::111111111111:assumed-role/Reader/canary',
    );
    expect(parseXmlAnswer(valid)?.text('SessionToken', 'Credentials')).toBe('tok');
  });

  it('refuses a document cut short anywhere, one that is not XML, and markup where text belongs', () => {
    for (let cut = 0; cut < valid.length; cut += 7) expect(parseXmlAnswer(valid.slice(0, cut))).toBeUndefined();
    expect(parseXmlAnswer('{"Credentials":{}}')).toBeUndefined();
    expect(parseXmlAnswer('<!DOCTYPE a>'.repeat(50))).toBeUndefined();
    expect(parseXmlAnswer('<R><Code><![CDATA[x]]></Code></R>')?.text('Code')).toBeUndefined();
    expect(parseXmlAnswer('<R><Code>&unknown; &#x110000;</Code></R>')?.text('Code')).toBe('&unknown; &#x110000;');
  });
});
