/**
 * The ref advertisement of Git smart HTTP, protocol v0: the body of `GET <repo>/info/refs?service=git-upload-pack`.
 *
 *   pkt("# service=git-upload-pack\n") flush
 *   pkt("<oid> <refname>\0<capabilities>\n")   first ref only carries capabilities
 *   pkt("<oid> <refname>\n")…                   peeled tags as `<name>^{}`, LF optional
 *   flush
 *
 * Empty repositories send no ref lines (git < 2.41) or one `<zero-id> capabilities^{}\0<caps>` line (git ≥ 2.41).
 * A missing `# service=` header is tolerated: the rest is exactly what upload-pack sends over git:// and ssh.
 * Real git refuses it over HTTP, but there the smart/dumb decision belongs to the Content-Type, which the caller
 * checks; a dumb-HTTP `info/refs` (plain text, not pkt-lines) fails here (framing error or truncation).
 */
import { serverText } from '../../net/server-text.ts';
import { type PktLine, PktLineReader } from './pkt-line.ts';

/** Largest advertisement accepted by default: 16 MiB, some 250,000 refs. */
export const DEFAULT_MAX_ADVERTISEMENT_BYTES = 16 * 1024 * 1024;

/** One line of `git ls-remote` output. */
export interface AdvertisedRef {
  oid: string;
  name: string;
}

export interface Advertisement {
  /** Exactly the lines `git ls-remote <url>` prints, in order: `HEAD` first when it resolves, `^{}` peeled tags. */
  refs: AdvertisedRef[];
  capabilities: string[];
  /** From `symref=<name>:<target>` capabilities, e.g. `{ HEAD: 'refs/heads/main' }`. */
  symrefs: Record<string, string>;
  /**
   * The branch HEAD points at (full name, `refs/heads/…`): the `symref=HEAD:` capability when advertised;
   * otherwise (CodeCommit) inferred as the branch with HEAD's oid, preferring `main`, then `master`, then the first
   * advertised. `null` when HEAD does not resolve or no branch matches it.
   */
  head: string | null;
  /** The oid of the `HEAD` line, `null` when there is none (empty repository, unborn HEAD). */
  headSha: string | null;
  /** From the `object-format=` capability (`sha1`, `sha256`), when advertised. */
  objectFormat?: string;
}

/** A protocol error is data: the server's `ERR` text, a framing or grammar problem, truncation, or the size cap. */
export type AdvertisementResult =
  | { ok: true; advertisement: Advertisement }
  | { ok: false; error: { message: string } };

export interface AdvertisementParserOptions {
  /** Bytes accepted before the parser gives up (default {@link DEFAULT_MAX_ADVERTISEMENT_BYTES}). */
  maxBytes?: number;
}

const SERVICE_LINE = '# service=git-upload-pack';
const EMPTY_REPO_CAPABILITIES = 'capabilities^{}';
const OID_HEX_LENGTH: Record<string, number> = { sha1: 40, sha256: 64 };

type State = 'service' | 'service-headers' | 'refs' | 'done';

/**
 * Streaming parser for the protocol v0 ref advertisement. `push` the body's chunks as they arrive; stop reading
 * as soon as `push` returns `false` (closing flush seen, error, or more than `maxBytes`), then call `finish`.
 * Retained memory stays within `maxBytes`: bytes past the cap are never buffered.
 *
 * @example
 * const parser = new AdvertisementParser({ maxBytes: 1024 * 1024 });
 * for await (const chunk of response) if (!parser.push(chunk)) break;
 * const result = parser.finish();
 * if (result.ok) console.log(result.advertisement.refs.length, result.advertisement.head);
 * else console.log(result.error.message);
 */
export class AdvertisementParser {
  readonly #maxBytes: number;
  readonly #reader = new PktLineReader();
  #received = 0;
  #state: State = 'service';
  #error: string | null = null;
  #refs: AdvertisedRef[] = [];
  /** `null` until the first ref line (or the empty-repository line) was read. */
  #capabilities: string[] | null = null;
  #oidHexLength = 40;
  /** Set by the empty-repository line or a shallow line: only shallow lines may follow. */
  #refsEnded = false;

  constructor(options: AdvertisementParserOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_ADVERTISEMENT_BYTES;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${options.maxBytes}`);
    }
  }

  /** True once the outcome is known (closing flush, error or cap): further chunks are ignored. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** Bytes held by the pkt-line reader: at most one incomplete packet once `push` returned. */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /** Feeds a chunk of the body. Returns `false` when the caller should stop reading: the outcome is known. */
  push(chunk: Uint8Array): boolean {
    if (this.done) return false;
    const room = this.#maxBytes - this.#received;
    this.#received += chunk.length;
    // Feed only up to the cap, so an advertisement within the cap parses whatever the chunking.
    this.#reader.push(chunk.length > room ? chunk.subarray(0, Math.max(room, 0)) : chunk);
    for (let packet = this.#reader.read(); packet && !this.done; packet = this.#reader.read()) {
      const problem = packet.type === 'error' ? packet.message : this.#take(packet);
      if (problem !== undefined) this.#fail(problem);
    }
    if (!this.done && this.#received > this.#maxBytes) {
      this.#fail(`advertisement exceeded the cap of ${this.#maxBytes} bytes before its closing flush`);
    }
    return !this.done;
  }

