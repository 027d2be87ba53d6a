import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_SOURCE_CREDENTIALS } from '../harness/moto.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { findSecrets, SOURCE_SECRET } from '../harness/secrets.ts';
import { systemClock } from '../lib/clock.ts';
import type { NetDeps } from '../lib/net/exchange.ts';
import { kindForStatus } from '../lib/net/failure.ts';
import { listenOnLoopback } from '../lib/sandbox/listen.ts';
import { assumeRoleXml, stsErrorXml } from '../lib/sandbox/sts-xml.ts';
import { STS_MAX_RESPONSE_BYTES, stsStep } from '../lib/steps/sts.ts';
import { FAILURE_KINDS, PHASES } from '../lib/types.ts';

/**
 * The sts step against a server that answers anything: arbitrary status lines and headers, bodies that are valid,
 * truncated, error documents, XML bombs or noise, framed honestly or with lying lengths and broken chunking,
 * written in arbitrary pieces, past the 64 KiB cap or without end, then closed, reset or left hanging. Whatever
 * comes, the step returns a result (never throws), within its deadline, with a classified failure unless the
 * answer was a valid AssumeRole; an answer past the cap ends as `protocol` in `body`; no secret from the answer
 * reaches the failure message; memory stays bounded.
 */

const CAP = STS_MAX_RESPONSE_BYTES; // 64 KiB
const ROLE_ARN = 'arn:aws:iam::111111111111:role/SwitchRole';
const ISSUED = {
  accessKeyId: 'ASIAFUZZISSUED000001',
  secretAccessKey: 'fuzz/Issued+Secret0123456789abcdefghijkl',
  sessionToken: `IQoJb3JpZ2luX2VjFUZZ${'t0kenP4rt'.repeat(30)}`,
};
const VALID = assumeRoleXml(ISSUED, ROLE_ARN, 'canary-fuzz');
const SECRETS = [
  SOURCE_SECRET,
  { label: 'the issued secret key', value: ISSUED.secretAccessKey },
  { label: 'the issued session token', value: ISSUED.sessionToken },
];

type BodyKind = 'valid' | 'truncated' | 'error' | 'no-credentials' | 'bomb' | 'noise' | 'bytes' | 'empty';
type Framing =
  | 'length'
  | 'length-short'
  | 'length-long'
  | 'length-invalid'
  | 'length-duplicate'
  | 'chunked'
  | 'chunked-broken'
  | 'close';

interface Answer {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** Raw header lines (may be anything). */
  rawHeaderLines: string[];
  bodyKind: BodyKind;
  body: Buffer;
  framing: Framing;
  /** Bytes streamed after the body, as part of it (the framing counts them): 0, past the cap, or endless. */
  extra: 0 | number | 'endless';
  /** Where the bytes are cut into separate writes. */
  cuts: number[];
  end: 'close' | 'reset' | 'hang';
}

const bomb = () => {
  const entities = ['<!ENTITY a0 "ha">'];
  for (let i = 1; i < 10; i++) entities.push(`<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE r [${entities.join('')}]><AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>&a9;</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>`;
};

const bodyArb: fc.Arbitrary<{ kind: BodyKind; body: Buffer }> = fc.oneof(
  fc.constant({ kind: 'valid' as const, body: Buffer.from(VALID) }),
  fc.nat(VALID.length - 1).map((n) => ({ kind: 'truncated' as const, body: Buffer.from(VALID.slice(0, n)) })),
  fc
    .tuple(
      fc.constantFrom('AccessDenied', 'Throttling', 'ExpiredToken', 'InvalidClientTokenId', 'RegionDisabled', 'x'),
      fc.string({ maxLength: 60 }),
    )
    .map(([code, message]) => ({ kind: 'error' as const, body: Buffer.from(stsErrorXml('Sender', code, message)) })),
  fc.constant({
    kind: 'no-credentials' as const,
    body: Buffer.from(VALID.replace(/<Credentials>.*<\/Credentials>/, '')),
  }),
  fc.constant({ kind: 'bomb' as const, body: Buffer.from(bomb()) }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '<',
          '>',
          '</',
          '<?xml',
          '<![CDATA[',
          ']]>',
          '&amp;',
          '&#x0;',
          'AssumeRoleResult',
          'Credentials',
        ),
        fc.string({ maxLength: 12 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => ({ kind: 'noise' as const, body: Buffer.from(parts.join('')) })),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ kind: 'bytes' as const, body: Buffer.from(bytes) })),
  fc.constant({ kind: 'empty' as const, body: Buffer.alloc(0) }),
);

