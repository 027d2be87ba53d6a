import { mkdtempSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from '../harness/run-process.ts';
import { type DemoResult, runDemo } from '../lib/demo/run.ts';
import { SCENES } from '../lib/demo/scenes.ts';
import { DEMO_NAMES, DEMO_SOURCE_CREDENTIALS, LOOPBACK } from '../lib/sandbox/sandbox.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Fast tempo: the schedule shrinks, the deadlines stay at 1 s (the hang scenes still wait them out). */
const SPEED = '20';
const EXPECTED_ALERTS = [
  { state: 'ALARM', step: 'sts', kind: 'timeout' },
  { state: 'RECOVERED', step: 'sts', kind: 'timeout' },
  { state: 'ALARM', step: 'git', kind: 'auth' },
  { state: 'RECOVERED', step: 'git', kind: 'auth' },
  { state: 'ALARM', step: 'git', kind: 'auth' },
  { state: 'RECOVERED', step: 'git', kind: 'auth' },
  { state: 'FINDING', step: 'none', kind: 'global-sts-unreachable' },
  { state: 'CLEARED', step: 'none', kind: 'global-sts-unreachable' },
];
const SUMMARY_LINE =
  /^demo finished: 10 scenes, 8 alerts sent \(3 ALARM, 3 RECOVERED, 1 FINDING, 1 CLEARED\), 22 runs in \d+\.\d s$/m;
/** A user's own AWS setup the demo must neither use nor trip over (FIPS refuses custom endpoints). */
const USER_KEY_ID = 'AKIAUSERSOWNKEY00001';

class Capture {
  text = '';
  isTTY = false;
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/** Where every TCP connection of this process went (the probe's, the SDK's): address after lookup. */
function recordConnections(): { addresses: string[]; restore: () => void } {
  const addresses: string[] = [];
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    this.once('lookup', (_error: unknown, address: string) => addresses.push(address));
    this.once('connect', () => addresses.push(this.remoteAddress ?? '?'));
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof connect;
  return { addresses, restore: () => (Socket.prototype.connect = connect) };
}

function userAwsSetup(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'canary-demo-user-'));
  writeFileSync(join(dir, 'config'), '[profile someone]\nregion = eu-west-1\nuse_fips_endpoint = true\n');
  writeFileSync(join(dir, 'credentials'), `[someone]\naws_access_key_id = ${USER_KEY_ID}\naws_secret_access_key = x\n`);
  return {
    AWS_PROFILE: 'someone',
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_ACCESS_KEY_ID: USER_KEY_ID,
    AWS_SECRET_ACCESS_KEY: 'users-own-secret-that-must-not-be-used',
    AWS_USE_FIPS_ENDPOINT: 'true',
  };
}

const attributesOf = (result: DemoResult) =>
  result.summary.alerts.map(({ attributes: { state, step, kind } }) => ({ state, step, kind }));

