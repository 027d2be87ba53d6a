/**
 * The deployed stack as the on-call commands see it (`mute`, `unmute`, `mutes`, `report`): its alert table, found
 * from `--table` or `--stack`, the config if one is given, and AWS clients with the caller's own profile (the SDK's
 * chain: AWS_PROFILE or `--profile`, AWS_REGION or the profile's region, AWS_ENDPOINT_URL). Every problem here is
 * bad input: one line, exit 2.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import { DynamoDbTable } from '../alerting/versioned-table.ts';
import { type Config, loadConfig } from '../config/config.ts';
import { type BoundedClientOptions, boundedClientConfig, describeError } from '../net/aws-clients.ts';
import { untilAborted } from '../net/deadline.ts';

/** Bad input for an on-call command: printed as one line, exit 2. */
export class StackInputError extends Error {}

export const STACK_OPTIONS = {
  stack: { type: 'string' },
  table: { type: 'string' },
  config: { type: 'string', short: 'c' },
  profile: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface StackValues {
  stack?: string | undefined;
  table?: string | undefined;
  config?: string | undefined;
  profile?: string | undefined;
  region?: string | undefined;
}

export interface Stack {
  table: DynamoDbTable;
  config: Config | null;
  /** Client settings for other services (CloudWatch), with the same region and credentials. */
  clientConfig: () => Omit<ReturnType<typeof boundedClientConfig>, 'credentials'> & {
    credentials?: ReturnType<typeof fromIni>;
  };
  /** The caller's ARN (STS GetCallerIdentity): who set a silence. */
  callerArn(): Promise<string>;
}

const DEADLINE_MS = 10_000;

/**
 * The stack's table and clients; throws StackInputError for anything the caller must fix.
 *
 * @example
 * const stack = await openStack({ stack: 'codecommit-canary' }, process.env);
 */
export async function openStack(values: StackValues, env: NodeJS.ProcessEnv): Promise<Stack> {
  const config = values.config ? await loadConfig(values.config) : null;
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config?.region;
  if (!region) throw new StackInputError('--region: required (or AWS_REGION, or --config with its region)');
  const credentials = values.profile ? fromIni({ profile: values.profile }) : undefined;
  // GetMetricData over days of 1-minute data takes seconds.
  const options: BoundedClientOptions = { region, timeoutMs: 30_000 };
  const clientConfig = () => {
    const { credentials: _none, ...base } = boundedClientConfig(options);
    return credentials ? { ...base, credentials } : base;
  };
  const dynamodb = new DynamoDBClient(clientConfig());
  let tableName = values.table;
  if (!tableName) {
    if (!values.stack) throw new StackInputError('give --stack <stack name> or --table <table name>');
    tableName = await findStackTable(dynamodb, values.stack);
  }
  return {
    table: new DynamoDbTable(dynamodb, tableName),
    config,
    clientConfig,
    async callerArn() {
      const sts = new STSClient(clientConfig());
      const signal = AbortSignal.timeout(DEADLINE_MS);
      try {
        const identity = await untilAborted(
          sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal }),
          signal,
        );
        if (!identity.Arn) throw new Error('no Arn in the answer');
        return identity.Arn;
      } catch (error) {
        throw new StackInputError(`cannot tell who you are (STS GetCallerIdentity): ${describeError(error)}`);
      } finally {
        sts.destroy();
      }
    },
  };
}

/** CloudFormation names the table `<stack>-IncidentTable-<suffix>`: the one table with that prefix. */
async function findStackTable(client: DynamoDBClient, stack: string): Promise<string> {
  const prefix = `${stack}-IncidentTable-`;
  const found: string[] = [];
  const signal = AbortSignal.timeout(DEADLINE_MS);
  let start: string | undefined;
  try {
    do {
      const page = await untilAborted(
        client.send(new ListTablesCommand({ ...(start ? { ExclusiveStartTableName: start } : {}) }), {
          abortSignal: signal,
        }),
        signal,
      );
      found.push(...(page.TableNames ?? []).filter((name) => name.startsWith(prefix)));
      start = page.LastEvaluatedTableName;
    } while (start);
  } catch (error) {
    throw new StackInputError(`--stack ${stack}: cannot list the tables: ${describeError(error)}`);
  }
  if (found.length !== 1) {
    throw new StackInputError(
      `--stack ${stack}: expected one table named ${prefix}…, found ${found.length === 0 ? 'none' : found.join(', ')}; give --table`,
    );
  }
  return found[0] as string;
}

/** Targets the stack knows: the config's, else those with incident state in the table. */
export async function knownTargets(stack: Stack): Promise<string[]> {
  if (stack.config) return stack.config.targets.map((t) => t.name);
  return (await stack.table.stateKeys(AbortSignal.timeout(DEADLINE_MS))).filter((key) => !key.startsWith('#'));
}

/** The table could not be read: the caller's rights, the name, or the network. */
export const unreadable = (stack: Stack, error: unknown): StackInputError =>
  new StackInputError(`table ${stack.table.tableName}: cannot be read: ${describeError(error)}`);
