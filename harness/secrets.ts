/**
 * Secret scanning for every output channel a test produces: stdout and stderr of child processes, the writers
 * of in-process runs (result records, EMF, log lines), alerts as delivered. A test collects the secrets it
 * used — the fake source key, each assumed role's secret key and session token (moto keeps them in its state
 * dump), stub-issued credentials — and fails on any hit, raw or encoded the ways a leak would travel (URL- or
 * JSON-escaped, or base64 as in a Basic `Authorization` header). Git passwords are never stored anywhere a test
 * could read them back, so they are caught by their shape (`YYYYMMDDTHHMMSSZ` + 64 hex), as are SigV4
 * signatures and Basic credentials.
 */
import type { Moto } from './moto.ts';
import { FAKE_SOURCE_CREDENTIALS } from './moto.ts';

/** A secret and what it is (the label is what a failure prints; the value never is). */
export interface Secret {
  label: string;
  value: string;
}

/** Shapes that are a credential whatever the value. */
export const CREDENTIAL_PATTERNS: ReadonlyArray<{ label: string; pattern: RegExp }> = [
  { label: 'a CodeCommit git password', pattern: /\b\d{8}T\d{6}Z[0-9a-f]{64}\b/ },
  { label: 'a SigV4 signature', pattern: /Signature=[0-9a-f]{64}/ },
  { label: 'Basic credentials', pattern: /Basic [A-Za-z0-9+/]{24,}={0,2}/ },
  { label: 'an Authorization header', pattern: /"?authorization"?\s*[:=]\s*"?(AWS4-HMAC-SHA256|Basic) /i },
];

/** The fake key every test signs with; its secret must never be printed either. */
export const SOURCE_SECRET: Secret = { label: 'the source secret key', value: FAKE_SOURCE_CREDENTIALS.secretAccessKey };

/** Every assumed-role secret key and session token moto issued so far, plus the source secret key. */
export async function motoSecrets(moto: Moto): Promise<Secret[]> {
  const roles = await moto.assumedRoles();
  return [
    SOURCE_SECRET,
    ...roles.flatMap((role) => [
      { label: `the secret key of ${role.access_key_id}`, value: role.secret_access_key },
      { label: `the session token of ${role.access_key_id}`, value: role.session_token },
    ]),
  ];
}

/** Secrets of credentials a test made or a stub issued. */
export const credentialSecrets = (
  credentials: ReadonlyArray<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>,
): Secret[] =>
  credentials.flatMap((c) => [
    { label: `the secret key of ${c.accessKeyId}`, value: c.secretAccessKey },
    ...(c.sessionToken ? [{ label: `the session token of ${c.accessKeyId}`, value: c.sessionToken }] : []),
  ]);

/**
 * The forms a secret takes on its way into output: as is, URL- and JSON-escaped, and base64 at each of the three
 * byte alignments it can have inside a longer base64 string (only the characters that depend on it alone).
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : 4;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    const form = encoded.slice(start, end);
    if (form.length >= 16) forms.add(form);
  }
  return [...forms];
}

export interface SecretHit {
  channel: string;
  what: string;
}

/** Where the secrets (in any of their forms) or credential shapes appear in the channels. */
export function findSecrets(channels: Record<string, string>, secrets: readonly Secret[]): SecretHit[] {
  const hits: SecretHit[] = [];
  const forms = secrets
    .filter((s) => s.value.length >= 8)
    .flatMap((s) => secretForms(s.value).map((form) => ({ label: s.label, form })));
  for (const [channel, text] of Object.entries(channels)) {
    for (const { label, form } of forms) if (text.includes(form)) hits.push({ channel, what: label });
    for (const { label, pattern } of CREDENTIAL_PATTERNS) if (pattern.test(text)) hits.push({ channel, what: label });
  }
  return hits;
}

/** Throws, naming channel and secret (never the value), when any channel holds a secret. */
export function assertNoSecrets(channels: Record<string, string>, secrets: readonly Secret[]): void {
  const hits = findSecrets(channels, secrets);
  if (hits.length === 0) return;
  const shown = hits.slice(0, 10).map((h) => `  ${h.what} in ${h.channel}`);
  const more = hits.length > 10 ? [`  … and ${hits.length - 10} more`] : [];
  throw new Error(`secrets found in output:\n${[...shown, ...more].join('\n')}`);
}

/** A Writer that keeps everything written to it (stdout of an in-process run), line by line. */
export class CapturedOutput {
  readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  text(): string {
    return this.chunks.join('');
  }
  lines(): string[] {
    return this.text().split('\n').filter(Boolean);
  }
  /** The JSON objects written, one per line (lines that are not JSON are skipped). */
  objects(): Record<string, unknown>[] {
    return this.lines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
  clear(): void {
    this.chunks.length = 0;
  }
}

/** Outputs of many runs (a test file's CLI runs, its handler invocations), kept by name for one scan at the end. */
export class OutputLog {
  readonly channels: Record<string, string> = {};
  #count = 0;
  add(name: string, text: string): void {
    this.channels[`#${++this.#count} ${name}`] = text;
  }
  /** Keeps a child process's stdout and stderr; returns the run unchanged. */
  record<T extends { stdout: string; stderr: string }>(name: string, run: T): T {
    this.add(`${name}: stdout`, run.stdout);
    this.add(`${name}: stderr`, run.stderr);
    return run;
  }
}
