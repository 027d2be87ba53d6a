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
import { DEMO_REPOSITORY, hosted } from '../lib/sandbox/repository.ts';
import { DEMO_NAMES, DEMO_SOURCE_CREDENTIALS, LOOPBACK, STALL_AFTER_BYTES } from '../lib/sandbox/sandbox.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Fast tempo: the schedule shrinks, the deadlines stay at 1 s (the hang scenes still wait them out). */
const SPEED = '20';
const EXPECTED_ALERTS = [
  { state: 'ALARM', step: 'sts', kind: 'timeout' },
  { state: 'RECOVERED', step: 'sts', kind: 'timeout' },
  { state: 'ALARM', step: 'git', kind: 'auth' },
  { state: 'RECOVERED', step: 'git', kind: 'auth' },
  { state: 'ALARM', step: 'git', kind: 'timeout' },
  { state: 'RECOVERED', step: 'git', kind: 'timeout' },
  { state: 'ALARM', step: 'fetch', kind: 'timeout' },
  { state: 'RECOVERED', step: 'fetch', kind: 'timeout' },
  { state: 'ALARM', step: 'git', kind: 'auth' },
  { state: 'RECOVERED', step: 'git', kind: 'auth' },
  { state: 'FINDING', step: 'none', kind: 'global-sts-unreachable' },
  { state: 'CLEARED', step: 'none', kind: 'global-sts-unreachable' },
];
const SUMMARY_LINE =
  /^demo finished: 14 scenes, 12 alerts sent \(5 ALARM, 5 RECOVERED, 1 FINDING, 1 CLEARED\), 32 runs in \d+\.\d s$/m;
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

