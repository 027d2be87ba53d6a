/**
 * An answer whose advertisement is whole but whose HTTP response ends later (git http-backend's last chunk comes
 * after the process exits; a slow proxy): the step ends at the closing flush, whatever happens to the rest.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../lib/clock.ts';
import { Connections } from '../../../lib/net/connections.ts';
import type { NetDeps } from '../../../lib/net/exchange.ts';
import { advertisement, DEMO_REPOSITORY } from '../../../lib/sandbox/repository.ts';
import { lsRemote } from '../../../lib/steps/git/ls-remote.ts';

const END_LATE_MS = 300;
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' };

let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
    res.write(advertisement(DEMO_REPOSITORY));
    setTimeout(() => res.end(), END_LATE_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const deps: NetDeps & { maxAdvertisementBytes: number } = {
  clock: systemClock,
  resolve: async () => ['127.0.0.1'],
  maxAdvertisementBytes: 1024 * 1024,
};
const target = (gitMs: number) => ({
  repository: DEMO_REPOSITORY.name,
  region: 'ap-northeast-1',
  gitEndpoint: endpoint,
  timeouts: { gitMs },
});

describe('ls-remote ends at the closing flush', () => {
  it.each([
    ['a connection of its own', false],
    ["the sample's kept-alive connections", true],
  ])('on %s: ok well within a deadline shorter than the answer’s late end', async (_, pooled) => {
    // Prepare
    const connections = pooled ? new Connections() : undefined;
    try {
      // Act
      const { result } = await lsRemote(target(END_LATE_MS / 2), CREDENTIALS, {
        ...deps,
        ...(connections ? { connections } : {}),
      });
      // Assess
      expect(result.failure).toBeNull();
      expect(result.head).toBe('refs/heads/main');
      // The wait for the late end (pooled) is not the path's transfer time.
      expect(result.phases.transferMs).toBeLessThan(50);
      expect(result.durationMs).toBeLessThan(END_LATE_MS / 2);
    } finally {
      connections?.destroy();
    }
  });
});
