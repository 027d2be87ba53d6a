import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { freePort } from '../lib/sandbox/listen.ts';
import type { PkiFiles } from '../lib/sandbox/pki.ts';

export interface AssumedRoleRecord {
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  role_arn: string;
  session_name: string;
  external_id: string | null;
}

export interface Moto {
  /** `https://127.0.0.1:<port>`: every AWS service moto serves, on one port. */
  url: string;
  port: number;
  /** State dump (`/moto-api/data.json`). */
  data(): Promise<Record<string, Record<string, unknown[]>>>;
  assumedRoles(): Promise<AssumedRoleRecord[]>;
  /** The secret key moto issued for an assumed-role access key id. */
  secretFor(accessKeyId: string): Promise<string | undefined>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials for the caller of AssumeRole: moto accepts any; these are fake by construction. */
export const FAKE_SOURCE_CREDENTIALS = {
  accessKeyId: 'AKIAFAKESOURCE000001',
  secretAccessKey: 'fake-source-secret-key-for-tests-only',
} as const;

function assertMotoInstalled(): void {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "moto_server not found: the tests need Python moto 5 with its server (pip install 'moto[server]>=5'), on PATH as moto_server",
    );
  }
}

/** Starts `moto_server` over HTTPS on loopback with the test PKI's certificate. */
export async function startMoto(pki: PkiFiles): Promise<Moto> {
  assertMotoInstalled();
  const port = await freePort();
  const child: ChildProcess = spawn(
    'moto_server',
    ['-H', '127.0.0.1', '-p', String(port), '-c', pki.certFile, '-k', pki.keyFile],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `https://127.0.0.1:${port}`;
  const agent = new Agent({ ca: readFileSync(pki.caFile), keepAlive: false });
  const call = (method: string, path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(`${url}${path}`, { method, agent, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('moto did not answer in 5 s')));
      req.on('error', reject);
      req.end();
    });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      await call('GET', '/moto-api/data.json');
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`moto_server did not start on ${url}: ${String(error)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const data = async () => JSON.parse(await call('GET', '/moto-api/data.json'));
  const assumedRoles = async (): Promise<AssumedRoleRecord[]> => (await data()).sts?.AssumedRole ?? [];
  return {
    url,
    port,
    data,
    assumedRoles,
    async secretFor(accessKeyId) {
      return (await assumedRoles()).find((r) => r.access_key_id === accessKeyId)?.secret_access_key;
    },
    async reset() {
      await call('POST', '/moto-api/reset');
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