describe('codecommit-canary demo (scripted)', () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    Object.assign(process.env, userAwsSetup());
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('plays every scene, sends exactly the scripted alerts in order, and talks to 127.0.0.1 only', async () => {
    // Prepare
    const out = new Capture();
    const connections = recordConnections();
    const envBefore = { ...process.env };

    // Act
    let result: DemoResult;
    try {
      result = await runDemo({ speed: Number(SPEED) }, { stdout: out, env: { NO_COLOR: '1' } });
    } finally {
      connections.restore();
    }

    // Assess: outcome
    expect(result.exitCode).toBe(0);
    expect(attributesOf(result)).toEqual(EXPECTED_ALERTS);
    expect(result.summary.scenes.map((s) => [s.scene.id, s.problem])).toEqual(SCENES.map((s) => [s.id, null]));
    expect(out.text).toMatch(SUMMARY_LINE);
    // Each caption once, in order, and each alert printed as the on-call person gets it (subject and body).
    const captions = SCENES.map((s) => out.text.indexOf(s.caption));
    expect(captions.every((at) => at >= 0)).toBe(true);
    expect([...captions].sort((a, b) => a - b)).toEqual(captions);
    for (const alert of result.summary.alerts) expect(out.text).toContain(`=== ${alert.subject} ===\n${alert.text}`);
    expect(result.summary.alerts[0]?.subject).toMatch(/^\[ALARM\] team-repo: sts AssumeRole timed out in response/);
    expect(result.summary.alerts[2]?.subject).toBe('[ALARM] team-repo: git ls-remote access denied (HTTP 403)');
    // The silence held the third incident's ALARM until it was lifted; the page says so.
    expect(result.summary.alerts[4]?.text).toMatch(
      /^NOTE: held while silenced until \S+ by arn:aws:iam::\d{12}:user\/demo: rotating the role policy; the incident is still open\.$/m,
    );
    // It ends with the report: a sparkline row per target, the incidents, the silence; then the summary.
    const report = out.text.indexOf('codecommit-canary report ');
    expect(report).toBeGreaterThan(out.text.lastIndexOf('=== '));
    expect(report).toBeLessThan(out.text.search(SUMMARY_LINE));
    expect(out.text).toMatch(/^team-repo\s+\d+\.\d\d %\s+[▁▂▃▄▅▆▇█·]{22}$/m);
    expect(out.text.match(/^ {2}incident \S+: /gm)).toHaveLength(3);
    expect(out.text).toMatch(/^ {2}incident \S+: .*git auth in \w+ \(silenced\)$/m);
    expect(out.text).toMatch(
      /^silence all targets \S+ to \S+ by arn:aws:iam::\d{12}:user\/demo: rotating the role policy$/m,
    );

    // Assess: nothing but loopback, by configuration and by what actually connected
    const { sandbox } = result;
    expect(sandbox.config.dns?.servers.every((s) => s.startsWith(`${LOOPBACK}:`))).toBe(true);
    const hosts = [
      ...sandbox.targets.flatMap((t) => [t.stsEndpoint, t.gitEndpoint]),
      sandbox.config.endpoints.stsGlobal ?? 'https://sts.amazonaws.com',
    ].map((url) => new URL(url).hostname);
    expect(new Set(hosts)).toEqual(new Set(Object.values(DEMO_NAMES)));
    expect(sandbox.dns.queries.length).toBeGreaterThan(0);
    expect(sandbox.dns.queries.every((name) => (Object.values(DEMO_NAMES) as string[]).includes(name))).toBe(true);
    expect(connections.addresses.length).toBeGreaterThan(0);
    expect(new Set(connections.addresses)).toEqual(new Set([LOOPBACK]));

    // Assess: only the demo's own credentials were used, none of its secrets printed, the user's env restored
    const stsKeys = new Set([...sandbox.sts.log, ...sandbox.stsGlobal.log].map((e) => e.accessKeyId).filter(Boolean));
    expect(stsKeys).toEqual(new Set([DEMO_SOURCE_CREDENTIALS.accessKeyId]));
    expect(sandbox.git.log.every((e) => e.accessKeyId === undefined || e.accessKeyId.startsWith('ASIA'))).toBe(true);
    const secrets = sandbox.credentials.secrets();
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(out.text).not.toContain(secret);
    expect(out.text).not.toMatch(/\d{8}T\d{6}Z[0-9a-f]{64}/); // a CodeCommit git password
    expect(process.env).toEqual(envBefore);
  });
});

describe('codecommit-canary demo --interactive', () => {
  it('toggles faults with keys: s hangs STS (ALARM), r recovers (RECOVERED), q quits with exit 0', async () => {
    // Prepare
    const out = new Capture();
    const keys = new PassThrough();
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (out.text.includes(text)) resolve();
          else if (Date.now() - started > 15_000) reject(new Error(`never printed: ${text}\n${out.text}`));
          else return;
          clearInterval(poll);
        }, 50);
      });

    // Act
    const running = runDemo({ interactive: true, speed: Number(SPEED), input: keys }, { stdout: out, env: {} });
    await seen('run 1 ');
    keys.write('s');
    await seen('=== [ALARM] team-repo: sts AssumeRole timed out');
    keys.write('r');
    await seen('=== [OK] team-repo: recovered');
    keys.write('q');
    const result = await running;

    // Assess
    expect(result.exitCode).toBe(0);
    expect(attributesOf(result)).toEqual(EXPECTED_ALERTS.slice(0, 2));
    expect(out.text).toContain('keys: s STS hang');
    expect(out.text).toMatch(/faults: dns ok · sts HANG · sts-global ok · git ok/);
    expect(out.text).toMatch(/^demo finished: 2 alerts sent \(1 ALARM, 1 RECOVERED\), \d+ runs in /m);
  });
});

describe('npm run demo', () => {
  it('runs from source right after install and exits 0 with the summary', async () => {
    // Prepare: the user's own AWS setup in the environment, as on a developer's machine
    const env = { ...process.env, ...userAwsSetup(), NO_COLOR: '1' };

    // Act
    const run = await runProcess('npm', ['run', '--silent', 'demo', '--', '--speed', SPEED], { cwd: ROOT, env });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(SUMMARY_LINE);
    expect(run.stdout).not.toContain(USER_KEY_ID);
  });
});
