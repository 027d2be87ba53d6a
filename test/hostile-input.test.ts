import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redact } from '../lib/alerting/text.ts';
import { systemClock } from '../lib/clock.ts';
import type { NetDeps } from '../lib/net/exchange.ts';
import { classifyError, FAILURE_MESSAGE_MAX_CHARS } from '../lib/net/failure.ts';
import { SERVER_TEXT_MAX_CHARS, serverText } from '../lib/net/server-text.ts';
import { type FaultServer, faultServer } from '../lib/sandbox/fault-servers.ts';
import { createPki } from '../lib/sandbox/pki.ts';
import { parseAdvertisement } from '../lib/steps/git/advertisement.ts';
import { gitStep } from '../lib/steps/git/ls-remote.ts';
import { STS_MAX_RESPONSE_BYTES, stsStep } from '../lib/steps/sts.ts';

/**
 * Hostile servers, bounded: whatever text a server writes reaches a failure message as one printable line of at
 * most a few hundred characters, in bounded time; the redaction of free text is linear; an STS answer is cut at
 * 64 KiB before the SDK's XML parser (superlinear on repeated `<!DOCTYPE`) can spend seconds on it.
 */

/** Control characters a terminal or a log line would act on: C0, DEL, C1, line separators, bidi marks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Text from the nastiest alphabet: controls, escapes, bidi marks, surrogates, URL-ish and base64-ish runs. */
const hostileChar = fc.oneof(
  fc.constantFrom('\n', '\r', '\u001b', '\u0007', '\u0000', '\u009b', '\u2028', '\u202e', '\u2066', '\ud83d\ude00'),
  fc.constantFrom('a', 'Z', '0', '.', '+', '-', ':', '/', '@', '%', '=', ' ', '[', 'm', ';'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const hostileText = (maxLength: number) => fc.string({ unit: hostileChar, maxLength });
/** Strings built to make a backtracking regex rescan: long runs of scheme-, userinfo- and base64-like text. */
const pathological = fc
  .tuple(
    fc.constantFrom('a.', 'x://', 'a://b', 'ab-', 'AKID%', 'x'.repeat(39), 'http://u', 'a+b'),
    fc.integer({ min: 1_000, max: 32_000 }),
    fc.constantFrom('', ' ', '@', '/', '!'),
  )
  .map(([unit, times, end]) => `${unit.repeat(times)}${end}`.slice(0, 65_536));

const pkt = (payload: Buffer): Buffer =>
  Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
const SERVICE_HEADER = Buffer.concat([pkt(Buffer.from('# service=git-upload-pack\n')), Buffer.from('0000')]);

const timed = <T>(work: () => T): { value: T; ms: number } => {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
};

describe('server text', () => {
  it('keeps at most SERVER_TEXT_MAX_CHARS printable characters of anything, in microseconds', () => {
    let worstMs = 0;
    fc.assert(
      fc.property(fc.oneof(hostileText(2_000), pathological), (text) => {
        const { value, ms } = timed(() => serverText(text));
        worstMs = Math.max(worstMs, ms);
        expect(value.length).toBeLessThanOrEqual(SERVER_TEXT_MAX_CHARS);
        expect(value).not.toMatch(UNSAFE);
      }),
      { numRuns: 300 },
    );
    expect(worstMs).toBeLessThan(20);
  });

  it('turns any failure message into one bounded printable line', () => {
    fc.assert(
      fc.property(hostileText(70_000), (message) => {
        const failure = classifyError(new Error(message), 'response', false, 1000);
        expect(failure.message.length).toBeLessThanOrEqual(FAILURE_MESSAGE_MAX_CHARS);
        expect(failure.message).not.toMatch(UNSAFE);
      }),
      { numRuns: 100 },
    );
  });
});

describe('git ERR lines', () => {
  it('parses a maximal ERR packet of hostile text into a bounded printable message, quickly', () => {
    let worstMs = 0;
    fc.assert(
      fc.property(hostileText(20_000), fc.boolean(), (text, withHeader) => {
        // Prepare: up to 65,516 bytes of payload, the most one packet carries.
        const payload = Buffer.from(`ERR ${text}\n`).subarray(0, 65_516);
        const body = Buffer.concat([withHeader ? SERVICE_HEADER : Buffer.alloc(0), pkt(payload)]);

        // Act
        const { value: result, ms } = timed(() => parseAdvertisement(body));

        // Assess
        worstMs = Math.max(worstMs, ms);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.message.startsWith('remote error: ')).toBe(true);
        expect(result.error.message.length).toBeLessThanOrEqual('remote error: '.length + SERVER_TEXT_MAX_CHARS);
        expect(result.error.message).not.toMatch(UNSAFE);
      }),
      { numRuns: 200 },
    );
    expect(worstMs).toBeLessThan(50);
  });
});

describe('redact', () => {
  it('is linear: 64 KB built to make a backtracking regex rescan takes milliseconds', () => {
    let worstMs = 0;
    fc.assert(
      fc.property(pathological, (text) => {
        const { value, ms } = timed(() => redact(text));
        worstMs = Math.max(worstMs, ms);
        expect(value.length).toBeLessThanOrEqual(text.length + '[redacted]'.length);
      }),
      { numRuns: 60 },
    );
    // The unbounded pattern took 2.3 s on 64 KB of `a.`.
    expect(worstMs).toBeLessThan(100);
  });

  it('still removes user info and long base64 runs from hostile surroundings', () => {
    fc.assert(
      fc.property(hostileText(200), hostileText(200), (before, after) => {
        const secret = 'ASIAEXAMPLEKEY000001%IQoJb3JpZ2luX2VjEJr';
        const out = redact(`${before} https://${secret}@git-codecommit.us-east-1.amazonaws.com/v1 ${after}`);
        expect(out).not.toContain('IQoJb3JpZ2luX2VjEJr');
        expect(out).not.toContain('ASIAEXAMPLEKEY000001');
      }),
      { numRuns: 200 },
    );
  });
});

// --- through the steps, against hostile servers on loopback ------------------------------------------------

const pki = createPki({ names: ['localhost'], ips: ['127.0.0.1'] });
let server: FaultServer;
let url: string;
/** The next requests get `body`, raw bytes, as the answer's body with the given status and type. */
const answer = (status: number, type: string, body: Buffer): void =>
  server.setMode({ status, body, headers: { 'content-type': type, 'content-length': String(body.length) } });
const deps: NetDeps = { clock: systemClock, resolve: async () => ['127.0.0.1'], tls: { ca: [pki.caPem] } };

beforeAll(async () => {
  server = await faultServer(pki, { status: 200, body: '' });
  url = server.url;
});
afterAll(() => server?.stop());

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

describe('the git step against a server that answers with a hostile ERR line', () => {
  it('fails as protocol in body with a bounded printable message, well within its deadline', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText(20_000), async (text) => {
        // Prepare
        answer(
          200,
          'application/x-git-upload-pack-advertisement',
          Buffer.concat([SERVICE_HEADER, pkt(Buffer.from(`ERR \u001b[2J${text}\n`).subarray(0, 65_516))]),
        );
        const target = { repository: 'test_repo', region: 'us-east-1', gitEndpoint: url, timeouts: { gitMs: 5000 } };

        // Act
        const started = performance.now();
        const result = await gitStep(target, CREDENTIALS, { ...deps, maxAdvertisementBytes: 1024 * 1024 });
        const elapsed = performance.now() - started;

        // Assess: the record, the alert and the terminal all take the message from here.
        expect(result.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
        expect(result.failure?.message.length).toBeLessThanOrEqual(FAILURE_MESSAGE_MAX_CHARS);
        expect(result.failure?.message).not.toMatch(UNSAFE);
        expect(elapsed).toBeLessThan(1000);
      }),
      { numRuns: 25 },
    );
  });
});

