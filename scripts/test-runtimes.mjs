// `npm test`: the whole suite on the machine's Node, then on Node 24, the Lambda runtime's (scripts/node24.mjs),
// one after the other (two suites at once would double the load on every timing-sensitive test). Arguments go to
// vitest on both: `npm test -- test/bundles.test.ts`. Each run's time is printed; the exit code is the first failure's.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode24 } from './node24.mjs';

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const node24 = ensureNode24();
const runtimes = [
  { name: `the machine's Node (${process.version})`, node: process.execPath },
  // Node 24 first on PATH too, so the tools the tests start (npx serverless, tsx, node) run on it as well.
  { name: 'Node 24, the Lambda runtime', node: node24, path: `${dirname(node24)}:${process.env.PATH}` },
];

let exitCode = 0;
const times = [];
for (const { name, node, path } of runtimes) {
  console.log(`\n=== the test suite on ${name} ===\n`);
  const started = Date.now();
  const { status, signal } = spawnSync(node, [vitest, 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...(path ? { PATH: path } : {}) },
  });
  times.push(
    `${name}: ${status === 0 ? 'passed' : `failed (${signal ?? status})`} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  if (status !== 0 && exitCode === 0) exitCode = status ?? 1;
}
console.log(`\n${times.join('\n')}`);
process.exitCode = exitCode;
