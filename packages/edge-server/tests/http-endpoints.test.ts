// The endpoints other than the stream where a test needs control the real capture does not
// give (a source that never delivers, a stale or restarting source, failing metrics), and how
// the server answers what it does not serve. http-testsrc.test.ts runs them on the real capture.
import { connect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import type { ServerMetrics } from '../src/contracts.js';
import type { HttpLimits } from '../src/http/http-server.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, type RunningHttpServer } from './http-fixtures/harness.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { RawHttpClient } from './http-fixtures/raw-http.js';

let jpegs: Buffer[];
let running: RunningHttpServer | undefined;

beforeAll(async () => {
  jpegs = await testPatternJpegs(320, 240, 5);
});

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function serve(opts: { hub?: FakeHub; metrics?: ServerMetrics; snapshotTimeoutMs?: number; limits?: Partial<HttpLimits> } = {}) {
  const hub = opts.hub ?? new FakeHub();
  const registry = new RecordingRegistry();
  running = await startHttpServer({
    hub,
    registry,
    metrics: opts.metrics ?? new FixedMetrics(),
    serverName: 'edgecam-test',
    version: '9.8.7',
    snapshotTimeoutMs: opts.snapshotTimeoutMs ?? 2_000,
    limits: opts.limits,
  });
  return { hub, registry, url: running.url, port: running.port };
}

type ErrorBody = { error: { code: string; message: string } };

describe('GET /snapshot.jpg', () => {
  it('returns the newest frame as a JPEG of the source size, never cached', async () => {
    const { hub, registry, url } = await serve();
    hub.emit(jpegs[0]!);
    const newest = hub.emit(jpegs[1]!);
    const res = await fetch(`${url}/snapshot.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.headers.get('x-frame-seq')).toBe(String(newest.seq));
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(newest.jpeg)).toBe(true);
    expect(readJpegInfo(body)).toEqual({ width: 320, height: 240 });
    expect(registry.all).toMatchObject([{ protocol: 'http', mode: 'single', framesSent: 1 }]);
    expect(registry.list()).toEqual([]);
  });

  it('waits for the first frame when the capture is idle', async () => {
    const { hub, url } = await serve();
    const pending = fetch(`${url}/snapshot.jpg`);
    setTimeout(() => hub.emit(jpegs[2]!), 300);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(jpegs[2]!)).toBe(true);
  });

  it('answers 503 with Retry-After and a JSON reason when no frame comes', async () => {
    const { url } = await serve({ snapshotTimeoutMs: 300 });
    const res = await fetch(`${url}/snapshot.jpg`);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('SOURCE_UNAVAILABLE');
    expect(body.error.message).toContain('300 ms');
  });
});

describe('GET /', () => {
  it('serves a self-contained page that shows the stream and polls /status', async () => {
    const { url } = await serve();
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    expect(html).toContain('<img id="live" src="stream.mjpg?advance_headers=1"');
    expect(html).toContain("fetch(withToken('status')");
    expect(html).toContain('name="viewport"');
    expect(html).toContain('edgecam-test');
    // No external assets: nothing is loaded from another origin.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
  });
});

describe('GET /metrics', () => {
  it('answers 500 without internals when the metrics fail', async () => {
    const failing: ServerMetrics = {
      contentType: 'text/plain',
      text: () => Promise.reject(new Error('secret detail at /srv/edgecam/metrics.ts:12')),
    };
    const { url } = await serve({ metrics: failing });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(text).not.toContain('secret');
  });
});

describe('GET /healthz', () => {
  it('is 503 while the source is idle and 200 while it delivers frames', async () => {
    const { hub, url } = await serve();
    const idle = await fetch(`${url}/healthz`);
    expect(idle.status).toBe(503);
    expect(await idle.json()).toMatchObject({ ok: false, state: 'idle' });

    const sub = hub.frames$.subscribe(() => {});
    try {
      hub.emit(jpegs[0]!);
      const ok = await fetch(`${url}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ ok: true, state: 'running' });

      // Running but silent (a wedged camera): unhealthy.
      hub.infoOverride = { lastFrameAt: Date.now() - 60_000 };
      const stale = await fetch(`${url}/healthz`);
      expect(stale.status).toBe(503);
      expect(((await stale.json()) as { reason: string }).reason).toMatch(/no frame for \d+ ms/);

      hub.infoOverride = { state: 'restarting', lastError: 'ffmpeg exited with code 1' };
      const restarting = await fetch(`${url}/healthz`);
      expect(restarting.status).toBe(503);
      expect(((await restarting.json()) as { reason: string }).reason).toContain('ffmpeg exited with code 1');
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('requests the server does not serve', () => {
  it('answers unknown paths with 404 JSON', async () => {
    const { url, port } = await serve();
    for (const path of ['/nope', '/status/', '/stream.mjpg/x', '/favicon.ico']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorBody).error.code).toBe('NOT_FOUND');
    }
    // `//status` is a path, not a URL with host "status".
    const raw = await RawHttpClient.open(port, '//status');
    try {
      expect((await raw.head()).status).toBe(404);
    } finally {
      raw.close();
    }
  });

  it('answers other methods with 405 and Allow', async () => {
    const { url } = await serve();
    for (const [method, path] of [['POST', '/snapshot.jpg'], ['PUT', '/'], ['DELETE', '/status'], ['OPTIONS', '/stream.mjpg']] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(((await res.json()) as ErrorBody).error.code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const { url } = await serve();
    for (const path of ['/', '/status', '/metrics']) {
      const get = await fetch(`${url}${path}`);
      const getLength = (await get.arrayBuffer()).byteLength;
      const head = await fetch(`${url}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
      if (path !== '/status') expect(Number(head.headers.get('content-length'))).toBe(getLength);
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    }
  });

  it('refuses request headers over the size limit with 431 and a malformed request with 400', async () => {
    const { port } = await serve();
    const big = await RawHttpClient.open(port, '/status', { headers: { 'X-Filler': 'a'.repeat(16 * 1024) } });
    try {
      expect((await big.head()).status).toBe(431);
    } finally {
      big.close();
    }
    const bad = await RawHttpClient.open(port, '/status', { method: 'G E T' });
    try {
      expect((await bad.head()).status).toBe(400);
    } finally {
      bad.close();
    }
  });

  it('answers a client that sends its request head too slowly with 408 and closes', async () => {
    const { port } = await serve({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 100 } });
    // The limits node answers 408 by are the ones asked for (the default is 5 s), not timed here.
    expect(running!.server).toMatchObject({ headersTimeout: 300, requestTimeout: 600 });
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });
});
