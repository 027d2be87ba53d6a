import { readFileSync } from 'node:fs';
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
  it('has a step-specific hint for every step, failure kind and phase the step can fail with', () => {
    for (const step of STEP_NAMES) {
      // Only the assertions fail with `assertion`, and they fail with nothing else.
      for (const kind of FAILURE_KINDS.filter((k) => (k === 'assertion') === (step === 'expect'))) {
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

describe('remediationFor a path check, the fetch and the assertions', () => {
  it("names the failing address and its zone, and that zone's subnet, security group, ACLs and routes", () => {
    const hint = remediationFor(
      'git',
      { kind: 'timeout', phase: 'connect', address: '10.0.3.15', zone: 'ap-northeast-1c' },
      REGION,
    );
    expect(hint).toMatch(
      /^The path to 10\.0\.3\.15 in ap-northeast-1c, one of the addresses git-codecommit\.ap-northeast-1/,
    );
    expect(hint).toContain('com.amazonaws.ap-northeast-1.git-codecommit endpoint');
    for (const what of ['subnet in that AZ', 'security group', 'network ACLs', 'route tables']) {
      expect(hint).toContain(what);
    }
    expect(
      remediationFor('sts', { kind: 'refused', phase: 'connect', address: 'fd00::7', zone: null }, REGION),
    ).toMatch(/^The path to fd00::7, one of the addresses sts\.ap-northeast-1\.amazonaws\.com resolves to/);
  });

  it('gives the step its own hint when its own call failed, even with a failing path beside it', () => {
    expect(remediationFor('git', { kind: 'timeout', phase: 'connect' }, REGION)).toMatch(/^The connection to git/);
  });

  it('sends a stalled pack to PMTU blackholes, ICMP fragmentation-needed, MSS clamping and proxies', () => {
    const hint = remediationFor('fetch', { kind: 'timeout', phase: 'body' }, REGION);
    expect(hint).toMatch(/^ls-remote got the refs from git-codecommit\.ap-northeast-1\.amazonaws\.com/);
    for (const what of ['MTU blackhole', 'ICMP type 3 code 4', 'MSS', 'proxy']) expect(hint).toContain(what);
    expect(remediationFor('fetch', { kind: 'timeout', phase: 'response' }, REGION)).toContain('fetch.timeoutMs');
  });

  it('tells a fetch denied after a permitted ls-remote to look for a policy or proxy that allows only info/refs', () => {
    const hint = remediationFor('fetch', { kind: 'auth', phase: 'response', status: 403 }, REGION);
    expect(hint).toContain('git-upload-pack');
    expect(hint).toContain('com.amazonaws.ap-northeast-1.git-codecommit interface endpoint policy');
    expect(remediationFor('fetch', { kind: 'protocol', phase: 'body' }, REGION)).toContain('fetch.maxBytes');
  });

  it('tells each failed expectation apart by its message', () => {
    const assertion = (message: string) =>
      remediationFor('expect', { kind: 'assertion', phase: 'body', message }, REGION);
    expect(assertion('ref refs/heads/release is not advertised')).toMatch(/^An expected ref is missing/);
    expect(assertion('HEAD points at refs/heads/master, expected refs/heads/main')).toMatch(/^HEAD \(the repository's/);
    expect(
      assertion('HEAD is 3 d 2 h old (1a2b3c4 committed 2026-11-26T18:00:00Z), expected at most 1440 min old'),
    ).toContain('mirror or sync job');
    expect(assertion('HEAD is no commit, expected at most 60 min old')).toContain('headMaxAgeMinutes');
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
      when: 'any',
      hint: remediationFor('git', { kind: 'auth', phase: 'response', status: 401 }, REGION),
    });
    expect(rows.find((r) => r.step === 'sts' && r.kind === 'timeout' && r.phases === 'tls')).toBeDefined();
    expect(rows.find((r) => r.step === 'git' && r.when === 'path')?.hint).toContain("the alert's Paths line");
  });

  it('has a runbook section for every rule of a step', () => {
    const runbook = readFileSync(new URL('../docs/runbook.md', import.meta.url), 'utf8');
    const anchors = new Set([...runbook.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
    const anchorOf = (row: ReturnType<typeof remediationTable>[number]): string[] => {
      if (row.when === 'path') return [`${row.step}-path`];
      if (row.status !== null) return [`${row.step}-${row.kind}-${row.status}`];
      if (row.kind === 'timeout') return row.phases.split(', ').map((phase) => `${row.step}-timeout-${phase}`);
      return [`${row.step}-${row.kind}`];
    };
    const wanted = remediationTable(REGION)
      .filter((row) => row.step !== 'any')
      .flatMap(anchorOf);
    expect(wanted.filter((anchor) => !anchors.has(anchor))).toEqual([]);
    expect(wanted).toEqual(expect.arrayContaining(['git-path', 'fetch-timeout-body', 'expect-assertion']));
  });
});
