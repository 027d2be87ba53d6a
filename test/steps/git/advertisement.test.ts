import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AdvertisedRef,
  AdvertisementParser,
  type AdvertisementResult,
  parseAdvertisement,
} from '../../../lib/steps/git/advertisement.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/advertisements');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.bin`));

/** `git ls-remote` output lines as refs. */
const parseLsRemote = (text: string): AdvertisedRef[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [oid = '', name = ''] = line.split('\t');
      return { oid, name };
    });
/** What `git ls-remote <path>` printed when the fixture was captured (capture.sh): the oracle. */
const lsRemote = (name: string): AdvertisedRef[] =>
  parseLsRemote(readFileSync(join(FIXTURES, `${name}.ls-remote.txt`), 'utf8'));

/** One pkt-line; `\0` and `\n` pass through. */
const pkt = (text: string): string => (Buffer.byteLength(text) + 4).toString(16).padStart(4, '0') + text;
const SERVICE = `${pkt('# service=git-upload-pack\n')}0000`;
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function parseChunks(chunks: Uint8Array[], maxBytes?: number): AdvertisementResult {
  const parser = new AdvertisementParser({ maxBytes });
  for (const chunk of chunks) if (!parser.push(chunk)) break;
  return parser.finish();
}

const parse = (text: string): AdvertisementResult => parseAdvertisement(Buffer.from(text));
const errorOf = (result: AdvertisementResult): string => (result.ok ? 'no error' : result.error.message);

describe('AdvertisementParser on captured git http-backend bodies', () => {
  it.each([
    ['branches-tags', 'refs/heads/develop', '0ddc0aa42f06f507f2bffc93d59d00fe1fc954a2'],
    ['detached', 'refs/heads/main', 'b6c9432df4b91f38ef1314ab4994c2e5c114ad03'], // no symref: inferred
    ['unborn-head', null, null], // HEAD -> a branch that does not exist: no HEAD line
    ['sha256', 'refs/heads/main', 'dd4706e2a8b069541e4ae8ff8875168e098ed89400b3955e9278a578f0487f11'],
    ['empty', null, null],
  ])('%s: the refs git ls-remote prints, HEAD %s', (name, head, headSha) => {
    // Act
    const result = parseAdvertisement(fixture(name));
    // Assess
    expect(result.ok, errorOf(result)).toBe(true);
    if (!result.ok) return;
    expect(result.advertisement.refs).toEqual(lsRemote(name));
    expect(result.advertisement.head).toBe(head);
    expect(result.advertisement.headSha).toBe(headSha);
  });

  it('reads capabilities, symrefs and the object format', () => {
    const result = parseAdvertisement(fixture('branches-tags'));
    expect(result.ok && result.advertisement).toMatchObject({
      capabilities: expect.arrayContaining(['multi_ack', 'side-band-64k', 'agent=git/2.39.5']),
      symrefs: { HEAD: 'refs/heads/develop' },
      objectFormat: 'sha1',
    });
    const sha256 = parseAdvertisement(fixture('sha256'));
    expect(sha256.ok && sha256.advertisement.objectFormat).toBe('sha256');
  });

  it.each(['branches-tags', 'sha256', 'empty', 'codecommit-style', 'err', 'lying-length-long', 'lying-length-short'])(
    '%s: the same result split at every byte offset and in 1-byte chunks',
    (name) => {
      const body = fixture(name);
      const whole = parseAdvertisement(body);
      for (let at = 0; at <= body.length; at++) {
        expect(parseChunks([body.subarray(0, at), body.subarray(at)]), `split at ${at}`).toEqual(whole);
      }
      expect(parseChunks([...body].map((byte) => Uint8Array.of(byte)))).toEqual(whole);
    },
  );

  it('accepts the advertisement without the "# service=" header (upload-pack as git:// and ssh send it)', () => {
    const result = parseAdvertisement(fixture('no-service-header'));
    expect(result).toEqual(parseAdvertisement(fixture('branches-tags')));
  });
});

describe('AdvertisementParser on hand-built bodies', () => {
  it('reads the empty repository of git ≥ 2.41 (capabilities^{} line) as zero refs', () => {
    const result = parseAdvertisement(fixture('empty-new-form'));
    expect(result.ok && result.advertisement).toMatchObject({ refs: [], head: null, headSha: null });
    expect(result.ok && result.advertisement.capabilities).toContain('agent=git/2.45.0');
  });

  it('infers HEAD without symref (CodeCommit): the branch at HEAD, main before others', () => {
    const result = parseAdvertisement(fixture('codecommit-style'));
    expect(result.ok && result.advertisement).toEqual({
      refs: [
        { oid: '1111111111111111111111111111111111111111', name: 'HEAD' },
        { oid: '2222222222222222222222222222222222222222', name: 'refs/heads/develop' },
        { oid: '1111111111111111111111111111111111111111', name: 'refs/heads/feature' },
        { oid: '1111111111111111111111111111111111111111', name: 'refs/heads/main' },
      ],
      capabilities: expect.arrayContaining(['multi_ack', 'no-done']),
      symrefs: {},
      head: 'refs/heads/main',
      headSha: '1111111111111111111111111111111111111111',
    });
  });

  it.each([
    ['master before other branches', ['refs/heads/a', 'refs/heads/master'], 'refs/heads/master'],
    ['main before master', ['refs/heads/master', 'refs/heads/main'], 'refs/heads/main'],
    ['else the first advertised branch', ['refs/heads/b', 'refs/heads/a'], 'refs/heads/b'],
    ['never a tag', ['refs/tags/v1'], null],
  ])('infers HEAD: %s', (_, names, head) => {
    const body = `${SERVICE}${pkt(`${A} HEAD\0ofs-delta\n`)}${pkt(`${B} refs/heads/other\n`)}${names.map((n) => pkt(`${A} ${n}\n`)).join('')}0000`;
    const result = parse(body);
    expect(result.ok && result.advertisement.head).toBe(head);
  });

  it('reports an ERR packet with the server text', () => {
    expect(parseAdvertisement(fixture('err'))).toEqual({
      ok: false,
      error: { message: 'remote error: Repository not found or access denied' },
    });
    expect(errorOf(parse(`${SERVICE}${pkt(`${A} HEAD\0x\n`)}${pkt('ERR gone\n')}0000`))).toBe('remote error: gone');
  });

  it('reports a length that promises more than the body holds as truncation', () => {
    expect(errorOf(parseAdvertisement(fixture('lying-length-long')))).toBe(
      'advertisement truncated after 1 refs: the body ended after 231 bytes, before its closing flush',
    );
  });

  it('reports a length that promises less as a framing error', () => {
    expect(errorOf(parseAdvertisement(fixture('lying-length-short')))).toBe(
      'invalid pkt-line length "D\\n00": is not 4 hex digits',
    );
  });

  it.each([
    ['an empty body', '', 'empty body: no advertisement'],
    ['no closing flush', `${SERVICE}${pkt(`${A} HEAD\n`)}`, 'advertisement truncated after 1 refs'],
    ['no flush after the header', pkt('# service=git-upload-pack\n'), 'advertisement truncated in its header'],
    ['another service', `${pkt('# service=git-receive-pack\n')}0000`, 'unexpected service line'],
    ['protocol v2', `${pkt('version 2\n')}${pkt('ls-refs\n')}0000`, 'server answered with protocol v2'],
    ['a delim packet', `${SERVICE}0001`, 'unexpected delim packet'],
    ['a short oid', `${SERVICE}${pkt('abc HEAD\n')}0000`, 'malformed ref line "abc HEAD"'],
    ['an oid that is not hex', `${SERVICE}${pkt(`${'g'.repeat(40)} HEAD\n`)}0000`, 'malformed ref line'],
    ['no ref name', `${SERVICE}${pkt(`${A} \n`)}0000`, 'malformed ref line'],
    ['a tab for the space', `${SERVICE}${pkt(`${A}\tHEAD\n`)}0000`, 'malformed ref line'],
    ['a sha1 oid in a sha256 repo', `${SERVICE}${pkt(`${A} HEAD\0object-format=sha256\n`)}0000`, 'malformed'],
    ['an unknown object format', `${SERVICE}${pkt(`${A} HEAD\0object-format=md5\n`)}0000`, 'unsupported object-format'],
    [
      'capabilities^{} after a ref',
      `${SERVICE}${pkt(`${A} HEAD\0x\n`)}${pkt(`${'0'.repeat(40)} capabilities^{}\n`)}0000`,
      'unexpected capabilities^{}',
    ],
    [
      'a ref after capabilities^{}',
      `${SERVICE}${pkt(`${'0'.repeat(40)} capabilities^{}\0x\n`)}${pkt(`${A} HEAD\n`)}0000`,
      'only shallow lines may follow',
    ],
  ])('returns an error for %s', (_, body, message) => {
    expect(errorOf(parse(body))).toContain(message);
  });

  it('skips a "version 1" line, extra header lines and shallow lines, and tolerates missing LFs and upper-case oids', () => {
    const body =
      pkt('# service=git-upload-pack\n') +
      pkt('# extra header\n') +
      '0000' +
      pkt('version 1\n') +
      pkt(`${A.toUpperCase()} HEAD\0symref=HEAD:refs/heads/x`) +
      pkt(`${A} refs/heads/x\0ignored after the first line`) +
      pkt(`shallow ${B}\n`) +
      '0000';
    expect(parse(body)).toEqual({
      ok: true,
      advertisement: {
        refs: [
          { oid: A, name: 'HEAD' },
          { oid: A, name: 'refs/heads/x' },
        ],
        capabilities: ['symref=HEAD:refs/heads/x'],
        symrefs: { HEAD: 'refs/heads/x' },
        head: 'refs/heads/x',
        headSha: A,
      },
    });
  });
});

describe('AdvertisementParser stops reading', () => {
  it('at the closing flush: push returns false, later bytes are ignored', () => {
    // Prepare
    const parser = new AdvertisementParser();
    const body = fixture('branches-tags');
    // Act
    const more = parser.push(body);
    const afterwards = parser.push(Buffer.from('garbage that is not pkt-lines'));
    // Assess
    expect([more, afterwards, parser.done]).toEqual([false, false, true]);
    expect(parser.finish()).toEqual(parseAdvertisement(body));
  });

  it('keeps asking for more until the closing flush', () => {
    const parser = new AdvertisementParser();
    const body = fixture('branches-tags');
    expect(parser.push(body.subarray(0, -1))).toBe(true);
    expect(parser.done).toBe(false);
    expect(parser.push(body.subarray(-1))).toBe(false);
  });

  it('at maxBytes: an advertisement of exactly maxBytes parses, one byte less fails', () => {
    // Prepare
    const body = fixture('branches-tags');
    const chunks = [...body].map((byte) => Uint8Array.of(byte));
    // Act
    const exact = parseChunks(chunks, body.length);
    const parser = new AdvertisementParser({ maxBytes: body.length - 1 });
    const accepted = chunks.filter((chunk) => parser.push(chunk)).length;
    // Assess
    expect(exact).toEqual(parseAdvertisement(body));
    expect(accepted).toBe(body.length - 1);
    expect(parser.finish()).toEqual({
      ok: false,
      error: { message: `advertisement exceeded the cap of ${body.length - 1} bytes before its closing flush` },
    });
  });

  it('rejects a maxBytes that is not a positive integer', () => {
    expect(() => new AdvertisementParser({ maxBytes: 0 })).toThrow(RangeError);
    expect(() => new AdvertisementParser({ maxBytes: 1.5 })).toThrow('maxBytes must be a positive integer, got 1.5');
  });
});

// The oracle, live (git is required, like the rest of the suite): this machine's git serves a fresh repository through http-backend, and `git ls-remote` lists it.

describe('AdvertisementParser against this machine’s git http-backend', () => {
  const root = mkdtempSync(join(tmpdir(), 'canary-advertisement-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH,
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Canary',
    GIT_AUTHOR_EMAIL: 'canary@example.com',
    GIT_COMMITTER_NAME: 'Canary',
    GIT_COMMITTER_EMAIL: 'canary@example.com',
  };
  const git = (args: string[], input?: string): string =>
    execFileSync('git', args, { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
  const infoRefs = (name: string): Buffer => {
    const cgi = execFileSync('git', ['http-backend'], {
      env: {
        ...env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: `/${name}/info/refs`,
        QUERY_STRING: 'service=git-upload-pack',
        REQUEST_METHOD: 'GET',
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return cgi.subarray(cgi.indexOf('\r\n\r\n') + 4);
  };

  it('lists 10,000 branches and tags exactly as git ls-remote does, HEAD -> develop', () => {
    // Prepare
    const repo = join(root, 'many.git');
    git(['init', '-q', '--bare', '-b', 'main', repo]);
    const tree = git(['-C', repo, 'mktree'], '');
    const first = git(['-C', repo, 'commit-tree', tree, '-m', 'one']);
    const second = git(['-C', repo, 'commit-tree', tree, '-p', first, '-m', 'two']);
    const updates = Array.from({ length: 10_000 }, (_, i) => `create refs/heads/branch-${i} ${i % 2 ? first : second}`);
    git(['-C', repo, 'update-ref', '--stdin'], `${updates.join('\n')}\ncreate refs/heads/develop ${second}\n`);
    git(['-C', repo, 'tag', '-a', '-m', 'annotated', 'v1.0', first]);
    git(['-C', repo, 'tag', 'v0.1', second]);
    git(['-C', repo, 'symbolic-ref', 'HEAD', 'refs/heads/develop']);
    const body = infoRefs('many');
    const expected = parseLsRemote(git(['ls-remote', repo]));
    // Act
    const started = performance.now();
    const result = parseAdvertisement(body);
    const elapsedMs = performance.now() - started;
    // Assess
    expect(result.ok, errorOf(result)).toBe(true);
    if (!result.ok) return;
    expect(result.advertisement.refs).toEqual(expected);
    expect(result.advertisement.refs).toHaveLength(10_005); // HEAD, develop, the branches, v0.1, v1.0, v1.0^{}
    expect(result.advertisement.head).toBe('refs/heads/develop');
    expect(result.advertisement.headSha).toBe(second);
    const byteByByte = [...body].map((byte) => Uint8Array.of(byte));
    expect(parseChunks(byteByByte)).toEqual(result);
    console.info(`parsed ${body.length} bytes, ${expected.length} refs in ${elapsedMs.toFixed(1)} ms`);
  });
});
