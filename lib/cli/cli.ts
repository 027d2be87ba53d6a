import { parseArgs } from 'node:util';
import { ConfigError, configSchema, formatPath, loadConfig, resolveTarget, resolveTargets } from '../config/config.ts';
import { loadProfile } from '../config/profile.ts';
import { parseCodeCommitUrl } from '../config/target-url.ts';
import { demoCommand } from '../demo/command.ts';
import { profileFindings } from '../run/diagnosis.ts';
import { probeAll } from '../run/probe.ts';
import { remediationFor } from '../run/remediation.ts';
import { probeDeps } from '../run/runtime.ts';
import { reportCommand } from './report-command.ts';
import { formatReport, type Hint, styleFor } from './report-text.ts';
import { silenceCommand } from './silence-command.ts';

export const USAGE = `Usage:
  codecommit-canary probe --config <file> [--target <name>]... [--json]
  codecommit-canary probe codecommit://[profile@]repo | codecommit::<region>://[profile@]repo [options] [--json]
  codecommit-canary probe https://git-codecommit.<region>.amazonaws.com/v1/repos/<repo> [options] [--json]
  codecommit-canary check --config <file>                 (validate a config; probes nothing)
  codecommit-canary demo [--interactive] [--speed <n>]   (a self-contained sandbox on 127.0.0.1; demo --help)
  codecommit-canary mute <target>|--all --for 2h --reason <text> --stack <name>   (also unmute, mutes; mute --help)
  codecommit-canary report [--since 7d] [--json|--csv|--html <file>] --stack <name>  (report --help)

Probes each target: AssumeRole through the STS endpoint, then git ls-remote against git-codecommit (and, when on,
a shallow fetch of HEAD), timing DNS, connect, TLS, first byte and transfer; beside them every address each
endpoint name resolves to, on its own connection. Exit 0 when all are ok, 1 when any failed, 2 on bad input.

Options:
  -c, --config <file>       config file (JSON or YAML)
  -t, --target <name>       probe only this target of the config (repeatable)
      --json                print the report as JSON
  ad-hoc (codecommit:// URL) only:
      --sts-endpoint <url>  STS endpoint (default https://sts.<region>.amazonaws.com)
      --git-endpoint <url>  git endpoint (default https://git-codecommit.<region>.amazonaws.com; or CODE_COMMIT_ENDPOINT,
                            a host[:port] as git-remote-codecommit reads it, or an https:// URL)
      --dns-server <addr>   ask this DNS server instead of the system resolver (repeatable), e.g. 10.0.0.2
      --ca-file <file>      extra trusted CA certificates (PEM)
      --sts-timeout-ms <n>  deadline of the sts step (default 5000)
      --git-timeout-ms <n>  deadline of the git step (default 10000)
      --fetch               after ls-remote, a shallow fetch of HEAD (the pack path ls-remote never uses)
      --fetch-timeout-ms <n>
                            deadline of the fetch (default 15000; implies --fetch)
      --fetch-max-bytes <n> pack bytes accepted (default 8388608; implies --fetch)
      --no-every-address    check only the first address of each endpoint name, not every one
  -h, --help                this text
`;

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