const cleanHeaderArb = fc.constantFrom<[string, string]>(
  ['content-type', 'text/xml'],
  ['content-type', 'application/json'],
  ['content-type', 'text/html; charset=utf-8'],
  ['content-encoding', 'gzip'],
  ['content-encoding', 'deflate'],
  ['connection', 'keep-alive'],
  ['connection', 'close'],
  ['x-amzn-requestid', 'c6104cbe-af31-11e0-8154-cbc7ccf896c7'],
  ['x-amzn-errortype', 'ThrottlingException'],
  ['x-amzn-query-error', 'Throttling;Sender'],
);
const headerArb: fc.Arbitrary<[string, string]> = fc.oneof(
  cleanHeaderArb,
  fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ maxLength: 40 })),
);

/** `huge`: the body goes past the cap; the head is then a well-formed one, so the cap is what ends the answer. */
const answerArb = (ends: Answer['end'][], huge: boolean): fc.Arbitrary<Answer> =>
  fc
    .record({
      status: huge
        ? fc.integer({ min: 200, max: 599 }).filter((status) => status !== 204 && status !== 304) // bodiless
        : fc.oneof(
            fc.constantFrom(200, 200, 200, 400, 401, 403, 404, 429, 500, 503),
            fc.integer({ min: 100, max: 999 }),
          ),
      reason: huge ? fc.constant('OK') : fc.oneof(fc.constant('OK'), fc.string({ maxLength: 20 })),
      headers: fc.array(huge ? cleanHeaderArb : headerArb, { maxLength: 6 }),
      rawHeaderLines: huge
        ? fc.constant<string[]>([])
        : fc.oneof(
            { weight: 6, arbitrary: fc.constant<string[]>([]) },
            { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }) },
          ),
      body: bodyArb,
      framing: fc.constantFrom<Framing>(
        'length',
        'length',
        'length',
        'length-short',
        'length-long',
        'length-invalid',
        'length-duplicate',
        'chunked',
        'chunked-broken',
        'close',
      ),
      extra: huge
        ? fc.oneof(fc.integer({ min: CAP + 1, max: 4 * CAP }), fc.constant('endless' as const))
        : fc.constant(0 as const),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
      end: fc.constantFrom(...ends),
    })
    .map(({ body, ...rest }) => ({ ...rest, bodyKind: body.kind, body: body.body }));

/** The response's bytes up to the end of the (finite part of the) body. */
function render(answer: Answer): { head: Buffer; body: Buffer; chunked: boolean } {
  const extra = answer.extra === 'endless' ? 0 : answer.extra;
  const total = answer.body.length + extra;
  const lines = [`HTTP/1.1 ${answer.status} ${answer.reason.replace(/[\r\n]/g, ' ')}`];
  for (const [name, value] of answer.headers) lines.push(`${name}: ${value.replace(/[\r\n]/g, ' ')}`);
  lines.push(...answer.rawHeaderLines.map((l) => l.replace(/[\r\n]/g, ' ')));
  let chunked = false;
  const huge = answer.extra !== 0;
  // Past the cap: framed by the connection's close, or (a finite one) by a Content-Length that counts it all.
  const framing = huge && (answer.framing !== 'length' || answer.extra === 'endless') ? 'close' : answer.framing;
  switch (framing) {
    case 'length':
      lines.push(`content-length: ${total}`);
      break;
    case 'length-short':
      lines.push(`content-length: ${Math.floor(total / 2)}`);
      break;
    case 'length-long':
      lines.push(`content-length: ${total + 1 + (total % 977)}`);
      break;
    case 'length-invalid':
      lines.push(`content-length: ${['-1', 'abc', '1e3', ' ', '99999999999999999999'][total % 5]}`);
      break;
    case 'length-duplicate':
      lines.push(`content-length: ${total}`, `content-length: ${total + 1}`);
      break;
    case 'chunked':
    case 'chunked-broken':
      lines.push('transfer-encoding: chunked');
      chunked = true;
      break;
    case 'close':
      break;
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  let body = answer.body;
  if (chunked) {
    const size = answer.framing === 'chunked-broken' ? 'zz' : body.length.toString(16);
    body = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from(`\r\n0\r\n\r\n`)]);
  }
  return { head, body, chunked };
}

