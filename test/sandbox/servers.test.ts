import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../../lib/sandbox/dns.ts';
import { connectHang, faultServer, refusedPort, tlsHang, untrustedTls } from '../../lib/sandbox/fault-servers.ts';
import { createPki, type Pki, positiveInteger } from '../../lib/sandbox/pki.ts';

/** lib/sandbox's servers that are not stand-ins: the PKI, the DNS server, the misbehaving endpoints. */

let pki: Pki;
beforeAll(() => {
  pki = createPki({ names: ['localhost', '*.canary.test'], ips: ['127.0.0.1', '::1'] });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET trusting the test CA; resolves at the response headers. */
function get(url: string, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: pki.caPem }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads a response to its end (or error): the bytes seen and how it ended. */
function drain(res: IncomingMessage): Promise<{ bytes: Buffer; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ bytes: Buffer.concat(chunks) }));
    res.on('error', (error: NodeJS.ErrnoException) => resolve({ bytes: Buffer.concat(chunks), error }));
  });
}

describe('pki', () => {
  it.each([
    [[0x12], '020112'],
    [[0x00, 0x12], '020112'],
    [[0x00, 0x00, 0x7f, 0x01], '02027f01'],
    [[0x80, 0x01], '0203008001'],
    [[0x00, 0x80], '02020080'],
    [[0x00, 0x00], '020100'],
  ])('encodes the serial %j as the one DER INTEGER %s (a random serial may start with zeros)', (bytes, der) => {
    expect(positiveInteger(Buffer.from(bytes)).toString('hex')).toBe(der);
  });

  it('signs server certificates for names and addresses that verify against its CA only', () => {
    const ca = new X509Certificate(pki.caPem);
    const server = new X509Certificate(pki.certPem);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.checkHost('git.canary.test')).toBe('*.canary.test');
    expect(server.checkHost('sts.amazonaws.com')).toBeUndefined();
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.verify(new X509Certificate(createPki({ names: ['localhost'] }).caPem).publicKey)).toBe(false);
  });

  it('issues certificates valid for the days asked, from an hour ago', () => {
    const days = (pem: string) => {
      const certificate = new X509Certificate(pem);
      return (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
    };
    expect(days(pki.certPem)).toBeCloseTo(90 + 1 / 24, 3);
    expect(days(pki.issue(5).certPem)).toBeCloseTo(5 + 1 / 24, 3);
    expect(new X509Certificate(pki.issue(5).certPem).verify(new X509Certificate(pki.caPem).publicKey)).toBe(true);
  });
});

describe('dns', () => {
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    dns = await startDnsServer({
      'git-codecommit.us-east-1.amazonaws.com': { a: ['10.0.1.5', '10.0.2.5'], aaaa: ['fd00::5'] },
    });
    resolver.setServers([dns.server]);
  });
  afterAll(() => dns.stop());

  it('answers A and AAAA, case-insensitively, and logs the query', async () => {
    expect((await resolver.resolve4('GIT-codecommit.us-east-1.amazonaws.com')).sort()).toEqual([
      '10.0.1.5',
      '10.0.2.5',
    ]);
    expect(await resolver.resolve6('git-codecommit.us-east-1.amazonaws.com')).toEqual(['fd00::5']);
    expect(dns.queries).toContain('git-codecommit.us-east-1.amazonaws.com');
  });

  it('answers NXDOMAIN for an unknown name', async () => {
    await expect(resolver.resolve4('sts.us-east-1.amazonaws.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('changes answers at runtime', async () => {
    dns.set('sts.us-east-1.amazonaws.com', { a: ['10.0.3.7'] });
    expect(await resolver.resolve4('sts.us-east-1.amazonaws.com')).toEqual(['10.0.3.7']);
  });

  it('stays silent when told, then answers again', async () => {
    dns.faults.fault = 'hang';
    await expect(resolver.resolve4('git-codecommit.us-east-1.amazonaws.com')).rejects.toMatchObject({
      code: 'ETIMEOUT',
    });
    dns.faults.fault = 'none';
    expect(await resolver.resolve4('git-codecommit.us-east-1.amazonaws.com')).toHaveLength(2);
  });
});

