/**
 * The demo's only credentials: a fixed, obviously fake source key for the probe, and the temporary credentials
 * the local STS issues (random, remembered so the git endpoint can check passwords signed with them).
 * Nothing here is, or could be mistaken for, a real AWS key; none of it is ever printed.
 */
import { randomBytes } from 'node:crypto';
import type { AwsCredentials } from '../steps/git/password.ts';

/** The probe's own (source) credentials in the demo: given to the SDK explicitly, never read from the environment. */
export const DEMO_SOURCE_CREDENTIALS: Readonly<AwsCredentials> = {
  accessKeyId: 'AKIADEMOCANARY000001',
  secretAccessKey: 'demo-only-source-secret-not-an-aws-key',
};

export interface IssuedCredentials extends Required<AwsCredentials> {
  expiration: Date;
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ASIA` + 16 characters, the shape of an AWS temporary access key id. */
const temporaryKeyId = (): string =>
  `ASIA${[...randomBytes(16)].map((b) => KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length]).join('')}`;

export class CredentialStore {
  readonly #secrets = new Map<string, { secret: string; expiresAt: number }>();
  readonly #tokens: string[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {
    this.#secrets.set(DEMO_SOURCE_CREDENTIALS.accessKeyId, {
      secret: DEMO_SOURCE_CREDENTIALS.secretAccessKey,
      expiresAt: Number.POSITIVE_INFINITY,
    });
  }

  /** New temporary credentials, valid for `durationSeconds`. */
  issue(durationSeconds: number): IssuedCredentials {
    const credentials = {
      accessKeyId: temporaryKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzEDemo//${randomBytes(180).toString('base64')}`,
      expiration: new Date(this.now().getTime() + durationSeconds * 1000),
    };
    this.#secrets.set(credentials.accessKeyId, {
      secret: credentials.secretAccessKey,
      expiresAt: credentials.expiration.getTime(),
    });
    this.#tokens.push(credentials.sessionToken);
    return credentials;
  }

  /** The secret key of a known, unexpired access key id. */
  secretFor(accessKeyId: string): string | undefined {
    const entry = this.#secrets.get(accessKeyId);
    return entry && entry.expiresAt > this.now().getTime() ? entry.secret : undefined;
  }

  /** Every secret and session token this store knows: what must never appear in the demo's output. */
  secrets(): string[] {
    return [...[...this.#secrets.values()].map((entry) => entry.secret), ...this.#tokens];
  }
}
