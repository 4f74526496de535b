// Tokens and limits on the HTTP side, against a real server on loopback: Bearer, Basic (any user
// name, the token as password) and ?token= get in; none or a wrong one get 401 with the Basic
// challenge that makes browsers and VLC ask; repeated wrong tokens lock the address out (429);
// requests beyond the per-address rate get 429 with Retry-After; stream viewers are limited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep } from './support/wait.js';

const TOKEN = 'http-test-token-c0ffee';
const servers: TestServer[] = [];

async function server(overrides: Parameters<typeof startTestServer>[0], opts: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  const s = await startTestServer({ fps: 20, httpPort: 0, httpRateLimit: 0, ...overrides }, opts);
  servers.push(s);
  return s;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('HTTP with --token', () => {
  let s: TestServer;
  let base: string;
  beforeAll(async () => {
    s = await server({ token: TOKEN }, { accessTuning: { freeFailures: 1000 } });
    base = `http://127.0.0.1:${s.httpPort}`;
  });

  it('answers a request without a token with 401, a Basic challenge and a coded error', async () => {
    for (const path of ['/', '/snapshot.jpg', '/status', '/metrics', '/stream.mjpg']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="edgecam", charset="UTF-8"');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAUTHORIZED');
      expect(body.error.message).toMatch(/requires a token.*Bearer.*Basic.*\?token=/);
    }
  });

  it('answers a wrong token with 401, whichever way it comes', async () => {
    const wrong = [
      fetch(`${base}/status`, { headers: { Authorization: 'Bearer not-it' } }),
      fetch(`${base}/status`, { headers: { Authorization: basic('admin', 'not-it') } }),
      fetch(`${base}/status?token=not-it`),
    ];
    for (const res of await Promise.all(wrong)) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('wrong token');
    }
  });

  it('takes the token as Bearer, as the Basic password with any user name, and as ?token=', async () => {
    const bearer = await fetch(`${base}/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { server: string }).server).toBe('edgecam-server');

    for (const user of ['', 'viewer', 'vlc']) {
      const res = await fetch(`${base}/snapshot.jpg`, { headers: { Authorization: basic(user, TOKEN) } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      await res.arrayBuffer();
    }

    const query = await fetch(`${base}/snapshot.jpg?token=${encodeURIComponent(TOKEN)}`);
    expect(query.status).toBe(200);
    expect((await query.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });

  it('streams to an <img>-style request that carries ?token=', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${base}/stream.mjpg?token=${TOKEN}`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace/);
    const reader = res.body!.getReader();
    let bytes = 0;
    while (bytes < 2000) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
    ctl.abort();
    expect(bytes).toBeGreaterThanOrEqual(2000);
  });

  it('keeps /healthz open for probes that carry no token', async () => {
    const res = await fetch(`${base}/healthz`);
    expect([200, 503]).toContain(res.status);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toHaveProperty('ok');
  });

  it('serves the page opened as /?token= with the token in the stream, snapshot and status URLs', async () => {
    const withQuery = await (await fetch(`${base}/?token=${TOKEN}`)).text();
    expect(withQuery).toContain(`<img id="live" src="stream.mjpg?advance_headers=1&#38;token=${TOKEN}"`);
    expect(withQuery).toContain(`href="snapshot.jpg?token=${TOKEN}"`);
    expect(withQuery).toContain(`href="status?token=${TOKEN}"`);
    expect(withQuery).toContain("fetch(withToken('status')");
    // Basic (what a browser sends after its prompt) needs no token in the page: it is resent by itself.
    const withBasic = await (await fetch(`${base}/`, { headers: { Authorization: basic('', TOKEN) } })).text();
    expect(withBasic).toContain('<img id="live" src="stream.mjpg?advance_headers=1"');
    expect(withBasic).not.toContain(TOKEN);
  });

  it('never writes the token into its log', async () => {
    await (await fetch(`${base}/status?token=${TOKEN}`)).text();
    const logged = JSON.stringify(s.log.lines);
    expect(logged).toContain('token=REDACTED');
    expect(logged).not.toContain(TOKEN);
  });
});

describe('HTTP after repeated wrong tokens', () => {
  it('answers 429 with Retry-After, even to the right token, until the block ends', async () => {
    const blockMs = 5000;
    const s = await server({ token: TOKEN }, { accessTuning: { freeFailures: 2, baseBlockMs: blockMs } });
    const base = `http://127.0.0.1:${s.httpPort}`;
    // Two wrong tokens (freeFailures: 2) are answered 401; the second starts the block.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/status`, { headers: { Authorization: `Bearer guess-${i}` } });
      expect(res.status).toBe(401);
      await res.text();
    }
    const lockedAt = performance.now();
    const blocked = await fetch(`${base}/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_FAILURES');
    // A request with no token at all is no guess: it does not extend the block.
    expect((await fetch(`${base}/status`)).status).toBe(429);

    await sleep(Math.max(0, blockMs - (performance.now() - lockedAt)) + 200);
    const after = await fetch(`${base}/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(after.status).toBe(200);
    await after.text();
  });
});

describe('HTTP limits', () => {
  it('answers requests beyond the per-address rate with 429 and Retry-After', async () => {
    const rate = 2; // a burst of 4, then 2 per second
    const s = await server({ httpRateLimit: rate });
    const base = `http://127.0.0.1:${s.httpPort}`;
    const started = performance.now();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/status`);
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
      await res.text();
    }
    const seconds = (performance.now() - started) / 1000;
    const allowed = statuses.filter((c) => c === 200).length;
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(allowed).toBeLessThanOrEqual(4 + Math.ceil(seconds * rate));
    expect(statuses.filter((c) => c === 429).length).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('does not count stream requests against the rate, and refuses viewers beyond --max-clients with 503', async () => {
    const s = await server({ httpRateLimit: 1, maxClients: 1 });
    const base = `http://127.0.0.1:${s.httpPort}`;
    const ctl = new AbortController();
    const first = await fetch(`${base}/stream.mjpg`, { signal: ctl.signal });
    expect(first.status).toBe(200);
    const second = await fetch(`${base}/stream.mjpg`);
    expect(second.status).toBe(503);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_CLIENTS');
    ctl.abort();
  });
});
