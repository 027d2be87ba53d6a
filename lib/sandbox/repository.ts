/**
 * An in-memory repository and its smart-HTTP ref advertisement (protocol v0), byte for byte what
 * `git http-backend` sends for `GET <repo>/info/refs?service=git-upload-pack`; and, for a repository with
 * content, HEAD's commit packed (git-objects.ts) for what a depth-1 fetch of it receives.
 */
import { incompressible, type Snapshot, snapshot, writePack } from './git-objects.ts';

export interface Ref {
  name: string;
  oid: string;
  /** For an annotated tag: the commit it points at, advertised as `<name>^{}`. */
  peeled?: string;
}

export interface Repository {
  name: string;
  /** The branch HEAD points at. */
  head: string;
  refs: readonly Ref[];
  /** HEAD's commit and what it reaches; without it the repository is only advertised (a fetch finds nothing). */
  content?: Snapshot;
}

/** What the CodeCommit stand-in serves for a repository: its name and advertisement, and HEAD's pack. */
export interface HostedRepository {
  name: string;
  advertisement: Buffer;
  /** HEAD's commit and a pack of it with everything it reaches (what `git-upload-pack` answers a depth-1 want). */
  head?: { oid: string; pack: Buffer };
}

/**
 * The demo repository's files: a README and 384 KiB that do not compress, so its pack is as large on the wire
 * (a transfer that stalls after 64 KiB shows as one).
 */
export const DEMO_ASSET_BYTES = 384 * 1024;
const DEMO_CONTENT = snapshot(
  {
    'README.md': Buffer.from('# test_repo\n\nThe codecommit-canary demo repository.\n'),
    'assets.bin': incompressible(DEMO_ASSET_BYTES, 'codecommit-canary demo'),
  },
  { message: 'Demo content', time: new Date('2026-11-01T00:00:00Z') },
);

/**
 * The demo's repository. Fixed object ids, so every run advertises the same refs: main is a real commit (its
 * content above, fetchable); the other refs are invented and only advertised.
 */
export const DEMO_REPOSITORY: Repository = {
  name: 'test_repo',
  head: 'refs/heads/main',
  content: DEMO_CONTENT,
  refs: [
    { name: 'refs/heads/develop', oid: '5b1e0d43c29a8f6e7d1c0b9a8f7e6d5c4b3a2918' },
    { name: 'refs/heads/main', oid: DEMO_CONTENT.commit.oid },
    { name: 'refs/heads/release/1.4', oid: '0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d' },
    {
      name: 'refs/tags/v1.4.0',
      oid: '7e4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6',
      peeled: '0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d',
    },
  ],
};

const CAPABILITIES = [
  'multi_ack',
  'thin-pack',
  'side-band',
  'side-band-64k',
  'ofs-delta',
  'shallow',
  'no-progress',
  'include-tag',
  'multi_ack_detailed',
  'no-done',
  'object-format=sha1',
  'agent=git/2.43.0',
];

/** One pkt-line: four hex digits of length (including themselves), then the payload. */
const pkt = (payload: string): string => `${(payload.length + 4).toString(16).padStart(4, '0')}${payload}`;
const FLUSH = '0000';

/**
 * The advertisement: service header, flush, HEAD with the capabilities, the refs in name order (peeled tags
 * right after their tag), flush.
 *
 * @example
 * advertisement(DEMO_REPOSITORY).toString().slice(0, 30) // '001e# service=git-upload-pack\n0000…'
 */
export function advertisement(repository: Repository): Buffer {
  const head = repository.refs.find((ref) => ref.name === repository.head);
  const capabilities = [...CAPABILITIES, `symref=HEAD:${repository.head}`].join(' ');
  const lines = [pkt('# service=git-upload-pack\n'), FLUSH];
  if (head) lines.push(pkt(`${head.oid} HEAD\0${capabilities}\n`));
  for (const [i, ref] of [...repository.refs].sort((a, b) => (a.name < b.name ? -1 : 1)).entries()) {
    lines.push(pkt(`${ref.oid} ${ref.name}${!head && i === 0 ? `\0${capabilities}` : ''}\n`));
    if (ref.peeled) lines.push(pkt(`${ref.peeled} ${ref.name}^{}\n`));
  }
  lines.push(FLUSH);
  return Buffer.from(lines.join(''), 'utf8');
}

/**
 * The repository as the CodeCommit stand-in serves it. Content that is not HEAD's commit is a mistake in the
 * fixture: it throws.
 */
export function hosted(repository: Repository): HostedRepository {
  const { content } = repository;
  const headOid = repository.refs.find((ref) => ref.name === repository.head)?.oid;
  if (content && content.commit.oid !== headOid) {
    throw new Error(`${repository.name}: its content's commit ${content.commit.oid} is not HEAD (${headOid})`);
  }
  return {
    name: repository.name,
    advertisement: advertisement(repository),
    ...(content ? { head: { oid: content.commit.oid, pack: writePack(content.objects) } } : {}),
  };
}
