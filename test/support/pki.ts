import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** The test CA's certificate: trust it through NODE_EXTRA_CA_CERTS, AWS_CA_BUNDLE or GIT_SSL_CAINFO. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** Names the server certificate covers: loopback, `*.test`, and the canonical AWS names tests resolve to loopback. */
export const TEST_SERVER_NAMES = [
  'localhost',
  '*.canary.test',
  'sts.amazonaws.com',
  '*.ap-northeast-1.amazonaws.com',
  '*.us-east-1.amazonaws.com',
  '*.us-west-2.amazonaws.com',
  '*.cn-north-1.amazonaws.com.cn',
];

/**
 * A CA made for this test run and one server certificate it signed (openssl on PATH). Valid a year, so no test
 * trips the certificate-expiry finding by accident (tests of that finding make their own short-lived certificate).
 */
export function createTestPki(dir = mkdtempSync(join(tmpdir(), 'canary-pki-'))): TestPki {
  const san = ['IP:127.0.0.1', 'IP:::1', ...TEST_SERVER_NAMES.map((n) => `DNS:${n}`)].join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    } catch (error) {
      throw new Error(`openssl ${args[0]} failed (is openssl installed? apt-get install openssl): ${String(error)}`);
    }
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '365',
    '-subj',
    '/CN=codecommit-canary test CA',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=localhost']);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '365',
    '-extfile',
    'ext.cnf',
  ]);
  return { dir, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}

/** Another server certificate from the same test CA, valid `days` days (for the certificate-expiry finding). */
export function issueServerCertificate(pki: TestPki, days: number): TestPki {
  const name = `short-${days}d`;
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    '/CN=localhost',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    String(days),
    '-extfile',
    'ext.cnf',
  ]);
  return { ...pki, certFile: join(pki.dir, `${name}.pem`), keyFile: join(pki.dir, `${name}.key`) };
}
