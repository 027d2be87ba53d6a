import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AwsCredentials, GitCredentials } from '../lib/steps/git/password.ts';
import { parseRefLines, type RefLine } from './repos.ts';
import { runProcess } from './run-process.ts';

/**
 * AWS's own tools as the reference: the AWS CLI's CodeCommit credential helper and real `git`.
 *
 * Region used by the helper (awscli/customizations/codecommit.py, `extract_region`): it takes the region from
 * the host when it matches `(vpce-….)?git-codecommit(-fips)?.<region>.(vpce.)?amazonaws.com`; for any other host
 * (needs `--ignore-host-check`, e.g. 127.0.0.1) it uses `--region`, else the configured region, i.e.
 * AWS_DEFAULT_REGION or the profile's `region`. AWS_REGION is ignored by the CLI v1, and with no region at all it
 * fails ("sequence item 1: expected str instance, NoneType found"). It signs the host without its port and the
 * path as `/` + git's `path=` value, with the current time (second resolution).
 */

// CodeCommit's documented helper is `!aws codecommit credential-helper $@`; `--ignore-host-check` is an option of
// `get` only (`store`/`erase` reject it with "Unknown options" and do nothing anyway), so forward just `get`.
const HELPER = '!f() { if [ "$1" = get ]; then aws codecommit credential-helper --ignore-host-check get; fi; }; f';

