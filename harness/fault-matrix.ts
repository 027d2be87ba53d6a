/**
 * The fault matrix: every dependency of a monitor run crossed with every way a dependency breaks, and the outages
 * of the alert path that take several runs to tell, each run end to end in every delivery mode that uses the
 * dependency, with its expected outcome stated and checked. Used by test/reliability.test.ts (one assertion per
 * cell) and scripts/reliability.ts (the printed tables).
 *
 * - fault-matrix/matrix.ts: the cells (dependencies, faults, scenarios), the expected pages, the deadlines;
 * - fault-matrix/environment.ts: the sandbox, the broken endpoints, the queue the pages are read from;
 * - fault-matrix/clients.ts: the clients of a broken dependency;
 * - fault-matrix/run-cell.ts: one run of a cell, step by step: arrange.ts (the step's broken clients, targets and
 *   alert path), invoke.ts (the probe and notifier invocations), read-back.ts (pages, owed, records, datapoints);
 * - fault-matrix/runner.ts: the whole matrix, and its totals;
 * - fault-matrix/expectations.ts: what counts as a lost, duplicate or false page;
 * - fault-matrix/formatter.ts: the tables and the closing line.
 */

export { Mailbox, type MatrixEnv, startMatrixEnv } from './fault-matrix/environment.ts';
export { type Delivery, describePages, type PageTally, tallyPages } from './fault-matrix/expectations.ts';
export { expectedSummary, formatMatrix, observedSummary } from './fault-matrix/formatter.ts';
export {
  ALERT_SETTINGS,
  CELLS,
  type Cell,
  cellName,
  DEPENDENCIES,
  type Dependency,
  FAULT_CELLS,
  FAULTS,
  type Fault,
  type Mode,
  modesOf,
  SCENARIO_CELLS,
  type Step,
  TIMING,
} from './fault-matrix/matrix.ts';
export { type Invocation, type RunOutcome, runCell } from './fault-matrix/run-cell.ts';
export { type CellOutcome, type MatrixResult, runMatrix } from './fault-matrix/runner.ts';
