/**
 * Git objects and a pack, made in memory (gitformat-pack, version 2), so the CodeCommit stand-in can answer
 * `git-upload-pack` with a real commit without a git binary: each object hashed as git hashes it
 * (`<type> <size>\0<body>`), the pack's objects stored whole (no deltas) behind their type-and-size headers and
 * zlib streams, then the SHA-1 trailer over everything before it.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob';

export interface GitObject {
  type: ObjectType;
  /** The object's SHA-1 (40 hex), as `git hash-object` gives it. */
  oid: string;
  body: Buffer;
}

/** A commit with everything it reaches: what a depth-1 fetch of it receives. */
export interface Snapshot {
  commit: GitObject;
  objects: readonly GitObject[];
}

const TYPE_NUMBERS: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

/** The object of `type` holding `body`, with the oid git gives it. */
export function gitObject(type: ObjectType, body: Buffer): GitObject {
  const oid = createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
  return { type, oid, body };
}

/** A tree of plain files (mode 100644), entries in git's order (by name: these are files, not directories). */
function tree(files: ReadonlyArray<{ name: string; blob: GitObject }>): GitObject {
  const entries = [...files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
    .map(({ name, blob }) => Buffer.concat([Buffer.from(`100644 ${name}\0`), Buffer.from(blob.oid, 'hex')]));
  return gitObject('tree', Buffer.concat(entries));
}

/**
 * A root commit of `files` (name → content, one directory), by `author` at `time`.
 *
 * @example
 * const { commit, objects } = snapshot({ 'README.md': Buffer.from('hello\n') }, { message: 'first', time: new Date(0) });
 */
export function snapshot(
  files: Readonly<Record<string, Buffer>>,
  { message, time, author = 'Demo <demo@example.test>' }: { message: string; time: Date; author?: string },
): Snapshot {
  const blobs = Object.entries(files).map(([name, content]) => ({ name, blob: gitObject('blob', content) }));
  const root = tree(blobs);
  const stamp = `${Math.floor(time.getTime() / 1000)} +0000`;
  const commit = gitObject(
    'commit',
    Buffer.from(`tree ${root.oid}\nauthor ${author} ${stamp}\ncommitter ${author} ${stamp}\n\n${message}\n`),
  );
  return { commit, objects: [commit, root, ...blobs.map(({ blob }) => blob)] };
}

/** An object's pack header: type in bits 4-6 of the first byte, the size in 4 bits then 7 bits a byte. */
function objectHeader(type: ObjectType, size: number): Buffer {
  const bytes = [(TYPE_NUMBERS[type] << 4) | (size & 0x0f)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) | 0x80;
    bytes.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

/**
 * A version 2 pack of `objects`, each stored whole, with its SHA-1 trailer.
 *
 * @example
 * writePack(snapshot(files, commitInfo).objects).subarray(0, 4).toString() // 'PACK'
 */
export function writePack(objects: readonly GitObject[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  const content = Buffer.concat([
    header,
    ...objects.flatMap((object) => [objectHeader(object.type, object.body.length), deflateSync(object.body)]),
  ]);
  return Buffer.concat([content, createHash('sha1').update(content).digest()]);
}

/**
 * `bytes` of data no compressor can shrink, the same for the same `seed`: SHA-256 in counter mode. A pack holding
 * it is as large on the wire as the data.
 */
export function incompressible(bytes: number, seed: string): Buffer {
  const out = Buffer.alloc(bytes);
  for (let offset = 0, counter = 0; offset < bytes; offset += 32, counter++) {
    createHash('sha256').update(`${seed}:${counter}`).digest().copy(out, offset);
  }
  return out;
}
