/**
 * The sandbox's credentials: the source keys its callers sign with, and the temporary credentials its STS
 * issues (random, remembered so the CodeCommit stand-in can check passwords signed with them). Nothing here is,
 * or could be mistaken for, a real AWS key.
 */
import { randomBytes } from 'node:crypto';
import type { AwsCredentials } from '../steps/git/password.ts';

export interface IssuedCredentials extends Required<AwsCredentials> {
  expiration: Date;
}

export interface CredentialStoreOptions {
  /** The keys callers sign AssumeRole with (never expire, never forgotten). */
  sources?: readonly AwsCredentials[];
  /** How many issued credentials are remembered, oldest forgotten first. Default 256. */
  remember?: number;
  now?: () => Date;
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ASIA` + 16 characters, the shape of an AWS temporary access key id. */
const temporaryKeyId = (): string =>
  `ASIA${[...randomBytes(16)].map((b) => KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length]).join('')}`;

export class CredentialStore {
  readonly #sources: Map<string, string>;
  readonly #issued = new Map<string, { credentials: IssuedCredentials; sequence: number }>();
  readonly #remember: number;
  readonly #now: () => Date;
  #sequence = 0;
  #taken = 0;

  constructor(options: CredentialStoreOptions = {}) {
    this.#sources = new Map((options.sources ?? []).map((c) => [c.accessKeyId, c.secretAccessKey]));
    this.#remember = options.remember ?? 256;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * New temporary credentials (shaped like real ones: ASIA key id, 40-character secret, a long session token),
   * valid for `durationSeconds`.
   */
  issue(durationSeconds = 3600): IssuedCredentials {
    const credentials = {
      accessKeyId: temporaryKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(300).toString('base64')}`,
      expiration: new Date(this.#now().getTime() + durationSeconds * 1000),
    };
    this.#issued.set(credentials.accessKeyId, { credentials, sequence: ++this.#sequence });
    if (this.#issued.size > this.#remember) this.#issued.delete(this.#issued.keys().next().value as string);
    return credentials;
  }

  /** The secret key of a source key or of a remembered, unexpired issued key. */
  secretFor(accessKeyId: string): string | undefined {
    const source = this.#sources.get(accessKeyId);
    if (source) return source;
    const issued = this.#issued.get(accessKeyId)?.credentials;
    return issued && issued.expiration.getTime() > this.#now().getTime() ? issued.secretAccessKey : undefined;
  }

  /** The credentials issued since the last call (of those still remembered): a run's secrets, for a scan. */
  takeIssued(): IssuedCredentials[] {
    const since = this.#taken;
    this.#taken = this.#sequence;
    return [...this.#issued.values()].filter((e) => e.sequence > since).map((e) => e.credentials);
  }

  /** Every secret key and session token this store knows: what must never appear in any output. */
  secrets(): string[] {
    return [
      ...this.#sources.values(),
      ...[...this.#issued.values()].flatMap(({ credentials }) => [
        credentials.secretAccessKey,
        credentials.sessionToken,
      ]),
    ];
  }
}