describe('the sts step against a server that answers with an XML bomb of repeated <!DOCTYPE', () => {
  const target = (stsEndpoint: string) => ({
    region: 'us-east-1',
    roleArn: 'arn:aws:iam::111111111111:role/SwitchRole',
    sessionName: 'canary-hostile',
    stsEndpoint,
    timeouts: { stsMs: 5000 },
  });

  it('cuts 200 KB at the 64 KiB cap before the parser sees it: protocol in body, in well under a second', async () => {
    // Prepare: 200 KB of `<!DOCTYPE` took the SDK's parser 2.7 s of synchronous CPU.
    answer(200, 'text/xml', Buffer.from('<!DOCTYPE a>'.repeat(17_000)));

    // Act
    const started = performance.now();
    const { result, credentials } = await stsStep(target(url), CREDENTIALS, deps);
    const elapsed = performance.now() - started;

    // Assess
    expect(credentials).toBeUndefined();
    expect(result.failure).toMatchObject({ kind: 'protocol', phase: 'body' });
    expect(result.failure?.message).toContain(`cap of ${STS_MAX_RESPONSE_BYTES} bytes`);
    expect(elapsed).toBeLessThan(1000);
  });

  it('parses what fits under the cap in bounded time: the worst the parser can be made to spend', async () => {
    // Prepare: as much `<!DOCTYPE` as fits under the cap with the headers.
    const unit = '<!DOCTYPE a>';
    const body = Buffer.from(unit.repeat(Math.floor(60_000 / unit.length)));
    answer(200, 'text/xml', body);

    // Act
    const started = performance.now();
    const { result } = await stsStep(target(url), CREDENTIALS, deps);
    const elapsed = performance.now() - started;

    // Assess: a classified failure, never credentials, and far below the 5 s deadline.
    expect(result.ok).toBe(false);
    expect(result.failure?.message.length).toBeLessThanOrEqual(FAILURE_MESSAGE_MAX_CHARS);
    expect(result.failure?.message).not.toMatch(UNSAFE);
    console.info(`sts: ${body.length} bytes of <!DOCTYPE parsed to a failure in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1500);
  });
});
