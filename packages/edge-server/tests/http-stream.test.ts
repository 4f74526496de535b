// GET /stream.mjpg against a hub the test drives frame by frame: exact bytes on the wire,
// parsing part by part, ?fps thinning, registry bookkeeping, and slow viewers.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, type RunningHttpServer } from './http-fixtures/harness.js';
import { sleep, waitUntil } from './support/wait.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { BROWSER_UA, FFMPEG_UA, MultipartReader, RawHttpClient } from './http-fixtures/raw-http.js';

let jpegs: Buffer[];
let running: RunningHttpServer | undefined;
const clients: RawHttpClient[] = [];

beforeAll(async () => {
  jpegs = await testPatternJpegs(320, 240, 30);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.close();
  running = undefined;
});

async function serve(hub: FakeHub, registry = new RecordingRegistry(), extra: { stallTimeoutMs?: number } = {}) {
  running = await startHttpServer({ hub, registry, metrics: new FixedMetrics(), ...extra });
  return { hub, registry, port: running.port };
}

async function open(port: number, path: string, userAgent: string, method = 'GET'): Promise<RawHttpClient> {
  const client = await RawHttpClient.open(port, path, { method, headers: { 'User-Agent': userAgent } });
  clients.push(client);
  return client;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** Waits until exactly `expected` has arrived, then a little longer to prove nothing more follows. */
async function expectBodyExactly(client: RawHttpClient, expected: Buffer): Promise<void> {
  await client.until(() => client.body().length >= expected.length, 5_000, `${expected.length} body bytes`);
  await sleep(150);
  expect(client.body().equals(expected)).toBe(true);
}

function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/x-mixed-replace;\s*boundary=(\S+)$/.exec(contentType ?? '');
  if (!match) throw new Error(`not a multipart/x-mixed-replace content type: ${contentType}`);
  return match[1]!;
}

