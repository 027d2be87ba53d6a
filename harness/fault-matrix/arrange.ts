/**
 * Arranging one step of a cell's run: the clients of its dependencies (a broken one where the step breaks it),
 * the targets (pointed at the step's fault), the captured outputs, and the alert path and metric sink its
 * invocations get, as the handlers build them.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { NotifyDeps } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import { type AlertSink, SnsAlertSink } from '../../lib/alerting/sinks.ts';
import { DynamoDbTable } from '../../lib/alerting/versioned-table.ts';
import type { ResolvedTarget } from '../../lib/config/config.ts';
import { jsonLogger } from '../../lib/log.ts';
import { CloudWatchSink, EmfSink } from '../../lib/metrics/sinks.ts';
import { CountingSink } from '../counting-sink.ts';
import { CapturedOutput } from '../secrets.ts';
import { type BrokenDependency, brokenClient, matrixLookup } from './clients.ts';
import type { MatrixEnv } from './environment.ts';
import { ALERT_SETTINGS, type Step, TIMING } from './matrix.ts';
import type { CellRun } from './run-cell.ts';

/** What a step's invocations run with; `dispose` ends its lookups and its broken clients. */
export interface StepSetup {
  targets: ResolvedTarget[];
  probeOut: CapturedOutput;
  notifierOut: CapturedOutput;
  /** Where the alerting invocation logs: the notifier's output in log mode, the probe's in direct mode. */
  alertOut: CapturedOutput;
  alertDeps: NotifyDeps;
  /** What the probe hands its metric sink (EMF in log mode, PutMetricData with EMF as fallback in direct mode). */
  metrics: CountingSink;
  /** Settles when the step's killing sink is called: the alerting invocation dies there. */
  killed: Promise<void>;
  /** One call's deadline against the dependency, broken or not. */
  callMs(dependency: BrokenDependency): number;
  /** Result records a probe invocation writes (targets × samples). */
  records: number;
  /** The longest one call of `notify()` may take in this step. */
  notifyMs: number;
  dispose(): void;
}

/**
 * The longest one call of `notify()` may take: every call it makes at its deadline — the re-send scan, a claim,
 * Publish and settle per owed notification, a conditional write, Publish and settle per record, the findings
 * write — as if all were sequential (targets actually run concurrently).
 */
export const notifyBoundMs = (records: number, owed: number, tableMs: number, snsMs: number): number =>
  tableMs * (1 + 2 * owed + 2 * records + 1) + snsMs * (owed + records);

export function arrangeStep(run: CellRun, step: Step): StepSetup {
  const clients = stepClients(run.env, step);
  try {
    const callMs = (dependency: BrokenDependency) => (step[dependency] ? TIMING.brokenCallMs : TIMING.healthyCallMs);
    const probeOut = new CapturedOutput();
    const notifierOut = new CapturedOutput();
    const alertOut = run.mode === 'log' ? notifierOut : probeOut;
    const targets = resolveTargets(run, step);
    const { sink, killed } = step.kill ? killingSink() : { sink: null, killed: new Promise<void>(() => {}) };
    const logger = jsonLogger(alertOut);
    const alertDeps: NotifyDeps = {
      outbox: new Outbox(new DynamoDbTable(clients.dynamodb, run.table.name), {
        clock: run.clock,
        leaseMs: TIMING.leaseMs,
        deadlineMs: callMs('dynamodb'),
      }),
      sink:
        sink ??
        new SnsAlertSink({ client: clients.sns, topicArn: run.env.topicArn, logger, deadlineMs: callMs('sns') }),
      logger,
      settings: ALERT_SETTINGS,
      clock: run.clock,
      failOpenSent: run.failOpenSent,
    };
    const records = run.targets.length * run.samples;
    const owedBound = run.targets.length;
    const emf = new EmfSink({ namespace: run.namespace, writer: probeOut });
    const metrics = new CountingSink(
      run.mode === 'log'
        ? emf
        : new CloudWatchSink({
            client: clients.cloudwatch,
            namespace: run.namespace,
            fallback: emf,
            timeoutMs: callMs('cloudwatch'),
          }),
    );
    return {
      targets,
      probeOut,
      notifierOut,
      alertOut,
      alertDeps,
      metrics,
      killed,
      callMs,
      records,
      notifyMs: notifyBoundMs(records, owedBound, callMs('dynamodb'), callMs('sns')),
      dispose: clients.dispose,
    };
  } catch (error) {
    clients.dispose();
    throw error;
  }
}

/** The step's SNS, DynamoDB and CloudWatch clients: the healthy ones, or a broken one where the step breaks it. */
function stepClients(env: MatrixEnv, step: Step) {
  const { lookup, cancel } = matrixLookup(env);
  const broken: Array<SNSClient | DynamoDBClient | CloudWatchClient> = [];
  const clientFor = <D extends BrokenDependency>(dependency: D) => {
    const fault = step[dependency];
    if (!fault) return env.healthy[dependency];
    const made = brokenClient(env, dependency, fault, lookup);
    broken.push(made);
    return made;
  };
  return {
    sns: clientFor('sns'),
    dynamodb: clientFor('dynamodb'),
    cloudwatch: clientFor('cloudwatch'),
    dispose() {
      cancel();
      for (const made of broken) made.destroy();
    },
  };
}

/**
 * The targets: the broken step's endpoint is the fault; otherwise a target that fails fast (sts refused) so that
 * every run has something to page about, or one that probes healthy (env.healthyTarget).
 */
function resolveTargets(run: CellRun, step: Step): ResolvedTarget[] {
  const { env } = run;
  return run.targets.map((t) => {
    if (t.healthy || step.targetOk) {
      const timeouts = { stsMs: TIMING.budgetMs / 2, gitMs: TIMING.budgetMs / 2 };
      return env.sandbox.target({ name: t.name, ...env.healthyTarget, timeouts });
    }
    return env.sandbox.target({
      name: t.name,
      stsEndpoint: step.sts
        ? (env.endpoints[step.sts] as string)
        : step.git
          ? env.sandbox.stsEndpoint
          : (env.endpoints.refused as string),
      gitEndpoint: step.git ? (env.endpoints[step.git] as string) : env.sandbox.gitEndpoint,
      timeouts: { stsMs: step.git ? TIMING.healthyStepMs : TIMING.brokenStepMs, gitMs: TIMING.brokenStepMs },
    });
  });
}

/** A sink whose Publish never returns: the invocation dies with it in flight, after its state write. */
function killingSink(): { sink: AlertSink; killed: Promise<void> } {
  let onKilled = () => {};
  const killed = new Promise<void>((resolve) => {
    onKilled = resolve;
  });
  const sink: AlertSink = {
    send: () => {
      onKilled();
      return new Promise(() => {});
    },
  };
  return { sink, killed };
}