  /** The outcome. Call after the body ended or `push` returned `false`; never throws. */
  finish(): AdvertisementResult {
    if (this.#error !== null) return { ok: false, error: { message: this.#error } };
    if (!this.done) {
      const where = this.#state === 'refs' ? `after ${this.#refs.length} refs` : 'in its header';
      const message =
        this.#received === 0
          ? 'empty body: no advertisement'
          : `advertisement truncated ${where}: the body ended after ${this.#received} bytes, before its closing flush`;
      return { ok: false, error: { message } };
    }
    return { ok: true, advertisement: this.#advertisement() };
  }

  /** Takes one packet; returns what is wrong with it, if anything. */
  #take(packet: PktLine): string | undefined {
    if (packet.type !== 'data') {
      if (packet.type !== 'flush') return `unexpected ${packet.type} packet: not a protocol v0 advertisement`;
      // The header block ends with a flush; a flush anywhere else closes the advertisement.
      this.#state = this.#state === 'service-headers' ? 'refs' : 'done';
      return;
    }
    const line = chomp(packet.payload.toString('utf8'));
    if (line.startsWith('ERR ')) return `remote error: ${serverText(line.slice(4))}`;
    if (this.#state === 'service') {
      if (line === SERVICE_LINE) {
        this.#state = 'service-headers';
        return;
      }
      if (line.startsWith('# service='))
        return `unexpected service line ${JSON.stringify(truncate(line))}, wanted "${SERVICE_LINE}"`;
      this.#state = 'refs'; // No header: parse this packet as the first ref line.
    }
    if (this.#state === 'service-headers') return; // git ignores extra header lines up to the flush
    return this.#refLine(line);
  }

  #refLine(line: string): string | undefined {
    const first = this.#capabilities === null;
    if (first) {
      // `version 1` is v0 with one extra line; v2 is a different protocol (and needs a request header we never send).
      if (line === 'version 1') return;
      if (line === 'version 2') return 'server answered with protocol v2; only v0 is supported';
      this.#capabilities = splitCapabilities(line);
      const format = this.#capability('object-format') ?? 'sha1';
      const hexLength = OID_HEX_LENGTH[format];
      if (hexLength === undefined) return `unsupported object-format "${format}"`;
      this.#oidHexLength = hexLength;
    } else if (line.startsWith('shallow ')) {
      // Shallow lines may follow the refs (ls-remote does not print them); like git, no ref may follow them.
      this.#refsEnded = true;
      return;
    }
    // Capabilities ride on the first line only; on later lines git reads up to the NUL and ignores the rest.
    const nul = line.indexOf('\0');
    const text = nul < 0 ? line : line.slice(0, nul);
    if (this.#refsEnded) return `unexpected ${JSON.stringify(truncate(line))}: only shallow lines may follow`;
    const oid = text.slice(0, this.#oidHexLength).toLowerCase();
    const name = text.slice(this.#oidHexLength + 1);
    if (!isHex(oid, this.#oidHexLength) || text[this.#oidHexLength] !== ' ' || name === '') {
      return `malformed ref line ${JSON.stringify(truncate(line))}: wanted "<${this.#oidHexLength}-hex oid> <refname>"`;
    }
    if (name === EMPTY_REPO_CAPABILITIES) {
      // git ≥ 2.41's empty repository: one line with a zero oid that only carries the capabilities.
      if (!first || nul < 0 || !/^0+$/.test(oid)) return `unexpected ${EMPTY_REPO_CAPABILITIES} line`;
      this.#refsEnded = true;
      return;
    }
    this.#refs.push({ oid, name });
  }

  #capability(key: string): string | undefined {
    const prefix = `${key}=`;
    return this.#capabilities?.find((c) => c.startsWith(prefix))?.slice(prefix.length);
  }

  #advertisement(): Advertisement {
    const capabilities = this.#capabilities ?? [];
    const symrefs: Record<string, string> = {};
    for (const capability of capabilities) {
      const match = /^symref=([^:]+):(.+)$/.exec(capability);
      if (match?.[1] && match[2]) symrefs[match[1]] = match[2];
    }
    const headSha = this.#refs.find((ref) => ref.name === 'HEAD')?.oid ?? null;
    const head = symrefs.HEAD ?? inferHead(this.#refs, headSha);
    const objectFormat = this.#capability('object-format');
    return { refs: this.#refs, capabilities, symrefs, head, headSha, ...(objectFormat ? { objectFormat } : {}) };
  }

  #fail(message: string): void {
    this.#error ??= message;
    this.#state = 'done';
  }
}

/**
 * Parses a whole advertisement held in memory.
 *
 * @example
 * const result = parseAdvertisement(readFileSync('info-refs.bin'));
 * if (result.ok) console.log(result.advertisement.head); // → 'refs/heads/main'
 */
export function parseAdvertisement(body: Uint8Array, options?: AdvertisementParserOptions): AdvertisementResult {
  const parser = new AdvertisementParser(options);
  parser.push(body);
  return parser.finish();
}

/** HEAD's branch when the server names none: the branch at HEAD's oid, `main` or `master` first. */
function inferHead(refs: AdvertisedRef[], headSha: string | null): string | null {
  if (headSha === null) return null;
  const candidates = refs.filter((ref) => ref.oid === headSha && ref.name.startsWith('refs/heads/')).map((r) => r.name);
  return ['refs/heads/main', 'refs/heads/master'].find((name) => candidates.includes(name)) ?? candidates[0] ?? null;
}

/** The space-separated capabilities after the first line's NUL. */
function splitCapabilities(line: string): string[] {
  const nul = line.indexOf('\0');
  return nul < 0
    ? []
    : line
        .slice(nul + 1)
        .split(' ')
        .filter(Boolean);
}

function chomp(line: string): string {
  return line.endsWith('\n') ? line.slice(0, -1) : line;
}

function isHex(text: string, length: number): boolean {
  return text.length === length && /^[0-9a-f]+$/.test(text);
}

/** A server's line quoted in a message: 80 printable characters at most. */
function truncate(text: string): string {
  return serverText(text, 80);
}