/** A server that answers the next request with `next`; plain TCP or TLS. */
interface ScriptedServer {
  url: string;
  next: Answer | undefined;
  stop(): Promise<void>;
}

async function scriptedServer(tls?: TestPki): Promise<ScriptedServer> {
  const state: ScriptedServer = { url: '', next: undefined, stop: async () => {} };
  const onSocket = (socket: Socket) => {
    socket.on('error', () => {});
    let request = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      request = Buffer.concat([request, chunk]);
      const headEnd = request.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(request.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0);
      if (request.length < headEnd + 4 + length) return;
      answered = true;
      if (state.next) void answer(socket, state.next);
    });
  };
  const server: Server = tls
    ? createTlsServer({ key: tls.keyPem, cert: tls.certPem }, onSocket)
    : createTcpServer(onSocket);
  const { port, stop } = await listenOnLoopback(server);
  state.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  state.stop = stop;
  return state;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Writes the answer in its pieces, then the extra bytes (with backpressure), then ends as scripted. */
async function answer(socket: Socket, script: Answer): Promise<void> {
  const { head, body } = render(script);
  const bytes = Buffer.concat([head, body]);
  const cuts = [...new Set(script.cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(at, cut));
    at = cut;
    await tick();
  }
  const block = Buffer.alloc(64 * 1024, 'x');
  let left = script.extra === 'endless' ? Number.POSITIVE_INFINITY : script.extra;
  while (left > 0 && !socket.destroyed) {
    const piece = left >= block.length ? block : block.subarray(0, left);
    left -= piece.length;
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  }
  if (socket.destroyed) return;
  if (script.end === 'close') socket.end();
  else if (script.end === 'reset') {
    const raw = (socket as Socket & { _parent?: Socket })._parent ?? socket;
    setTimeout(() => (raw.resetAndDestroy ? raw.resetAndDestroy() : raw.destroy()), 10);
  }
  // 'hang': leave it open; the client's deadline ends it.
}

// A full collection on demand, without restarting the worker with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DEADLINE_MS = 1500;
const HANG_DEADLINE_MS = 250;
const SLACK_MS = 500;

let pki: TestPki;
let plain: ScriptedServer;
let secure: ScriptedServer;
let deps: NetDeps;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  pki = createTestPki();
  [plain, secure] = await Promise.all([scriptedServer(), scriptedServer(pki)]);
  deps = { clock: systemClock, resolve: async (host) => [host], tls: { ca: readFileSync(pki.caFile, 'utf8') } };
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.all([plain?.stop(), secure?.stop()]);
});

/** Runs the sts step against the scripted answer and checks what must hold whatever the answer was. */
async function probe(server: ScriptedServer, script: Answer, deadlineMs: number) {
  server.next = script;
  const target = {
    region: 'us-east-1',
    roleArn: ROLE_ARN,
    sessionName: 'canary-fuzz',
    stsEndpoint: server.url,
    timeouts: { stsMs: deadlineMs },
  };
  const started = performance.now();
  const outcome = await stsStep(target, { ...FAKE_SOURCE_CREDENTIALS }, deps);
  const elapsed = performance.now() - started;
  const { result } = outcome;
  expect(elapsed).toBeLessThan(deadlineMs + SLACK_MS);
  if (result.ok) {
    // Only a complete, valid AssumeRole answer gets credentials.
    expect(script.bodyKind).toBe('valid');
    expect(script.status).toBeGreaterThanOrEqual(200);
    expect(script.status).toBeLessThan(300);
    expect(outcome.credentials).toEqual(ISSUED);
  } else {
    const failure = result.failure;
    expect(failure).not.toBeNull();
    expect(FAILURE_KINDS).toContain(failure?.kind);
    expect(PHASES).toContain(failure?.phase);
    expect(failure?.message.length).toBeLessThanOrEqual(400);
    expect(outcome.credentials).toBeUndefined();
    expect(findSecrets({ failure: JSON.stringify(result) }, SECRETS)).toEqual([]);
  }
  return outcome;
}

