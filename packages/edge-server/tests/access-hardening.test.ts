// Token checks that one peer cannot turn against another or against the log, over real loopback
// sockets: a wrong-token guesser at one address does not lock out another, two different tokens
// in one request are refused before either is compared, and the token stays out of the log
// however its parameter name is spelled.
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../src/access/access-control.js';
import { addressKey, peerKey } from '../src/access/address-key.js';
import { memoryLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';

const TOKEN = 'hardening-token-5ca1ab1e';
const servers: TestServer[] = [];

async function server(opts: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  const s = await startTestServer({ fps: 10, httpPort: 0, httpRateLimit: 0, token: TOKEN }, opts);
  servers.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** GET from a chosen local address (node's fetch cannot pick one). */
function get(port: number, path: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: opts.from, headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the lockout is per address', () => {
  it('a guesser at 127.0.0.2 that is blocked does not keep the right token at 127.0.0.1 out', async () => {
    const s = await server({ accessTuning: { freeFailures: 3, baseBlockMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(s.httpPort!, `/status?token=guess-${i}`, { from: '127.0.0.2' })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect((await get(s.httpPort!, `/status?token=${TOKEN}`, { from: '127.0.0.1' })).status).toBe(200);
    // The guesser itself stays blocked, even with the right token.
    expect((await get(s.httpPort!, `/status?token=${TOKEN}`, { from: '127.0.0.2' })).status).toBe(429);
  });

  it('counts IPv6 failures per address: a host cannot lock out its neighbours in a shared /64', () => {
    const a = new AccessControl(TOKEN, memoryLogger().logger, { freeFailures: 2, baseBlockMs: 60_000 }, () => 1_000_000);
    const attacker = { address: '2001:db8:1:2::bad' };
    for (let i = 0; i < 4; i++) a.check(attacker, [`guess-${i}`], 'v2');
    expect(a.check(attacker, [TOKEN], 'v2')).toMatchObject({ ok: false, reason: 'throttled' });
    expect(a.check({ address: '2001:db8:1:2::600d' }, [TOKEN], 'v2')).toEqual({ ok: true });
    expect(a.check({ address: 'fe80::1234%eth0' }, [TOKEN], 'v2')).toEqual({ ok: true });
  });

  it('an IPv6 /64 with many failures gives each of its addresses one wrong token, and still takes the right one', () => {
    const a = new AccessControl(TOKEN, memoryLogger().logger, { freeFailures: 5, networkFreeFailures: 10 }, () => 0);
    // A guesser rotating through its /64, one guess per address: free until the /64 has had 10.
    for (let i = 0; i < 10; i++) expect(a.check({ address: `2001:db8::${i + 1}` }, ['guess'], 'http')).toMatchObject({ reason: 'wrong' });
    a.check({ address: '2001:db8::100' }, ['guess'], 'http');
    expect(a.check({ address: '2001:db8::100' }, [TOKEN], 'http')).toMatchObject({ reason: 'throttled' });
    // Neighbours with the right token get in; another /64 keeps its free failures.
    expect(a.check({ address: '2001:db8::200' }, [TOKEN], 'http')).toEqual({ ok: true });
    for (let i = 0; i < 4; i++) a.check({ address: '2001:db8:0:1::1' }, ['guess'], 'http');
    expect(a.check({ address: '2001:db8:0:1::1' }, [TOKEN], 'http')).toEqual({ ok: true });
  });

  it('keys IPv6 peers by the whole address and the /64 around it', () => {
    expect(peerKey('2001:0db8:0001:0002:0:0:0:5%eth0')).toBe('2001:db8:1:2:0:0:0:5');
    expect(peerKey('2001:db8:1:2::6')).toBe('2001:db8:1:2:0:0:0:6');
    expect(peerKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(peerKey('::1')).toBe('0:0:0:0:0:0:0:1');
    expect(addressKey('2001:db8:1:2::6')).toBe('2001:db8:1:2::/64');
  });
});

describe('one credential per request', () => {
  it('refuses two different tokens in one request before comparing either, so they count as no guess', async () => {
    const s = await server({ accessTuning: { freeFailures: 2, baseBlockMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      const res = await get(s.httpPort!, `/status?token=query-guess-${i}`, { headers: { Authorization: `Bearer header-guess-${i}` } });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    // The same token in both places is one credential, and nothing above was counted as a failure.
    expect((await get(s.httpPort!, `/status?token=${TOKEN}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(s.log.lines.some((l) => l.msg === 'access refused: two different tokens in one request')).toBe(true);
  });
});

describe('the token in the log', () => {
  // Names that decode to `token` are the token to the server (200); other cases are not (401),
  // and are redacted all the same.
  it.each([
    ['to%6Ben', 200],
    ['%74oken', 200],
    ['tok%65n', 200],
    ['TOKEN', 401],
    ['To%6BEn', 401],
  ])('is redacted from logged URLs when the parameter is spelled %s', async (name, status) => {
    const s = await server();
    expect((await get(s.httpPort!, `/status?fps=1&${name}=${TOKEN}`)).status).toBe(status);
    const line = s.log.lines.find((l) => l.msg === 'http request');
    expect(line).toBeDefined();
    expect(line!.url).toBe(`/status?fps=1&${name}=REDACTED`);
    expect(JSON.stringify(s.log.lines)).not.toContain(TOKEN);
  });
});