/** How a socket stands after `ms`: still `pending`, or the event (`done`) or error that ended the wait. */
async function outcomeAfter(socket: Socket, done: 'connect' | 'secureConnect', ms: number): Promise<string> {
  let outcome = 'pending';
  socket.on(done, () => {
    outcome = done;
  });
  socket.on('error', (error) => {
    outcome = error.message;
  });
  await sleep(ms);
  socket.destroy();
  return outcome;
}

describe('network faults', () => {
  it('connectHang: TCP connect neither succeeds nor fails for a second', async () => {
    const hang = await connectHang();
    expect(await outcomeAfter(connect(hang.port, hang.host), 'connect', 1000)).toBe('pending');
    await hang.stop();
  });

  it('refusedPort: ECONNREFUSED', async () => {
    const refused = await refusedPort();
    const error = await new Promise((resolve) => connect(refused.port, refused.host).on('error', resolve));
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('tlsHang: TCP connects, the TLS handshake never finishes', async () => {
    const hang = await tlsHang();
    const socket = tlsConnect({ host: hang.host, port: hang.port, ca: pki.caPem });
    expect(await outcomeAfter(socket, 'secureConnect', 500)).toBe('pending');
    await hang.stop();
  });

  it('untrustedTls: certificate verification fails against the test CA', async () => {
    const server = await untrustedTls();
    await expect(get(server.url)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await server.stop();
  });
});

describe('faultServer', () => {
  let server: Awaited<ReturnType<typeof faultServer>>;
  beforeAll(async () => {
    server = await faultServer(pki, { status: 503, body: 'Rate exceeded' });
  });
  afterAll(() => server.stop());
  const refs = () => `${server.url}/v1/repos/r/info/refs?service=git-upload-pack`;

  it('answers a status and body, for POST (STS) and GET (git) alike', async () => {
    const post = await get(server.url, 'POST');
    expect(post.statusCode).toBe(503);
    expect((await drain(post)).bytes.toString()).toBe('Rate exceeded');
    expect((await get(refs())).statusCode).toBe(503);
  });

  it('garbage: 200 with the git content type and no valid pkt-line', async () => {
    server.setMode({ garbage: true });
    const res = await get(refs());
    expect(res.headers['content-type']).toBe('application/x-git-upload-pack-advertisement');
    expect((await drain(res)).bytes[0]).toBe(0xff);
  });

  it('headersHang: no response headers', async () => {
    server.setMode({ headersHang: true });
    const outcome = await Promise.race([get(refs()).then(() => 'answered'), sleep(500).then(() => 'hung')]);
    expect(outcome).toBe('hung');
  });

  it('trickle: headers at once, then a chunk per interval', async () => {
    server.setMode({ trickle: { intervalMs: 50, chunk: '0' } });
    const res = await get(refs());
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    await sleep(400);
    res.destroy();
    expect(bytes).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeLessThanOrEqual(9);
  });

  it('endless: streams without end as fast as it is read', async () => {
    server.setMode({ endless: true });
    const res = await get(refs());
    const seen = await new Promise<number>((resolve) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > 8 << 20) resolve(bytes);
      });
    });
    res.destroy();
    expect(seen).toBeGreaterThan(8 << 20);
  });

  it('resetAfterBytes: the body is cut by ECONNRESET after n bytes', async () => {
    server.setMode({ resetAfterBytes: 100 });
    const { bytes, error } = await drain(await get(refs()));
    expect(bytes.length).toBe(100);
    expect(error?.code).toBe('ECONNRESET');
  });

  it('setMode recovers: back to a plain 200', async () => {
    server.setMode({ status: 200, body: 'ok' });
    expect((await get(refs())).statusCode).toBe(200);
    expect(server.requests).toBeGreaterThanOrEqual(8);
  });
});