describe('the sts step under arbitrary answers (fast-check)', () => {
  it('classifies whatever a plain-HTTP endpoint answers, never throws, within the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(answerArb(['close', 'reset'], false), async (script) => {
        const { result } = await probe(plain, script, DEADLINE_MS);
        // A well-framed, complete error answer is classified by its status (or its STS error code).
        const { head } = render(script);
        const clean =
          script.framing === 'length' &&
          script.rawHeaderLines.length === 0 &&
          !script.headers.some(([n]) => /^(content-length|transfer-encoding|content-encoding)$/i.test(n)) &&
          script.status >= 400 &&
          script.status <= 599 &&
          head.length < 8192;
        if (clean && script.bodyKind !== 'error') {
          expect(result.failure).toMatchObject({ kind: kindForStatus(script.status), status: script.status });
        }
        if (script.status === 200 && script.framing === 'length' && script.bodyKind !== 'valid' && clean) {
          expect(result.failure?.kind).toBe('protocol');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the same over TLS', async () => {
    await fc.assert(
      fc.asyncProperty(answerArb(['close', 'reset'], false), async (script) => {
        await probe(secure, script, DEADLINE_MS);
      }),
      { numRuns: 60 },
    );
  });

  it('cuts an answer past the 1 MiB cap (long or endless) as protocol in body, with bounded memory', async () => {
    // Memory a run holds at its peak (JS heap and buffers), over what was live after a full collection before it.
    // Uncapped, an endless answer grows it by the bytes that arrive before the deadline (gigabytes here); capped,
    // the step's own share is ~10 MiB (the SDK's copies of 1 MiB), the rest is this process's server end.
    let worstGrowth = 0;
    await fc.assert(
      fc.asyncProperty(answerArb(['close', 'reset', 'hang'], true), fc.boolean(), async (script, overTls) => {
        gc();
        const live = () => {
          const { heapUsed, arrayBuffers } = process.memoryUsage();
          return heapUsed + arrayBuffers;
        };
        const before = live();
        let peak = before;
        const sampler = setInterval(() => {
          peak = Math.max(peak, live());
        }, 2);
        let result: Awaited<ReturnType<typeof probe>>['result'];
        try {
          ({ result } = await probe(overTls ? secure : plain, script, DEADLINE_MS));
        } finally {
          clearInterval(sampler);
        }
        worstGrowth = Math.max(worstGrowth, Math.max(peak, live()) - before);
        // Also when a close-delimited body starts with a valid answer: the SDK would parse that prefix, but
        // lib/net/exchange.ts refuses a value once the cap cut the connection.
        expect(result.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
        expect(result.failure?.message).toContain(`cap of ${CAP} bytes`);
      }),
      { numRuns: 40 },
    );
    // Absolute: the heap's own noise is larger than a multiple of the 64 KiB cap.
    expect(worstGrowth).toBeLessThan(64 * 1024 * 1024);
  });

  it('ends an answer that stops midway at the deadline: timeout, in the phase it stopped in', async () => {
    await fc.assert(
      fc.asyncProperty(answerArb(['hang'], false), async (script) => {
        // A well-formed head promising more body than comes, and the connection left open.
        const stalled: Answer = {
          ...script,
          status: 200,
          reason: 'OK',
          rawHeaderLines: [],
          headers: script.headers.filter(([name]) => /^(content-type|connection|x-amzn-[a-z-]+)$/.test(name)),
          framing: 'length-long',
        };
        const { result } = await probe(plain, stalled, HANG_DEADLINE_MS);
        expect(result.failure?.kind).toBe('timeout');
        // The head arrived, so the step was in `body` (a loaded machine may not have got that far in 250 ms).
        expect(['connect', 'response', 'body']).toContain(result.failure?.phase);
        expect(result.durationMs).toBeGreaterThanOrEqual(HANG_DEADLINE_MS - 5);
      }),
      { numRuns: 10 },
    );
  });

  it('raised no unhandled rejection along the way', () => {
    expect(unhandled).toEqual([]);
  });
});
