import { describe, expect, it } from 'vitest';
import { remediationFor } from '../../lib/run/remediation.ts';

describe('remediation by the service’s error code', () => {
  it('RegionDisabledException: STS is off in that region for the account', () => {
    const hint = remediationFor(
      'sts',
      {
        kind: 'auth',
        phase: 'response',
        status: 403,
        message: 'HTTP 403 RegionDisabledException: STS is not activated in this region for account:111111111111.',
      },
      'ap-southeast-3',
    );
    expect(hint).toMatch(/^STS is not activated in ap-southeast-3 .*Security Token Service \(STS\), Endpoints/);
  });

  it('ExpiredToken: the probe’s own source credentials expired', () => {
    const failure = { kind: 'auth', phase: 'response', status: 403 } as const;
    const expired = remediationFor(
      'sts',
      { ...failure, message: 'HTTP 403 ExpiredToken: The security token included in the request is expired' },
      'us-east-1',
    );
    expect(expired).toMatch(/^The probe's own \(source\) credentials have expired/);
    // Any other denial keeps the AssumeRole hint.
    expect(remediationFor('sts', { ...failure, message: 'HTTP 403 AccessDenied: no' }, 'us-east-1')).not.toBe(expired);
  });
});
