import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, type Scalar, type Tags, type YAMLSeq } from 'yaml';

/** The repository account's side: a role the probe's role may assume, for codecommit:GitPull on listed repositories. */

const run = promisify(execFile);
const TEMPLATE_FILE = fileURLToPath(new URL('../infra/target-account-role.yml', import.meta.url));

/** CloudFormation's short-form tags (`!Ref X`, `!Sub [..]`, `!GetAtt A.B`) as their long forms. */
const CFN_TAGS: Tags = ['Ref', 'Condition', 'Sub', 'GetAtt', 'If', 'Not', 'Equals', 'Join', 'Split', 'Select'].flatMap(
  (name) => {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    return [
      {
        tag: `!${name}`,
        resolve: (value: string | Scalar) => {
          const text = String(typeof value === 'string' ? value : value.value);
          return { [key]: name === 'GetAtt' ? text.split('.') : text };
        },
      },
      { tag: `!${name}`, collection: 'seq' as const, resolve: (seq: YAMLSeq) => ({ [key]: seq.toJSON() }) },
    ];
  },
);

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
}
interface Template {
  Transform: string;
  Parameters: Record<string, { Type: string; Default?: string }>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, unknown>;
  Outputs: Record<string, { Value: unknown }>;
}

const template = parse(readFileSync(TEMPLATE_FILE, 'utf8'), { customTags: CFN_TAGS }) as Template;
const role = template.Resources.CanaryReaderRole as {
  Type: string;
  Properties: { AssumeRolePolicyDocument: { Statement: Statement[] }; Policies?: unknown; ManagedPolicyArns?: unknown };
};
const forEach = template.Resources['Fn::ForEach::GitPullPolicies'] as [string, unknown, Record<string, unknown>];

describe('infra/target-account-role.yml', () => {
  it('lints clean with cfn-lint', async () => {
    // Act: exit status 0 means no error, warning or note (2, 4, 8 otherwise, with the report on stdout).
    const lint = await run('cfn-lint', ['--format', 'parseable', TEMPLATE_FILE]).catch(
      (error: { code?: unknown; stdout?: unknown }) => {
        if (typeof error.code === 'number' && typeof error.stdout === 'string') return { stdout: error.stdout };
        throw error;
      },
    );

    // Assess
    expect(lint.stdout.trim()).toBe('');
  });

  it('takes the probe role, an optional external id and the repository names', () => {
    expect(template.Transform).toBe('AWS::LanguageExtensions');
    expect(template.Parameters.ProbeRoleArn?.Type).toBe('String');
    expect(template.Parameters.ExternalId).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Parameters.RepositoryNames?.Type).toBe('CommaDelimitedList');
  });

  it('is trusted by the probe role alone, with the external id condition only when one is set', () => {
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'CanaryProbe',
        Effect: 'Allow',
        Principal: { AWS: { Ref: 'ProbeRoleArn' } },
        Action: 'sts:AssumeRole',
        Condition: {
          'Fn::If': [
            'HasExternalId',
            { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
            { Ref: 'AWS::NoValue' },
          ],
        },
      },
    ]);
    expect(template.Conditions.HasExternalId).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExternalId' }, ''] }] });
  });

  it('allows codecommit:GitPull on each listed repository of this account and region, and nothing else', () => {
    // Prepare: the role carries no policy of its own; the only permissions come from the per-repository loop.
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const [variable, collection, body] = forEach;
    const otherResources = Object.keys(template.Resources).filter(
      (id) => id !== 'CanaryReaderRole' && id !== 'Fn::ForEach::GitPullPolicies',
    );

    // Act
    const [[logicalId, policy]] = Object.entries(body) as [
      [string, { Type: string; Properties: Record<string, unknown> }],
    ];

    // Assess
    expect(otherResources).toEqual([]);
    expect([variable, collection]).toEqual(['RepositoryName', { Ref: 'RepositoryNames' }]);
    expect(logicalId).toBe('GitPull&{RepositoryName}');
    expect(policy.Type).toBe('AWS::IAM::RolePolicy');
    expect(policy.Properties.RoleName).toEqual({ Ref: 'CanaryReaderRole' });
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Sid: 'GitPull',
        Effect: 'Allow',
        Action: 'codecommit:GitPull',
        Resource: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
          'Fn::Sub': 'arn:${AWS::Partition}:codecommit:${AWS::Region}:${AWS::AccountId}:${RepositoryName}',
        },
      },
    ]);
  });

  it('outputs the role ARN for the canary config', () => {
    expect(template.Outputs.RoleArn?.Value).toEqual({ 'Fn::GetAtt': ['CanaryReaderRole', 'Arn'] });
  });
});
