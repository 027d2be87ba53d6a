/**
 * A CodeCommit stand-in (git-codecommit): CodeCommit's URL layout (`/v1/repos/<name>`) and its password check
 * (codecommit-auth.ts) in front of repositories held in memory. What `git ls-remote` and a shallow `git fetch` of
 * HEAD over protocol v0 need: the upload-pack ref advertisement, and `POST …/git-upload-pack` answering a want of
 * HEAD's commit with its pack (side-band framed when asked), other wants with `ERR`. Without credentials 401, a wrong password 403, an unknown repository 404
 * (after the password, as CodeCommit). The fault switch: `hang` never answers, `deny` answers 403 even to a valid
 * password (a role without codecommit:GitPull), `slow` answers late.
 */
import { FLUSH_PKT, PktLineReader, pktLine } from '../steps/git/pkt-line.ts';
import { authenticateGit } from './codecommit-auth.ts';
import { FaultSwitch } from './fault-switch.ts';
import { type Answer, type StandInOptions, type StandInServer, startStandIn } from './https-stand-in.ts';
import type { HostedRepository } from './repository.ts';

export interface CodeCommitStandInOptions extends StandInOptions {
  /** The region this "CodeCommit" signs for, as the real service does for its own region. */
  region: string;
  /** Knows the secret of each key the callers may hold (the STS stand-in's credential store). */
  credentials: { secretFor(accessKeyId: string): string | undefined };
  repositories: readonly HostedRepository[];
}

const ROUTE = /^\/v1\/repos\/([\w.-]{1,100})\/(info\/refs|git-upload-pack)$/;

/** Data bytes per side-band packet: the largest packet less its length and band byte (git's LARGE_PACKET_DATA_MAX). */
const SIDE_BAND_DATA = { 'side-band-64k': 65520 - 5, 'side-band': 1000 - 5 } as const;

interface UploadPackWants {
  wants: string[];
  capabilities: Set<string>;
  deepen: boolean;
  /** The client is done negotiating (the probe always is; git first asks for the shallow section alone). */
  done: boolean;
}

/** The wants, the first want's capabilities and whether it deepens, from an upload-pack request body. */
function parseWants(body: Buffer): UploadPackWants | null {
  const reader = new PktLineReader();
  reader.push(body);
  const request: UploadPackWants = { wants: [], capabilities: new Set(), deepen: false, done: false };
  for (let packet = reader.read(); packet !== null; packet = reader.read()) {
    if (packet.type === 'error') return null;
    if (packet.type !== 'data') continue;
    const [verb, oid, ...capabilities] = packet.payload.toString('utf8').trim().split(' ');
    if (verb === 'want' && oid) {
      request.wants.push(oid.toLowerCase());
      for (const capability of capabilities) request.capabilities.add(capability);
    } else if (verb === 'deepen') request.deepen = true;
    else if (verb === 'done') request.done = true;
  }
  return request.wants.length > 0 ? request : null;
}

/**
 * What `git upload-pack --stateless-rpc` answers a depth-1 want of `head`: the shallow section (when deepening),
 * NAK, then the pack, in side-band-64k (or side-band) packets on band 1 and a flush, or raw without either.
 */
function uploadPackAnswer(head: { oid: string; pack: Buffer }, request: UploadPackWants): Buffer {
  const parts = request.deepen ? [pktLine(`shallow ${head.oid}\n`), FLUSH_PKT] : [];
  // Git's first round of a shallow fetch (no `done` yet) gets the shallow section alone, as from upload-pack.
  if (!request.done) return Buffer.concat(parts);
  parts.push(pktLine('NAK\n'));
  const band = request.capabilities.has('side-band-64k')
    ? 'side-band-64k'
    : request.capabilities.has('side-band')
      ? 'side-band'
      : null;
  if (band === null) return Buffer.concat([...parts, head.pack]);
  for (let at = 0; at < head.pack.length; at += SIDE_BAND_DATA[band]) {
    parts.push(pktLine(Buffer.concat([Buffer.from([1]), head.pack.subarray(at, at + SIDE_BAND_DATA[band])])));
  }
  return Buffer.concat([...parts, FLUSH_PKT]);
}

const text = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'text/plain', ...headers },
  body,
});

/**
 * Starts the endpoint on 127.0.0.1 (a random port).
 *
 * @example
 * const git = await startCodeCommitStandIn({ tls: pki, region, credentials: sts.credentials, repositories: [hosted(DEMO_REPOSITORY)] });
 */
export async function startCodeCommitStandIn(options: CodeCommitStandInOptions): Promise<StandInServer> {
  const faults = options.faults ?? new FaultSwitch('git');
  return startStandIn({ ...options, faults }, async (req, body) => {
    const url = new URL(req.url ?? '/', 'https://placeholder');
    const [, name, service] = ROUTE.exec(url.pathname) ?? [];
    const advertising = service === 'info/refs';
    const valid = advertising
      ? req.method === 'GET' && url.searchParams.get('service') === 'git-upload-pack'
      : req.method === 'POST';
    if (!name || !valid) return text(404, 'not found\n');
    const auth = await authenticateGit(req.headers, name, {
      region: options.region,
      secretFor: (id) => options.credentials.secretFor(id),
    });
    if (!auth.ok) {
      return auth.status === 401
        ? text(401, 'authentication required\n', { 'www-authenticate': 'Basic realm="AWS CodeCommit"' })
        : text(403, 'forbidden\n');
    }
    const signed = { accessKeyId: auth.accessKeyId };
    if (faults.fault === 'deny') return { ...text(403, 'forbidden\n'), ...signed };
    const repository = options.repositories.find((r) => r.name === name);
    if (!repository) return { ...text(404, 'repository not found\n'), ...signed };
    if (advertising) {
      return {
        status: 200,
        headers: { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' },
        body: repository.advertisement,
        ...signed,
      };
    }
    const request = parseWants(body);
    if (!request) return { ...text(400, 'expected want lines\n'), ...signed };
    const result = { 'content-type': 'application/x-git-upload-pack-result', 'cache-control': 'no-cache' };
    const unknown = request.wants.find((oid) => oid !== repository.head?.oid);
    // As git does: a want it cannot serve is an ERR packet in a 200 answer.
    if (unknown || !repository.head) {
      return { status: 200, headers: result, body: pktLine(`ERR upload-pack: not our ref ${unknown}\n`), ...signed };
    }
    return { status: 200, headers: result, body: uploadPackAnswer(repository.head, request), ...signed };
  });
}
