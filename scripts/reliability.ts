// The fault matrix as tables: every dependency of a monitor run × every fault, and the alert path's outages over
// several runs, each cell run end to end against the local sandbox (moto, the CodeCommit stand-in, misbehaving
// servers on 127.0.0.1), a page counting only when read back from the queue subscribed to the topic. Exits 1 when
// any cell is not as expected. The same matrix runs in test/reliability.test.ts.
// Run: npm run reliability   (MATRIX_CONCURRENCY=n: how many runs at once, default 6; MATRIX_CELLS=regex: only
// the cells whose label matches)
import { cpus, totalmem } from 'node:os';
import { CELLS, formatMatrix, runMatrix, startMatrixEnv } from '../harness/fault-matrix.ts';
import { assertNoSecrets } from '../harness/secrets.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const concurrency = Number(process.env.MATRIX_CONCURRENCY ?? 6);
const only = process.env.MATRIX_CELLS ? new RegExp(process.env.MATRIX_CELLS) : null;
const env = await startMatrixEnv();
let failed = false;
try {
  let done = 0;
  const result = await runMatrix(env, {
    concurrency,
    ...(only ? { cells: CELLS.filter((cell) => only.test(cell.label)) } : {}),
    onRun: () => {
      done++;
      if (process.stderr.isTTY) process.stderr.write(`\r${done} runs done`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; ${concurrency} runs at a time\n`,
  );
  console.log(formatMatrix(result));
  try {
    assertNoSecrets(Object.fromEntries(env.outputs), await env.secrets());
  } catch (error) {
    console.log(`\n${(error as Error).message}`);
    failed = true;
  }
  failed ||= result.totals.asExpected !== result.totals.cases;
} finally {
  await env.stop();
}
process.exit(failed ? 1 : 0);
