import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../harness/sandbox.ts';
import { Connections } from '../lib/net/connections.ts';
import { type Resolve, serversResolve } from '../lib/net/resolve.ts';
import { probeTarget } from '../lib/run/probe.ts';
import { startDnsServer } from '../lib/sandbox/dns.ts';
import { type FaultMode, faultServer, type NetworkFault, startFault } from '../lib/sandbox/fault-servers.ts';
import type { FailureKind, Phase, Phases, StepName, StepResult } from '../lib/types.ts';

// Short deadlines keep the suite fast; the slack covers scheduling on a loaded 2-core machine.
const DEADLINE_MS = 800;
const SLACK_MS = 400;

interface Case {
  name: string;
  expected: { kind: FailureKind; phase: Phase };
  /** Starts the misbehaving endpoint; returns its URL. */
  start: (sandbox: Sandbox) => Promise<{ url: string; stop: () => Promise<void>; silentDns?: string }>;
}

const fault = (mode: FaultMode) => (sandbox: Sandbox) => faultServer(sandbox.pki, mode);
const broken = (how: NetworkFault) => (sandbox: Sandbox) => startFault(how, sandbox.pki);

const CASES: Case[] = [
  {
    name: 'DNS no answer',
    expected: { kind: 'timeout', phase: 'dns' },
    start: async () => {
      const dns = await startDnsServer({});
      dns.faults.fault = 'hang';
      return { url: 'https://silent.canary.test', stop: () => dns.stop(), silentDns: dns.server };
    },
  },
  {
    name: 'NXDOMAIN',
    expected: { kind: 'dns', phase: 'dns' },
    start: async () => ({ url: 'https://no-such-host.canary.test', stop: async () => {} }),
  },
  { name: 'connect never completes', expected: { kind: 'timeout', phase: 'connect' }, start: broken('connect-hang') },
  { name: 'connection refused', expected: { kind: 'refused', phase: 'connect' }, start: broken('refused') },
  { name: 'TLS handshake never answered', expected: { kind: 'timeout', phase: 'tls' }, start: broken('tls-hang') },
  { name: 'untrusted certificate', expected: { kind: 'tls', phase: 'tls' }, start: broken('untrusted') },
  {
    name: 'response headers never sent',
    expected: { kind: 'timeout', phase: 'response' },
    start: broken('headers-hang'),
  },
  {
    name: 'body trickling past the deadline',
    expected: { kind: 'timeout', phase: 'body' },
    start: broken('trickle'),
  },
  { name: 'HTTP 403', expected: { kind: 'auth', phase: 'response' }, start: fault({ status: 403, body: 'denied' }) },
  { name: 'HTTP 404', expected: { kind: 'not-found', phase: 'response' }, start: fault({ status: 404 }) },
  { name: 'HTTP 429', expected: { kind: 'throttled', phase: 'response' }, start: fault({ status: 429 }) },
  { name: 'HTTP 500', expected: { kind: 'http', phase: 'response' }, start: fault({ status: 500, body: 'oops' }) },
  { name: 'garbage body', expected: { kind: 'protocol', phase: 'body' }, start: broken('garbage') },
  { name: 'endless body', expected: { kind: 'protocol', phase: 'body' }, start: broken('endless') },
  { name: 'reset mid-response', expected: { kind: 'reset', phase: 'body' }, start: broken('reset') },
];

/** The sandbox's resolver, except for one name that goes to a server that never answers. */
function silentFor(name: string, silentServer: string): Resolve {
  const silent = serversResolve([silentServer]);
  return (host, signal) => (host === name ? silent(host, signal) : sandbox.deps.resolve(host, signal));
}

const PHASE_FIELD: Record<Phase, keyof Phases> = {
  dns: 'dnsMs',
  connect: 'connectMs',
  tls: 'tlsMs',
  response: 'firstByteMs',
  body: 'transferMs',
};

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => sandbox?.stop());

