/**
 * STS's wire format, without the SDK: one AWS query-protocol request (a form in a POST body, SigV4-signed) and a
 * tolerant read of the XML answer. The SDK's client spent more CPU per target on its middleware stack, retry
 * machinery and XML deserialiser than on the request, and was most of the probe bundle. The signature is written
 * here rather than taken from `@smithy/signature-v4`: for this one fixed request it is a few lines (the git
 * password is SigV4 too, `git/password.ts`), signs in about a quarter of the SDK signer's CPU, and keeps the
 * signer and the `@smithy/core` parts it loads out of the probe's cold start; the test checks it against the
 * SDK's signer.
 */
import type { Agent, IncomingMessage } from 'node:http';
import { requestFor } from '../net/exchange.ts';
import { ResponseTooLarge } from '../net/trace.ts';
import type { AwsCredentials } from './git/password.ts';
import { sha256Hex, sigv4Signature } from './sigv4.ts';

export const STS_API_VERSION = '2011-06-15';
const USER_AGENT = 'codecommit-canary (sts)';

/** What AssumeRole is sent: the members in the order of STS's model, as the SDK serialises them. */
export interface AssumeRoleInput {
  RoleArn: string;
  RoleSessionName: string;
  Policy?: string;
  DurationSeconds: number;
  ExternalId?: string;
}

/** RFC 3986 encoding, as the SDK's query serialiser (`extendedEncodeURIComponent`) does it. */
const encode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The form body: `Action` and `Version` first, then the members given, in their order; absent ones left out.
 *
 * @example
 * stsQueryBody('GetCallerIdentity') // 'Action=GetCallerIdentity&Version=2011-06-15'
 */
export function stsQueryBody(action: 'AssumeRole' | 'GetCallerIdentity', input: object = {}): string {
  let body = `Action=${action}&Version=${STS_API_VERSION}`;
  for (const [name, value] of Object.entries(input)) {
    if (value !== undefined) body += `&${name}=${encode(String(value))}`;
  }
  return body;
}

/**
 * The headers of a SigV4-signed POST of a form to `/` for `sts` in `region`, every header signed (the
 * `User-Agent` added after is not, as the SDK leaves it out too).
 *
 * @example
 * signedStsHeaders(new URL('https://sts.eu-west-1.amazonaws.com'), 'eu-west-1', credentials, body, new Date())
 * // { 'content-length': '43', …, authorization: 'AWS4-HMAC-SHA256 Credential=AKIA…/20260101/eu-west-1/sts/aws4_request, …' }
 */
export function signedStsHeaders(url: URL, region: string, credentials: AwsCredentials, body: string, now: Date) {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const headers: Record<string, string> = {
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/x-www-form-urlencoded',
    host: url.host,
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers); // in the canonical (sorted) order as written
  const signed = names.join(';');
  const canonical = `POST\n/\n\n${names.map((n) => `${n}:${headers[n]}\n`).join('')}\n${signed}\n${sha256Hex(body)}`;
  const { scope, signature } = sigv4Signature(credentials.secretAccessKey, amzDate, region, 'sts', canonical);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
  return headers;
}

export interface StsAnswer {
  status: number;
  body: string;
}

export interface StsSendOptions {
  agent: Agent;
  signal: AbortSignal;
  /** Cap on the body's bytes (the exchange's agent caps the connection's too). */
  maxBodyBytes: number;
  now: Date;
}

/**
 * Posts one signed query to `url` through the exchange's agent and reads the whole answer (any status) as text.
 * An error after the head arrived carries the status, as the SDK's did: the answer was the endpoint's.
 */
export async function sendStsQuery(
  url: URL,
  region: string,
  credentials: AwsCredentials,
  body: string,
  { agent, signal, maxBodyBytes, now }: StsSendOptions,
): Promise<StsAnswer> {
  const headers = signedStsHeaders(url, region, credentials, body, now);
  const send = requestFor(url);
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', agent, signal, headers: { ...headers, 'user-agent': USER_AGENT } },
      (response) => readAnswer(response, maxBodyBytes).then(resolve, reject),
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The body as text, at most `maxBytes` of it; an error while reading it is tagged with the answer's status. */
function readAnswer(response: IncomingMessage, maxBytes: number): Promise<StsAnswer> {
  const status = response.statusCode ?? 0;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        response.destroy(new ResponseTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    response.on('error', (error) =>
      reject(error instanceof ResponseTooLarge ? error : new BrokenAnswer(status, error)),
    );
    response.on('close', () => {
      if (!response.complete) reject(new BrokenAnswer(status, new Error('aborted')));
    });
  });
}

/** The answer began (a status arrived) and then broke off: the endpoint's answer, classified by its status. */
export class BrokenAnswer extends Error {
  constructor(
    readonly status: number,
    error: Error,
  ) {
    super(error.message);
    this.name = error.name;
  }
}

// The reading side: a tolerant extraction of a few elements, linear in the body's length whatever it holds.

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's five named entities and character references decoded; any other `&…;` left as it is. */
function decodeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, name: string) => {
    if (name[0] !== '#') return ENTITIES[name] ?? whole;
    const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * A parsed answer's elements: the text of the first `<name>…</name>` (no attributes, no markup inside) in `within`
 * (or the whole document), decoded; undefined when there is none.
 */
export interface XmlAnswer {
  text(name: string, within?: string): string | undefined;
}

/** The root element's name, after any prolog (`<?xml …?>`, comments, DOCTYPE): the first `<` and a letter. */
const ROOT = /<([A-Za-z_][\w.:-]*)/;

/**
 * The document, if it is a whole one: an element whose closing tag ends the body (so an answer cut short anywhere
 * is refused, whatever it held before the cut). Undefined for anything else: not XML, truncated, empty.
 *
 * @example
 * parseXmlAnswer('<R><A>1 &amp; 2</A></R>')?.text('A') // '1 & 2'
 * parseXmlAnswer('<R><A>1</A>') // undefined
 */
export function parseXmlAnswer(body: string): XmlAnswer | undefined {
  const document = body.trim();
  const root = ROOT.exec(document)?.[1];
  if (!root || !document.endsWith(`</${root}>`)) return undefined;
  return {
    text(name, within) {
      let from = 0;
      let to = document.length;
      if (within) {
        const open = document.indexOf(`<${within}>`);
        if (open < 0) return undefined;
        from = open + within.length + 2;
        const close = document.indexOf(`</${within}>`, from);
        if (close < 0) return undefined;
        to = close;
      }
      const open = document.indexOf(`<${name}>`, from);
      if (open < 0 || open >= to) return undefined;
      const start = open + name.length + 2;
      const end = document.indexOf(`</${name}>`, start);
      if (end < 0 || end > to) return undefined;
      const value = document.slice(start, end);
      return value.includes('<') ? undefined : decodeXml(value);
    },
  };
}