/** What to change, from the one remediation table the alerts and the runbook use too. */
const hintFor: Hint = (step, result) => {
  const stepResult = result.steps[step];
  const failure = stepResult?.failure;
  if (!failure) return undefined;
  // A path's failure names its address; the hint names that address's zone too.
  const zone = failure.address ? stepResult.paths?.find((path) => path.address === failure.address)?.zone : undefined;
  return remediationFor(step, zone ? { ...failure, zone } : failure, result.region);
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  target: { type: 'string', short: 't', multiple: true },
  json: { type: 'boolean' },
  'sts-endpoint': { type: 'string' },
  'git-endpoint': { type: 'string' },
  'dns-server': { type: 'string', multiple: true },
  'ca-file': { type: 'string' },
  'sts-timeout-ms': { type: 'string' },
  'git-timeout-ms': { type: 'string' },
  fetch: { type: 'boolean' },
  'fetch-timeout-ms': { type: 'string' },
  'fetch-max-bytes': { type: 'string' },
  'no-every-address': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/**
 * CODE_COMMIT_ENDPOINT as git-remote-codecommit reads it: a bare host, optionally with `:port`
 * (it builds `https://<host>/v1/repos/<repo>`); an https:// URL is taken as it is.
 */
export const codeCommitEndpoint = (value: string): string =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;

/** Validates the ad-hoc flags with the same schema as a config file, so messages read the same. */
function adHocSettings(values: Values, env: NodeJS.ProcessEnv, region: string) {
  const raw = {
    region,
    timeouts: {
      ...(values['sts-timeout-ms'] ? { stsMs: Number(values['sts-timeout-ms']) } : {}),
      ...(values['git-timeout-ms'] ? { gitMs: Number(values['git-timeout-ms']) } : {}),
    },
    endpoints: {
      ...(values['sts-endpoint'] ? { sts: values['sts-endpoint'] } : {}),
      ...((values['git-endpoint'] ?? env.CODE_COMMIT_ENDPOINT)
        ? { git: values['git-endpoint'] ?? codeCommitEndpoint(env.CODE_COMMIT_ENDPOINT ?? '') }
        : {}),
    },
    ...(values['dns-server'] ? { dns: { servers: values['dns-server'] } } : {}),
    ...(values['ca-file'] ? { tls: { caFile: values['ca-file'] } } : {}),
    ...(values['no-every-address'] ? { probe: { everyAddress: false } } : {}),
    ...(values.fetch || values['fetch-timeout-ms'] || values['fetch-max-bytes']
      ? {
          fetch: {
            enabled: true,
            ...(values['fetch-timeout-ms'] ? { timeoutMs: Number(values['fetch-timeout-ms']) } : {}),
            ...(values['fetch-max-bytes'] ? { maxBytes: Number(values['fetch-max-bytes']) } : {}),
          },
        }
      : {}),
  };
  const parsed = configSchema.omit({ targets: true }).safeParse(raw);
  if (!parsed.success) {
    const flag: Record<string, string> = {
      'timeouts.stsMs': '--sts-timeout-ms',
      'timeouts.gitMs': '--git-timeout-ms',
      'fetch.timeoutMs': '--fetch-timeout-ms',
      'fetch.maxBytes': '--fetch-max-bytes',
      'endpoints.sts': '--sts-endpoint',
      'endpoints.git': values['git-endpoint'] ? '--git-endpoint' : 'CODE_COMMIT_ENDPOINT',
      region: 'region',
    };
    const problems = parsed.error.issues.map((issue) => {
      const path = formatPath(issue.path);
      return `${flag[path] ?? (path.startsWith('dns') ? '--dns-server' : path)}: ${issue.message}`;
    });
    throw new ConfigError('options', problems);
  }
  return parsed.data;
}

async function adHoc(url: string, values: Values, io: Io) {
  const parsed = parseCodeCommitUrl(url);
  if (!parsed.ok) throw new UsageError(`${url}: ${parsed.message}`);
  const profileName = parsed.url.profile ?? io.env.AWS_PROFILE ?? 'default';
  const setup = await loadProfile(profileName, parsed.url.region, io.env);
  const settings = adHocSettings(values, io.env, setup.region);
  // An https:// remote names its endpoint; --git-endpoint and CODE_COMMIT_ENDPOINT still win, as for git.
  if (parsed.url.endpoint && !settings.endpoints.git) settings.endpoints.git = parsed.url.endpoint;
  const findings = profileFindings(setup);
  for (const finding of findings) io.stderr.write(`warning: ${finding.message}\n`);
  const target = resolveTarget(
    {
      name: parsed.url.profile ? `${parsed.url.profile}@${parsed.url.repository}` : parsed.url.repository,
      repository: parsed.url.repository,
      region: setup.region,
      roleArn: setup.roleArn,
      ...(setup.externalId ? { externalId: setup.externalId } : {}),
      sessionName: setup.sessionName ?? 'codecommit-canary',
    },
    settings,
  );
  return { settings, targets: [target], sourceCredentials: setup.sourceCredentials, findings };
}

/** Ad-hoc flags a config file says for itself (with the field that does). */
const CONFIG_FIELDS: Partial<Record<keyof Values, string>> = {
  'sts-endpoint': 'endpoints.sts',
  'git-endpoint': 'endpoints.git',
  'dns-server': 'dns.servers',
  'ca-file': 'tls.caFile',
  'sts-timeout-ms': 'timeouts.stsMs',
  'git-timeout-ms': 'timeouts.gitMs',
  fetch: 'fetch.enabled',
  'fetch-timeout-ms': 'fetch.timeoutMs',
  'fetch-max-bytes': 'fetch.maxBytes',
  'no-every-address': 'probe.everyAddress',
};

async function fromConfig(file: string, values: Values) {
  // A flag the run would ignore is a mistake to say, not to skip.
  const ignored = Object.entries(CONFIG_FIELDS).find(([flag]) => values[flag as keyof Values] !== undefined);
  if (ignored)
    throw new UsageError(`--${ignored[0]} is for a codecommit:// URL; with --config set ${ignored[1]} in the file`);
  const config = await loadConfig(file);
  let targets = resolveTargets(config);
  if (values.target) {
    const unknown = values.target.filter((name) => !targets.some((t) => t.name === name));
    if (unknown.length > 0) {
      const known = targets.map((t) => t.name).join(', ');
      throw new ConfigError(file, [`--target: no target named ${unknown.join(', ')}; the config has: ${known}`]);
    }
    targets = targets.filter((t) => values.target?.includes(t.name));
  }
  return { settings: config, targets, sourceCredentials: undefined, findings: [] };
}

async function probeCommand(positionals: string[], values: Values, io: Io): Promise<number> {
  const url = positionals[0];
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  if (!url && !values.config) throw new UsageError('probe needs --config <file> or a codecommit:// URL');
  if (url && values.config) throw new UsageError('give either --config or a codecommit:// URL, not both');
  const { settings, targets, sourceCredentials, findings } = url
    ? await adHoc(url, values, io)
    : await fromConfig(values.config ?? '', values);
  const deps = probeDeps(settings, sourceCredentials);
  const probed = await probeAll(targets, deps, { concurrency: settings.concurrency, diagnosis: settings });
  const report = { ...probed, findings: [...findings, ...probed.findings] };
  io.stdout.write(
    values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, styleFor(io.stdout, io.env), hintFor),
  );
  return report.ok ? 0 : 1;
}

/** Validates a config file, as `serverless package` and the Lambda cold start do; exit 0 or 2. */
async function checkCommand(values: Values, io: Io): Promise<number> {
  if (!values.config) throw new UsageError('check needs --config <file>');
  const config = await loadConfig(values.config);
  io.stdout.write(
    `${values.config}: valid, ${config.targets.length} target(s): ${config.targets.map((t) => t.name).join(', ')}\n`,
  );
  return 0;
}

/** The CLI: returns the exit code; writes only to the streams it is given. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    // The demo parses its own options (lib/demo/command.ts).
    if (argv[0] === 'demo') return await demoCommand(argv.slice(1), io);
    if (argv[0] === 'mute' || argv[0] === 'unmute' || argv[0] === 'mutes') {
      return await silenceCommand(argv[0], argv.slice(1), io);
    }
    if (argv[0] === 'report') return await reportCommand(argv.slice(1), io);
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help' || command === undefined) {
      (command === undefined && !values.help ? io.stderr : io.stdout).write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'probe') return await probeCommand(rest, values, io);
    if (command === 'check') return await checkCommand(values, io);
    throw new UsageError(`unknown command: ${command}`);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`codecommit-canary: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