describe.each<StepName>(['sts', 'git'])('a fault at the %s endpoint', (step) => {
  it.each(CASES)('$name → $expected.kind in $expected.phase, within the deadline', async ({ start, expected }) => {
    // Prepare
    const endpoint = await start(sandbox);
    const url = endpoint.url;
    const target = sandbox.target({
      ...(step === 'sts' ? { stsEndpoint: url } : { gitEndpoint: url }),
      timeouts: { stsMs: step === 'sts' ? DEADLINE_MS : 5000, gitMs: DEADLINE_MS },
    });
    const deps = {
      ...sandbox.deps,
      // A small cap so "endless body" hits it quickly at either step.
      maxAdvertisementBytes: 256 * 1024,
      ...(endpoint.silentDns ? { resolve: silentFor('silent.canary.test', endpoint.silentDns) } : {}),
    };
    try {
      // Act
      const result = await probeTarget(target, deps);
      // Assess
      const stepResult = result.steps[step] as StepResult;
      expect(result.ok).toBe(false);
      expect(stepResult.failure).toMatchObject(expected);
      expect(stepResult.durationMs).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
      if (expected.kind === 'timeout') {
        expect(stepResult.durationMs).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
        // The waterfall shows where the time went: the hung phase carries it, up to the deadline.
        const sum = Object.values(stepResult.phases).reduce((a, b) => a + b, 0);
        expect(sum).toBeGreaterThan(DEADLINE_MS * 0.9);
        expect(stepResult.phases[PHASE_FIELD[expected.phase]]).toBeGreaterThan(DEADLINE_MS / 2);
      }
      if (step === 'sts') expect(result.steps.git.skipped).toBe(true);
      else expect(result.steps.sts.ok).toBe(true);
      expect(stepResult.failure?.message).not.toMatch(/secret|token|password|Basic /i);
    } finally {
      await endpoint.stop();
    }
  });
});

/**
 * Faults whose answer STS's client reads to its end, leaving the connection usable: the next target reuses it (the
 * git step drops a connection whose answer it does not read).
 */
const ANSWERED_IN_FULL = new Set(['HTTP 403', 'HTTP 404', 'HTTP 429', 'HTTP 500']);

describe.each<StepName>(['sts', 'git'])('a fault at the %s endpoint, on a sample’s kept-alive connections', (step) => {
  it.each(CASES)(
    '$name → $expected.kind in $expected.phase, for the first target and the next',
    async ({ name, start, expected }) => {
      // Prepare: two targets of one sample, one after the other, sharing its connections.
      const endpoint = await start(sandbox);
      const target = sandbox.target({
        ...(step === 'sts' ? { stsEndpoint: endpoint.url } : { gitEndpoint: endpoint.url }),
        timeouts: { stsMs: step === 'sts' ? DEADLINE_MS : 5000, gitMs: DEADLINE_MS },
      });
      const connections = new Connections(sandbox.deps.tls);
      const deps = {
        ...sandbox.deps,
        connections,
        maxAdvertisementBytes: 256 * 1024,
        ...(endpoint.silentDns ? { resolve: silentFor('silent.canary.test', endpoint.silentDns) } : {}),
      };
      try {
        // Act
        const first = (await probeTarget(target, deps)).steps[step] as StepResult;
        const next = (await probeTarget(target, deps)).steps[step] as StepResult;
        // Assess: the same kind and phase either way, within the deadline.
        for (const stepResult of [first, next]) {
          expect(stepResult.failure).toMatchObject(expected);
          expect(stepResult.durationMs).toBeLessThanOrEqual(DEADLINE_MS + SLACK_MS);
        }
        if (expected.phase === 'dns') expect(next.connection).toBeUndefined();
        else expect(first.connection).toBe('new');
        if (step === 'sts' && ANSWERED_IN_FULL.has(name)) expect(next.connection).toBe('reused');
      } finally {
        connections.destroy();
        await endpoint.stop();
      }
    },
  );
});
