import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertTable } from '../harness/alert-path.ts';
import { type Moto, startMoto } from '../harness/moto.ts';
import { createTestPki, type TestPki } from '../harness/sandbox.ts';
import { assertNoSecrets, SOURCE_SECRET } from '../harness/secrets.ts';
import { gitTlsTimeout, motoClientOptions, record, recordingLogger } from '../harness/sqs.ts';
import { notify } from '../lib/alerting/notify.ts';
import { Outbox } from '../lib/alerting/outbox.ts';
import type { AlertSink } from '../lib/alerting/sinks.ts';
import type { AnyAlert } from '../lib/alerting/text.ts';
import { createAlertTableClient, DynamoDbTable } from '../lib/alerting/versioned-table.ts';
import { motoCliEnv } from './support/moto-cli-env.ts';
import { runCli } from './support/run-cli.ts';

/** As CloudFormation names the stack's table. */
const STACK = 'oncall-stack';
const TABLE = `${STACK}-IncidentTable-1A2B3C4D5E6F`;

let pki: TestPki;
let moto: Moto;
let env: NodeJS.ProcessEnv;
let configFile: string;
const outputs: Record<string, string> = {};

beforeAll(async () => {
  pki = createTestPki();
  moto = await startMoto(pki);
  const client = createAlertTableClient(motoClientOptions(moto, pki));
  await createAlertTable(client, TABLE);
  await createAlertTable(client, 'unrelated-table');
  client.destroy();
  const dir = mkdtempSync(join(tmpdir(), 'canary-mute-'));
  env = motoCliEnv(moto, pki, dir);
  configFile = join(dir, 'canary.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      region: 'us-east-1',
      alerts: { silenceMaxHours: 12 },
      targets: [
        { name: 'team-repo', repository: 'team-repo', roleArn: 'arn:aws:iam::111111111111:role/Canary' },
        { name: 'other-repo', repository: 'other-repo', roleArn: 'arn:aws:iam::111111111111:role/Canary' },
      ],
    }),
  );
});
afterAll(async () => {
  assertNoSecrets(outputs, [SOURCE_SECRET]);
  await moto?.stop();
});

const cli = async (args: string[]) => {
  const run = await runCli(args, env);
  outputs[args.join(' ')] = run.stdout + run.stderr;
  return run;
};

describe('codecommit-canary mute, unmute, mutes against the stack table on moto', () => {
  it('refuses bad input with one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['mute', 'nobody', '--for', '1h', '--reason', 'x', '--stack', STACK, '-c', configFile],
        /no target named nobody/,
      ],
      [
        ['mute', 'team-repo', '--for', '13h', '--reason', 'x', '--stack', STACK, '-c', configFile],
        /beyond the maximum of 12 h/,
      ],
      [['mute', 'team-repo', '--for', '25h', '--reason', 'x', '--stack', STACK], /beyond the maximum of 24 h/],
      [['mute', 'team-repo', '--for', 'soon', '--reason', 'x', '--stack', STACK, '-c', configFile], /--for: required/],
      [['mute', 'team-repo', '--for', '1h', '--stack', STACK, '-c', configFile], /--reason: required/],
      [
        ['mute', 'team-repo', '--for', '1h', '--reason', 'x', '--table', 'no-such-table'],
        /no-such-table: cannot be read/,
      ],
      [['mute', 'team-repo', '--for', '1h', '--reason', 'x', '--stack', 'no-such-stack'], /found none/],
      [['mutes'], /give --stack/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('mutes a target with who and why, the notifier holds its page, unmute lifts it', async () => {
    const muted = await cli([
      'mute',
      'team-repo',
      '--for',
      '2h',
      '--reason',
      'endpoint swap',
      '--stack',
      STACK,
      '-c',
      configFile,
    ]);
    expect(muted.stderr).toBe('');
    expect(muted.code).toBe(0);
    // moto's caller identity for any key.
    expect(muted.stdout).toMatch(
      /^muted team-repo: silenced until \S+ by arn:aws:(iam|sts)::\d{12}:\S+: endpoint swap \(2 h 0 min\)\n$/,
    );

    const listed = await cli(['mutes', '--stack', STACK, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).silences).toMatchObject([{ target: 'team-repo', reason: 'endpoint swap' }]);

    // The notifier over the same table: a failing target under the silence opens an incident, nothing is sent.
    const sent: AnyAlert[] = [];
    const sink: AlertSink = {
      send: async (alert) => {
        sent.push(alert);
        return { delivered: true };
      },
    };
    const client = createAlertTableClient(motoClientOptions(moto, pki));
    const clock = { now: () => new Date() };
    const deps = {
      outbox: new Outbox(new DynamoDbTable(client, TABLE), { clock }),
      sink,
      logger: recordingLogger(),
      settings: { failuresBeforeAlert: 1, renotifyMinutes: 60 },
      clock,
    };
    await notify([record('run-1', new Date(), gitTlsTimeout('team-repo'))], [], deps);
    await notify([record('run-2', new Date(Date.now() + 1000), gitTlsTimeout('other-repo'))], [], deps);
    expect(sent.map((a) => a.attributes.target)).toEqual(['other-repo']);

    const unmuted = await cli(['unmute', 'team-repo', '--stack', STACK]);
    expect(unmuted.code).toBe(0);
    expect(unmuted.stdout).toMatch(/^ended: team-repo: silenced until/);
    await notify([record('run-3', new Date(Date.now() + 2000), gitTlsTimeout('team-repo'))], [], deps);
    expect(sent.map((a) => `${a.attributes.state} ${a.attributes.target}`)).toEqual([
      'ALARM other-repo',
      'ALARM team-repo',
    ]);
    expect(sent[1]?.text).toContain('NOTE: held while silenced until');
    client.destroy();

    const none = await cli(['mutes', '--table', TABLE, '-c', configFile]);
    expect(none.stdout).toBe('no silences\n');
  });
});