/** The alert mentions `n` bytes, however it writes them (65536, 65,536, 64.0 KiB, 64 KiB). */
const mentionsBytes = (text: string, n: number): boolean =>
  [String(n), n.toLocaleString('en-US'), `${(n / 1024).toFixed(1)} KiB`, `${Math.round(n / 1024)} KiB`].some((form) =>
    text.includes(form),
  );

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

  it('plays every scene, sends exactly the scripted alerts in order, and talks to loopback only', async () => {
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
    expect(result.summary.alerts[8]?.text).toMatch(
      /^NOTE: held while silenced until \S+ by arn:aws:iam::\d{12}:user\/demo: rotating the role policy; the incident is still open\.$/m,
    );
    // It ends with the report: a sparkline row per target, the incidents, the silence; then the summary.
    const report = out.text.indexOf('codecommit-canary report ');
    expect(report).toBeGreaterThan(out.text.lastIndexOf('=== '));
    expect(report).toBeLessThan(out.text.search(SUMMARY_LINE));
    expect(out.text).toMatch(/^team-repo\s+\d+\.\d\d %\s+[▁▂▃▄▅▆▇█·]{32}$/m);
    expect(out.text.match(/^ {2}incident \S+: /gm)).toHaveLength(5);
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
    // The git name's addresses (one per AZ) are loopback too: 127.0.0.1-3 where the system has the aliases (Linux).
    const gitAddresses = sandbox.gitAddresses.map((a) => a.address);
    if (process.platform === 'linux') expect(gitAddresses).toEqual([LOOPBACK, '127.0.0.2', '127.0.0.3']);
    expect(new Set(connections.addresses)).toEqual(new Set([LOOPBACK, ...gitAddresses]));

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

describe('codecommit-canary demo: the scenes of every address and of the pack', () => {
  it('one AZ dead, then a stalled pack: the records name the address, its zone and the bytes; so do the alerts', async () => {
    // Prepare
    const ids = ['az-down', 'az-back', 'pack-stall', 'pack-flows'];
    const scenes = SCENES.filter((scene) => ids.includes(scene.id));
    const head = hosted(DEMO_REPOSITORY).head;
    const out = new Capture();

    // Act
    const result = await runDemo({ speed: Number(SPEED), scenes }, { stdout: out, env: { NO_COLOR: '1' } });

    // Assess: the scenes sent their alerts
    expect(result.exitCode).toBe(0);
    expect(result.summary.scenes.map((s) => [s.scene.id, s.problem])).toEqual(ids.map((id) => [id, null]));
    const [down, back, stall, flows] = result.summary.scenes.map((s) => ({
      steps: s.reports.map((report) => report.targets[0]?.steps),
      alerts: s.alerts,
    }));

    // One AZ: git degraded in every run, its failure naming the dead address; the full call and the fetch pass.
    for (const steps of down?.steps ?? []) {
      expect(steps?.git).toMatchObject({
        ok: false,
        degraded: true,
        failure: { kind: 'timeout', phase: 'tls', address: '127.0.0.3' },
        refs: 6,
      });
      expect(steps?.git.paths?.map((p) => [p.address, p.zone, p.ok])).toEqual([
        ['127.0.0.1', 'ap-northeast-1a', true],
        ['127.0.0.2', 'ap-northeast-1c', true],
        ['127.0.0.3', 'ap-northeast-1d', false],
      ]);
      expect(steps?.fetch?.ok).toBe(true);
    }
    expect(down?.steps).toHaveLength(3);
    const azAlarm = down?.alerts[0]?.text ?? '';
    expect(azAlarm).toContain('127.0.0.3');
    expect(azAlarm).toContain('ap-northeast-1d');
    for (const steps of back?.steps ?? []) expect(steps?.git).toMatchObject({ ok: true, degraded: false });

    // The pack: refs and every path pass, the fetch stalls part-way through the first 64 KiB (TLS and framing
    // take the rest), with nothing read from the pack; once the path passes again the whole pack arrives.
    const stalledAfter = (stall?.steps ?? []).map((steps) => {
      expect(steps?.git).toMatchObject({ ok: true, degraded: false });
      expect(steps?.fetch).toMatchObject({ ok: false, failure: { kind: 'timeout', phase: 'body' }, commit: null });
      return steps?.fetch?.bytesBeforeStall ?? 0;
    });
    expect(stalledAfter).toHaveLength(3);
    for (const bytes of stalledAfter) {
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(STALL_AFTER_BYTES);
    }
    const stallAlarm = stall?.alerts[0]?.text ?? '';
    expect(stalledAfter.some((bytes) => mentionsBytes(stallAlarm, bytes))).toBe(true);
    for (const steps of flows?.steps ?? []) {
      expect(steps?.fetch).toMatchObject({ ok: true, commit: head?.oid, packBytes: head?.pack.length, objects: 4 });
    }

    // The view, as the CLI prints them: the paths of git's addresses, the degraded step, the stalled fetch
    expect(out.text).toMatch(
      /^ {4}git {4}FAIL {2}timeout in tls on 127\.0\.0\.3 \(ap-northeast-1d\) after .* {2}degraded: 1 of 3 paths failed {2}\[dns /m,
    );
    expect(out.text).toMatch(
      /^ {11}paths 127\.0\.0\.1 \(ap-northeast-1a\) ok [\d.]+ ms · 127\.0\.0\.2 \(ap-northeast-1c\) ok [\d.]+ ms · 127\.0\.0\.3 \(ap-northeast-1d\) FAIL timeout in tls \d+ ms$/m,
    );
    expect(out.text).toContain(`stalled after ${stalledAfter[0]?.toLocaleString('en-US')} bytes`);
    expect(out.text).toMatch(/^ {4}fetch {2}ok +[\d.]+ ms {2}commit [0-9a-f]{12}, 4 objects, 384\.4 KiB pack, /m);
  });
});

describe('codecommit-canary demo --interactive', () => {
  it('toggles faults with keys: s hangs STS, z silences one AZ (ALARM each), r recovers (RECOVERED), q quits with exit 0', async () => {
    // Prepare
    const out = new Capture();
    const keys = new PassThrough();
    const seen = (text: string, times = 1) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (out.text.split(text).length > times) resolve();
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
    keys.write('z');
    await seen('=== [ALARM] team-repo: git ls-remote');
    keys.write('r');
    await seen('=== [OK] team-repo: recovered', 2);
    keys.write('q');
    const result = await running;

    // Assess
    expect(result.exitCode).toBe(0);
    expect(attributesOf(result)).toEqual([...EXPECTED_ALERTS.slice(0, 2), ...EXPECTED_ALERTS.slice(4, 6)]);
    expect(out.text).toContain('keys: s STS hang');
    expect(out.text).toContain('z AZ 1d silent');
    expect(out.text).toMatch(/faults: dns ok · sts HANG · sts-global ok · git ok · git-1d ok/);
    expect(out.text).toMatch(/faults: dns ok · sts ok · sts-global ok · git ok · git-1d HANG/);
    expect(result.summary.alerts[2]?.text).toContain('ap-northeast-1d');
    expect(out.text).toMatch(/^demo finished: 4 alerts sent \(2 ALARM, 2 RECOVERED\), \d+ runs in /m);
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