describe('GET /stream.mjpg byte order', () => {
  it('starts a player’s stream with the boundary and puts Content-Length and the next boundary around each frame', async () => {
    const { hub, port } = await serve(new FakeHub());
    const client = await open(port, '/stream.mjpg', FFMPEG_UA);
    const head = await client.head();
    expect(head.status).toBe(200);
    const boundary = boundaryOf(head.headers.get('content-type'));
    expect(head.headers.get('transfer-encoding')).toBeUndefined();
    expect(head.headers.get('cache-control')).toContain('no-store');

    // Before any frame: only the boundary line, so ffmpeg's probe sees `--` first.
    const preamble = latin1(`--${boundary}\r\n`);
    await expectBodyExactly(client, preamble);

    const [a, b] = [jpegs[0]!, jpegs[1]!];
    hub.emit(a);
    const afterA = Buffer.concat([
      preamble,
      latin1(`Content-Type: image/jpeg\r\nContent-Length: ${a.length}\r\n\r\n`),
      a,
      latin1(`\r\n--${boundary}\r\n`),
    ]);
    await expectBodyExactly(client, afterA);

    hub.emit(b);
    await expectBodyExactly(
      client,
      Buffer.concat([afterA, latin1(`Content-Type: image/jpeg\r\nContent-Length: ${b.length}\r\n\r\n`), b, latin1(`\r\n--${boundary}\r\n`)]),
    );
  });

  it('sends a browser the next part’s boundary and complete headers right after each frame', async () => {
    const { hub, port } = await serve(new FakeHub());
    const client = await open(port, '/stream.mjpg', BROWSER_UA);
    const boundary = boundaryOf((await client.head()).headers.get('content-type'));
    // Chromium shows a part once the following part's header block is complete, so the block
    // must already be there when the frame's last byte arrives.
    const nextHeaders = latin1(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    await expectBodyExactly(client, nextHeaders);

    const [a, b] = [jpegs[2]!, jpegs[3]!];
    hub.emit(a);
    const afterA = Buffer.concat([nextHeaders, a, latin1('\r\n'), nextHeaders]);
    await expectBodyExactly(client, afterA);
    hub.emit(b);
    await expectBodyExactly(client, Buffer.concat([afterA, b, latin1('\r\n'), nextHeaders]));
  });

  it('sends the next header block after each frame to a player that asks with ?advance_headers=1', async () => {
    const { hub, port } = await serve(new FakeHub());
    const client = await open(port, '/stream.mjpg?advance_headers=1', FFMPEG_UA);
    const boundary = boundaryOf((await client.head()).headers.get('content-type'));
    const nextHeaders = latin1(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    await expectBodyExactly(client, nextHeaders);
    const a = jpegs[4]!;
    hub.emit(a);
    await expectBodyExactly(client, Buffer.concat([nextHeaders, a, latin1('\r\n'), nextHeaders]));
  });

  it('sends Content-Length to a browser that asks with ?advance_headers=0', async () => {
    const { hub, port } = await serve(new FakeHub());
    const client = await open(port, '/stream.mjpg?advance_headers=0', BROWSER_UA);
    const boundary = boundaryOf((await client.head()).headers.get('content-type'));
    const preamble = latin1(`--${boundary}\r\n`);
    await expectBodyExactly(client, preamble);
    const a = jpegs[5]!;
    hub.emit(a);
    await expectBodyExactly(
      client,
      Buffer.concat([preamble, latin1(`Content-Type: image/jpeg\r\nContent-Length: ${a.length}\r\n\r\n`), a, latin1(`\r\n--${boundary}\r\n`)]),
    );
  });

  it('ends the stream with the closing boundary when the server closes', async () => {
    for (const ua of [FFMPEG_UA, BROWSER_UA]) {
      const { hub, port } = await serve(new FakeHub());
      const client = await open(port, '/stream.mjpg', ua);
      const boundary = boundaryOf((await client.head()).headers.get('content-type'));
      hub.emit(jpegs[0]!);
      await client.until(() => client.body().length > jpegs[0]!.length, 5_000, 'the first frame');
      const closed = running!.close();
      running = undefined;
      await closed;
      await client.until(() => client.closed, 5_000, 'the connection to close');
      const final = new MultipartReader(boundary);
      final.push(client.body());
      expect(final.parts.map((p) => p.body.equals(jpegs[0]!))).toEqual([true]);
      expect(final.ended).toBe(true);
    }
  });
});

describe('GET /stream.mjpg delivery', () => {
  for (const [name, ua] of [['a player', FFMPEG_UA], ['a browser', BROWSER_UA]] as const) {
    it(`delivers every frame of a steady source to ${name}, parsed part by part`, async () => {
      const { hub, port } = await serve(new FakeHub());
      const client = await open(port, '/stream.mjpg', ua);
      const reader = new MultipartReader(boundaryOf((await client.head()).headers.get('content-type')));
      const sent: Buffer[] = [];
      for (const jpeg of jpegs) {
        sent.push(hub.emit(jpeg).jpeg);
        await sleep(10);
      }
      await client.until(() => client.body().length >= sent.reduce((n, j) => n + j.length, 0), 10_000, 'all frames');
      await sleep(100);
      reader.push(client.body());
      expect(reader.parts.length).toBe(sent.length);
      reader.parts.forEach((part, i) => {
        expect(part.headers.get('content-type')).toBe('image/jpeg');
        if (ua === FFMPEG_UA) expect(part.headers.get('content-length')).toBe(String(sent[i]!.length));
        expect(part.body.equals(sent[i]!)).toBe(true);
        expect(readJpegInfo(part.body)).toEqual({ width: 320, height: 240 });
      });
    });
  }

  it('sends the newest frame at once to a viewer that connects while the source is quiet', async () => {
    const { hub, port } = await serve(new FakeHub());
    hub.emit(jpegs[0]!);
    const newest = hub.emit(jpegs[1]!).jpeg;
    const client = await open(port, '/stream.mjpg', FFMPEG_UA);
    const boundary = boundaryOf((await client.head()).headers.get('content-type'));
    await client.until(() => client.body().length > newest.length, 5_000, 'the first part');
    await sleep(100);
    const reader = new MultipartReader(boundary);
    reader.push(client.body());
    expect(reader.parts).toHaveLength(1);
    expect(reader.parts[0]!.body.equals(newest)).toBe(true);
  });

  it('answers a bad ?fps with 400 and a JSON error', async () => {
    const { port } = await serve(new FakeHub());
    for (const fps of ['0', '-5', 'abc', '1e3', '100000']) {
      const res = await fetch(`http://127.0.0.1:${port}/stream.mjpg?fps=${fps}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
  });

  it('registers a viewer as an http streaming client and unsubscribes when it leaves', async () => {
    const { hub, registry, port } = await serve(new FakeHub());
    const client = await open(port, '/stream.mjpg', FFMPEG_UA);
    await client.head();
    await waitUntil(() => hub.subscribers === 1, 5_000, 'the subscription');
    const [stats] = registry.list();
    expect(stats).toMatchObject({ protocol: 'http', mode: 'streaming', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    hub.emit(jpegs[0]!);
    hub.emit(jpegs[1]!);
    await client.until(() => registry.list()[0]?.framesSent === 2, 5_000, 'two frames reported sent');
    expect(registry.list()[0]!.bytesSent).toBeGreaterThan(jpegs[0]!.length + jpegs[1]!.length);

    client.close();
    await waitUntil(() => hub.subscribers === 0 && registry.list().length === 0, 5_000, 'cleanup');
    expect(hub.subscriptions).toBe(1);
  });

  it('answers HEAD with the stream headers without starting the capture', async () => {
    const { hub, registry, port } = await serve(new FakeHub());
    const res = await fetch(`http://127.0.0.1:${port}/stream.mjpg`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    expect(hub.subscriptions).toBe(0);
    expect(registry.all).toHaveLength(0);
  });
});

describe('GET /stream.mjpg with slow viewers', () => {
  it('keeps a viewer that never reads to a bounded buffer, counts its drops, and does not slow a reading viewer', async () => {
    const big = await testPatternJpegs(1280, 720, 10);
    const largestPart = Math.max(...big.map((j) => j.length)) + 200;
    const { hub, registry, port } = await serve(new FakeHub(1280, 720, 60));

    const stalled = await open(port, '/stream.mjpg', FFMPEG_UA);
    await stalled.head();
    stalled.socket.pause(); // never reads again: the kernel buffers fill, then the server's
    const healthy = await open(port, '/stream.mjpg', FFMPEG_UA);
    const boundary = boundaryOf((await healthy.head()).headers.get('content-type'));
    await waitUntil(() => hub.subscribers === 2, 5_000, 'both subscriptions');

    let maxBuffered = 0;
    const sampler = setInterval(() => {
      for (const s of running!.sockets) maxBuffered = Math.max(maxBuffered, s.writableLength);
    }, 5);
    hub.play(big, 60);
    // Play until the kernel's buffers for the stalled viewer are full and the server starts
    // dropping for it: how long that takes depends on the machine's load, not on a fixed time.
    await waitUntil(() => (registry.list()[0]?.dropped ?? 0) >= 3, 60_000, 'the stalled viewer to drop frames');
    hub.stop();
    clearInterval(sampler);
    // Everything the server wrote to the healthy viewer has arrived (its body also holds the
    // boundary sent before the first frame, which is not counted as a frame's bytes).
    await healthy.until(() => healthy.body().length >= registry.list()[1]!.bytesSent, 10_000, 'the healthy viewer to catch up');

    const emitted = hub.info().framesCaptured;
    const reader = new MultipartReader(boundary);
    reader.push(healthy.body());
    const [stalledStats, healthyStats] = registry.list();

    // The stalled viewer's socket took what the kernel would hold and then nothing more; the
    // server never held more than one part for it.
    expect(maxBuffered).toBeLessThanOrEqual(largestPart);
    expect(stalledStats!.dropped).toBeGreaterThan(0);
    expect(stalledStats!.framesSent + stalledStats!.dropped).toBeLessThanOrEqual(emitted);
    // The healthy one got (nearly) every frame.
    expect(healthyStats!.dropped).toBeLessThanOrEqual(emitted * 0.1);
    expect(reader.parts.length).toBeGreaterThanOrEqual(emitted * 0.8);
  }, 90_000);

  it('disconnects a viewer that has not drained within the stall timeout', async () => {
    const big = await testPatternJpegs(1280, 720, 10);
    const { hub, registry, port } = await serve(new FakeHub(1280, 720, 60), new RecordingRegistry(), { stallTimeoutMs: 1_000 });
    const stalled = await open(port, '/stream.mjpg', FFMPEG_UA);
    await stalled.head();
    stalled.socket.pause();
    await waitUntil(() => hub.subscribers === 1, 5_000, 'the subscription');
    hub.play(big, 60);
    try {
      await waitUntil(() => hub.subscribers === 0 && registry.list().length === 0, 15_000, 'the stalled viewer to be cut off');
    } finally {
      hub.stop();
    }
    expect(registry.all[0]!.dropped).toBeGreaterThan(0);
  });
});