function assertInstalled(command: string, hint: string): void {
  const probe = spawnSync(command, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new Error(`${command} not found on PATH: ${hint}`);
}

// Answers `get` with the password in the environment (never on a command line).
const FIXED_HELPER =
  '!f() { if [ "$1" = get ]; then echo "username=$CANARY_GIT_USERNAME"; echo "password=$CANARY_GIT_PASSWORD"; fi; }; f';

const AWS_HINT = 'the tests need the AWS CLI (pip install awscli, or AWS CLI v2)';
const GIT_HINT = 'the tests need git (apt-get install git)';

/** A hermetic environment: no user or system config for git or the AWS CLI, only these credentials and region. */
function cleanEnv(credentials: AwsCredentials, region?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: '/nonexistent', // nothing read from (or left in) a home directory
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  if (region) env.AWS_DEFAULT_REGION = region;
  return env;
}

const run = (command: string, args: string[], env: NodeJS.ProcessEnv, input: string, timeoutMs: number) =>
  runProcess(command, args, { env, input, timeoutMs });

/** What `aws codecommit credential-helper get` answers for this host and repository (current time). */
export async function awsCliGitPassword(options: {
  credentials: AwsCredentials;
  /** As git passes it: hostname, with `:port` when the URL has one. */
  host: string;
  repo: string;
  /** Becomes AWS_DEFAULT_REGION; only used when the host is not a CodeCommit name. */
  region?: string;
}): Promise<GitCredentials & { stringToSign?: string }> {
  assertInstalled('aws', AWS_HINT);
  const input = `protocol=https\nhost=${options.host}\npath=v1/repos/${options.repo}\n\n`;
  const env = cleanEnv(options.credentials, options.region);
  const out = await run(
    'aws',
    ['codecommit', 'credential-helper', '--ignore-host-check', 'get', '--debug'],
    env,
    input,
    30_000,
  );
  const fields = Object.fromEntries(
    out.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (out.code !== 0 || !fields.username || !fields.password) {
    // Only the last line: the --debug log above it holds the session token.
    const reason = out.stderr.trim().split('\n').pop();
    throw new Error(`aws codecommit credential-helper failed (exit ${out.code}): ${reason}`);
  }
  // --debug logs the string to sign (no secret in it): 4 lines after the "StringToSign:" log line.
  const debug = out.stderr.split('\n');
  const at = debug.findIndex((l) => l.endsWith('StringToSign:'));
  const stringToSign = at >= 0 ? debug.slice(at + 1, at + 5).join('\n') : undefined;
  return { username: fields.username, password: fields.password, stringToSign };
}

export interface LsRemoteResult {
  refs: RefLine[];
  stdout: string;
  stderr: string;
}

interface GitRemoteOptions {
  url: string;
  credentials: AwsCredentials;
  /** The test CA (GIT_SSL_CAINFO): TLS is verified, never disabled. */
  caFile: string;
  /** Region the helper signs with (AWS_DEFAULT_REGION); see the note at the top. */
  region: string;
  /** `protocol.version` for git; unset = git's default (2 for git ≥ 2.26). */
  protocolVersion?: 0 | 1 | 2;
  timeoutMs?: number;
}

/** git's environment and `-c` options to reach a CodeCommit URL through the AWS CLI credential helper. */
function gitWithHelper(options: GitRemoteOptions): { env: NodeJS.ProcessEnv; config: string[] } {
  const env = { ...cleanEnv(options.credentials, options.region), GIT_SSL_CAINFO: options.caFile };
  const config = ['-c', 'credential.helper=', '-c', `credential.helper=${HELPER}`, '-c', 'credential.UseHttpPath=true'];
  if (options.protocolVersion !== undefined) config.push('-c', `protocol.version=${options.protocolVersion}`);
  return { env, config };
}

/** Real `git ls-remote <url>` authenticated by the AWS CLI credential helper, as CodeCommit's docs configure it. */
export async function gitLsRemote(options: GitRemoteOptions): Promise<LsRemoteResult> {
  assertInstalled('git', GIT_HINT);
  assertInstalled('aws', AWS_HINT);
  const { env, config } = gitWithHelper(options);
  const out = await run('git', [...config, 'ls-remote', options.url], env, '', options.timeoutMs ?? 60_000);
  if (out.code !== 0) throw new Error(`git ls-remote ${options.url} failed (exit ${out.code}): ${out.stderr.trim()}`);
  return { refs: parseRefLines(out.stdout), stdout: out.stdout, stderr: out.stderr };
}

export interface ShallowFetchResult {
  commit: string;
  tree: string;
  /** The `git fetch` process alone, start to exit (not the scratch repository's creation). */
  fetchMs: number;
  /**
   * CPU of the children of this process that exited during `git fetch` (Linux; `null` elsewhere): git and what it
   * ran (the credential helper, index-pack), and a git server this process runs (git http-backend), if any.
   */
  childrenCpuMs: number | null;
}

/** CPU ms of this process's children that have exited and been waited for, from /proc (Linux: 100 ticks a second). */
function exitedChildrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/**
 * Real `git fetch --depth 1 <url> HEAD` into a scratch repository (removed afterwards), authenticated by the AWS
 * CLI credential helper: the commit and tree it fetched.
 */
export async function gitFetchShallow(
  options: GitRemoteOptions & {
    /**
     * A password the helper gave earlier (valid 15 minutes), handed to git through the environment instead of
     * running the helper again: git's own cost, for benches.
     */
    password?: GitCredentials;
  },
): Promise<ShallowFetchResult> {
  assertInstalled('git', GIT_HINT);
  if (!options.password) assertInstalled('aws', AWS_HINT);
  const helper = gitWithHelper(options);
  const env = options.password
    ? { ...helper.env, CANARY_GIT_USERNAME: options.password.username, CANARY_GIT_PASSWORD: options.password.password }
    : helper.env;
  const config = options.password
    ? [...helper.config, '-c', 'credential.helper=', '-c', `credential.helper=${FIXED_HELPER}`]
    : helper.config;
  const dir = mkdtempSync(join(tmpdir(), 'canary-fetch-'));
  // No stdin: `git init` exits before a write to it could land (EPIPE).
  const git = (args: string[]) =>
    runProcess('git', ['-C', dir, ...config, ...args], { env, timeoutMs: options.timeoutMs ?? 60_000 });
  const must = (out: { code: number | null; stderr: string }, what: string) => {
    if (out.code !== 0) throw new Error(`git ${what} failed (exit ${out.code}): ${out.stderr.trim()}`);
  };
  try {
    must(await git(['init', '--quiet', '--bare']), 'init');
    const cpuBefore = exitedChildrenCpuMs();
    const start = performance.now();
    must(await git(['fetch', '--quiet', '--depth', '1', options.url, 'HEAD']), `fetch --depth 1 ${options.url}`);
    const fetchMs = performance.now() - start;
    const cpuAfter = exitedChildrenCpuMs();
    const childrenCpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const rev = await git(['rev-parse', 'FETCH_HEAD', 'FETCH_HEAD^{tree}']);
    must(rev, 'rev-parse FETCH_HEAD');
    const [commit = '', tree = ''] = rev.stdout.trim().split('\n');
    return { commit, tree, fetchMs, childrenCpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
