import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, type Scalar, type Tags, type YAMLSeq } from 'yaml';
import { cfnLint } from './support/cfn-lint.ts';

/** The repository account's side: a role the probe's role may assume, for codecommit:GitPull on listed repositories. */

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
  Parameters: Record<string, { Type: string; Default?: string; MinLength?: number; AllowedPattern?: string }>;
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
  it('lints clean with cfn-lint (its JSON report, which must exist)', async () => {
    expect(await cfnLint([TEMPLATE_FILE])).toEqual([]);
  });

  it('does not read a cfn-lint that crashed as a clean template', async () => {
    // Prepare: a cfn-lint that prints a traceback and exits 1, as a broken install does.
    const dir = mkdtempSync(join(tmpdir(), 'canary-cfn-lint-'));
    const broken = join(dir, 'cfn-lint');
    writeFileSync(
      broken,
      '#!/bin/sh\necho "Traceback (most recent call last):" >&2\necho "ImportError: boom" >&2\nexit 1\n',
    );
    chmodSync(broken, 0o755);
    const silent = join(dir, 'cfn-lint-silent');
    writeFileSync(silent, '#!/bin/sh\nexit 0\n');
    chmodSync(silent, 0o755);

    // Act and Assess: a crash, and a "success" without a report, both reject.
    try {
      await expect(cfnLint([TEMPLATE_FILE], [], broken)).rejects.toThrow(/did not lint \(exit status 1\)/);
      await expect(cfnLint([TEMPLATE_FILE], [], silent)).rejects.toThrow(/not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires an external id, and takes a session-name pattern, endpoint ids and an organization', () => {
    expect(template.Transform).toBe('AWS::LanguageExtensions');
    expect(template.Parameters.ProbeRoleArn?.Type).toBe('String');
    // No default at all: CloudFormation refuses to create the stack without one.
    expect(template.Parameters.ExternalId).toEqual(expect.objectContaining({ Type: 'String', MinLength: 2 }));
    expect(template.Parameters.ExternalId).not.toHaveProperty('Default');
    expect(new RegExp(template.Parameters.ExternalId?.AllowedPattern ?? '').test('')).toBe(false);
    expect(template.Parameters.SessionNamePattern).toMatchObject({ Type: 'String', Default: 'codecommit-canary-*' });
    expect(template.Parameters.StsVpcEndpointIds).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    expect(template.Parameters.GitVpcEndpointIds).toMatchObject({ Type: 'CommaDelimitedList', Default: '' });
    expect(template.Parameters.PrincipalOrgId).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Parameters.RepositoryNames?.Type).toBe('CommaDelimitedList');
  });

  it('is trusted by the probe role alone: external id always, session name pattern, optional endpoint and org', () => {
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'CanaryProbe',
        Effect: 'Allow',
        Principal: { AWS: { Ref: 'ProbeRoleArn' } },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: {
            'sts:ExternalId': { Ref: 'ExternalId' },
            'aws:SourceVpce': {
              'Fn::If': ['HasStsVpcEndpoints', { Ref: 'StsVpcEndpointIds' }, { Ref: 'AWS::NoValue' }],
            },
            'aws:PrincipalOrgID': {
              'Fn::If': ['HasPrincipalOrgId', { Ref: 'PrincipalOrgId' }, { Ref: 'AWS::NoValue' }],
            },
          },
          StringLike: { 'sts:RoleSessionName': { Ref: 'SessionNamePattern' } },
        },
      },
    ]);
    expect(template.Conditions).not.toHaveProperty('HasExternalId');
    expect(template.Conditions.HasStsVpcEndpoints).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'StsVpcEndpointIds' }] }, ''] }],
    });
  });

  it('matches the session names the canary uses by default', () => {
    // The default pattern as IAM's StringLike reads it (* any run, ? one character).
    const pattern = template.Parameters.SessionNamePattern?.Default ?? '';
    const like = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    expect(like.test('codecommit-canary-team-repo')).toBe(true);
    expect(like.test('someone-else')).toBe(false);
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
        Condition: {
          'Fn::If': [
            'HasGitVpcEndpoints',
            { StringEquals: { 'aws:SourceVpce': { Ref: 'GitVpcEndpointIds' } } },
            { Ref: 'AWS::NoValue' },
          ],
        },
      },
    ]);
  });

  it('outputs the role ARN for the canary config', () => {
    expect(template.Outputs.RoleArn?.Value).toEqual({ 'Fn::GetAtt': ['CanaryReaderRole', 'Arn'] });
  });
});
