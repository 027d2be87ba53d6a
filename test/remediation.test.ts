import { describe, expect, it } from 'vitest';
import {
  endpointNames,
  globalStsRemediation,
  REMEDIATION_RULES,
  remediationFor,
  remediationTable,
} from '../lib/run/remediation.ts';
import { FAILURE_KINDS, PHASES, STEP_NAMES } from '../lib/types.ts';

const REGION = 'ap-northeast-1';

describe('remediationFor', () => {
  it('has a step-specific hint for every step, failure kind and phase', () => {
    for (const step of STEP_NAMES) {
      for (const kind of FAILURE_KINDS) {
        const kindOnly = REMEDIATION_RULES.find((r) => r.step === undefined && r.kind === kind);
        expect(kindOnly, `fallback for ${kind}`).toBeDefined();
        for (const phase of PHASES) {
          const hint = remediationFor(step, { kind, phase }, REGION);
          expect(hint.length, `${step}/${kind}/${phase}`).toBeGreaterThan(40);
          expect(hint, `${step}/${kind}/${phase} uses only the per-kind fallback`).not.toBe(
            kindOnly?.hint(endpointNames(REGION)),
          );
        }
      }
    }
  });

  it('sends an sts connect timeout to the security group, routes and private DNS of the sts endpoint', () => {
    const hint = remediationFor('sts', { kind: 'timeout', phase: 'connect' }, REGION);
    expect(hint).toContain('443 inbound');
    expect(hint).toContain('security group');
    expect(hint).toContain('com.amazonaws.ap-northeast-1.sts');
    expect(hint).toContain('route tables');
    expect(hint).toContain('private DNS');
  });

  it('sends a TLS hang (TCP up) to the endpoint security group, then SNI-filtering firewalls and MTU', () => {
    const hint = remediationFor('git', { kind: 'timeout', phase: 'tls' }, REGION);
    expect(hint).toContain('443 inbound');
    expect(hint).toContain('com.amazonaws.ap-northeast-1.git-codecommit');
    expect(hint).toContain('SNI');
  });

  it('sends a DNS timeout or failure to private DNS and the resolver', () => {
    for (const failure of [
      { kind: 'timeout', phase: 'dns' },
      { kind: 'dns', phase: 'dns' },
    ] as const) {
      const hint = remediationFor('sts', failure, REGION);
      expect(hint).toMatch(/^sts\.ap-northeast-1\.amazonaws\.com did not resolve: enable private DNS/);
      expect(hint).toContain('Route 53 Resolver');
    }
  });

  it('sends a timeout after the connection to an overloaded or hanging endpoint', () => {
    const hint = remediationFor('git', { kind: 'timeout', phase: 'response' }, REGION);
    expect(hint).toContain('git-codecommit.ap-northeast-1.amazonaws.com accepted the connection');
    expect(hint).toContain('overloaded');
    expect(hint).toContain('hangs');
  });

  it('sends an AssumeRole denial to the trust policy and the probe role', () => {
    const hint = remediationFor('sts', { kind: 'auth', phase: 'response', status: 403 }, REGION);
    expect(hint).toContain('trust policy');
    expect(hint).toContain('ExternalId');
    expect(hint).toContain('sts:AssumeRole');
  });

  it('sends a git 403 to GitPull, the endpoint policy, SCPs and the account', () => {
    const hint = remediationFor('git', { kind: 'auth', phase: 'response', status: 403 }, REGION);
    expect(hint).toContain('codecommit:GitPull');
    expect(hint).toContain('com.amazonaws.ap-northeast-1.git-codecommit interface endpoint policy');
    expect(hint).toContain('SCP');
    expect(hint).toContain('different account');
  });

  it('tells a git 401 apart from a 403', () => {
    expect(remediationFor('git', { kind: 'auth', phase: 'response', status: 401 }, REGION)).toMatch(
      /^CodeCommit asked for credentials \(401\)/,
    );
  });

  it('sends a git 404 to the repository name and the region', () => {
    const hint = remediationFor('git', { kind: 'not-found', phase: 'response', status: 404 }, REGION);
    expect(hint).toContain('repository name');
    expect(hint).toContain('region (ap-northeast-1)');
  });

  it('sends a TLS failure to an inspecting proxy or a wrong endpoint name', () => {
    const hint = remediationFor('git', { kind: 'tls', phase: 'tls' }, REGION);
    expect(hint).toContain('TLS-inspecting proxy');
    expect(hint).toContain('endpoint name is wrong');
  });

  it('sends throttling to the probe rate', () => {
    expect(remediationFor('sts', { kind: 'throttled', phase: 'response', status: 429 }, REGION)).toContain(
      'lower the probe rate',
    );
  });

  it('names the China partition hosts', () => {
    expect(remediationFor('git', { kind: 'dns', phase: 'dns' }, 'cn-north-1')).toMatch(
      /^git-codecommit\.cn-north-1\.amazonaws\.com\.cn did not resolve/,
    );
  });
});

describe('globalStsRemediation', () => {
  it('names the affected clients and every fix', () => {
    const hint = globalStsRemediation(REGION);
    expect(hint).toContain('https://sts.amazonaws.com');
    expect(hint).toContain('sts_regional_endpoints = regional');
    expect(hint).toContain('AWS_STS_REGIONAL_ENDPOINTS=regional');
    expect(hint).toContain('AWS CLI v2');
    expect(hint).toContain('sts.ap-northeast-1.amazonaws.com');
  });
});

describe('remediationTable', () => {
  it('writes out one row per rule for the runbook', () => {
    const rows = remediationTable(REGION);
    expect(rows).toHaveLength(REMEDIATION_RULES.length);
    expect(rows).toContainEqual({
      step: 'git',
      kind: 'auth',
      phases: 'any',
      status: 401,
      hint: remediationFor('git', { kind: 'auth', phase: 'response', status: 401 }, REGION),
    });
    expect(rows.find((r) => r.step === 'sts' && r.kind === 'timeout' && r.phases === 'tls')).toBeDefined();
  });
});
