import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config.ts';
import { probeTimeoutSeconds, REPORTING_RESERVE_MS, START_SLACK_MS } from '../../lib/run/budget.ts';

const ROLE = 'arn:aws:iam::111111111111:role/SwitchRole';
const configWith = (fields: Record<string, unknown>) =>
  parseConfig({
    region: 'ap-northeast-1',
    schedule: { samplesPerRun: 3, intervalSeconds: 20 },
    timeouts: { stsMs: 5000, gitMs: 10_000 },
    targets: [{ name: 'a', repository: 'r', roleArn: ROLE }],
    ...fields,
  });

describe('probeTimeoutSeconds', () => {
  it("gives the last sample room for every step one after another, the fetch's deadline included", () => {
    const slots = 2 * 20_000;
    const without = probeTimeoutSeconds(configWith({}), 'direct');
    const withFetch = probeTimeoutSeconds(configWith({ fetch: { enabled: true, timeoutMs: 30_000 } }), 'direct');
    expect(without).toBe(Math.ceil((slots + 15_000 + REPORTING_RESERVE_MS.direct + START_SLACK_MS) / 1000));
    expect(withFetch).toBe(Math.ceil((slots + 45_000 + REPORTING_RESERVE_MS.direct + START_SLACK_MS) / 1000));
  });
});
