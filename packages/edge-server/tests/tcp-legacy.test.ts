// Legacy (seed) clients against a real server on loopback, fed by ffmpeg's test pattern.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { LegacyClient, V2Client } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const FPS = 20;
let server: TestServer;
const clients: LegacyClient[] = [];

async function client(): Promise<LegacyClient> {
  const c = await LegacyClient.connect(server.tcpPort);
  clients.push(c);
  return c;
}

/** Waits until no frame has arrived for `quietMs`, then returns the count. */
async function settled(c: LegacyClient, quietMs = 400): Promise<number> {
  let last = -1;
  while (c.frames.length !== last) {
    last = c.frames.length;
    await sleep(quietMs);
  }
  return last;
}

beforeAll(async () => {
  server = await startTestServer({ fps: FPS, idleStop: 2 });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('legacy clients', () => {
  it('answers the seed client\'s glued "01" with exactly one whole JPEG of the configured size', async () => {
    const c = await client();
    c.write('01');
    const [frame] = await c.waitForFrames(1);
    expect(isWholeJpeg(frame!)).toBe(true);
    expect(readJpegInfo(frame!)).toEqual({ width: 160, height: 120 });
    expect(await settled(c)).toBe(1);
    expect(c.partialBytes).toBe(0);
  });

  it('runs the seed client\'s whole session, each step glued as it sends it: "01", "30", "q", "22"', async () => {
    const c = await client();
    c.write('01');
    await c.waitForFrames(1);
    c.write('30');
    await c.waitForFrames(1 + 10);
    c.write('q');
    const afterStop = await settled(c);
    await sleep(300);
    expect(c.frames.length).toBe(afterStop);
    c.write('22');
    await c.waitClosed();
    expect(c.frames.every((f) => isWholeJpeg(f))).toBe(true);
    expect(c.partialBytes).toBe(0);
  });

  it('serves several seed-style clients at once, each its own single frames and stream', async () => {
    const cs = await Promise.all([client(), client(), client(), client(), client()]);
    for (const c of cs) c.write('01');
    await Promise.all(cs.map((c) => c.waitForFrames(1)));
    for (const c of cs) c.write('30');
    await Promise.all(cs.map((c) => c.waitForFrames(1 + 8)));
    for (const c of cs) c.write('q');
    await Promise.all(cs.map((c) => settled(c)));
    for (const c of cs) c.write('22');
    await Promise.all(cs.map((c) => c.waitClosed()));
    for (const c of cs) expect(c.frames.every((f) => isWholeJpeg(f))).toBe(true);
  });

  it('takes commands glued in one packet and split across packets alike', async () => {
    const c = await client();
    // "0" then "3" then "q" then "0" in one packet: a frame, a stream (maybe empty), a frame.
    c.write('03q0');
    await c.waitForFrames(2);
    const n = await settled(c);
    expect(n).toBeGreaterThanOrEqual(2);
    // The same commands one byte per packet, with netcat-style newlines in between.
    for (const b of ['3', '\n']) {
      c.write(b);
      await sleep(20);
    }
    await c.waitForFrames(n + 5);
    for (const b of ['q', '\r\n']) {
      c.write(b);
      await sleep(20);
    }
    const stopped = await settled(c);
    c.write('0');
    await c.waitForFrames(stopped + 1);
    expect(await settled(c)).toBe(stopped + 1);
  });

  it('skips unknown bytes without writing anything, and stays in sync', async () => {
    const c = await client();
    c.write(Buffer.from('hello\x00\xffE!', 'latin1'));
    await sleep(400);
    expect(c.bytesReceived).toBe(0);
    expect(c.ended).toBe(false);
    c.write('0');
    await c.waitForFrames(1);
    expect(await settled(c)).toBe(1);
    await waitUntil(
      () => server.log.lines.some((l) => l.msg === 'unknown command byte skipped' && l.byte === '0x68'),
      2000,
      'the unknown byte to be logged',
    );
  });

  it('ends only the session that sends 2', async () => {
    const a = await client();
    const b = await client();
    a.write('3');
    b.write('3');
    await Promise.all([a.waitForFrames(3), b.waitForFrames(3)]);
    a.write('2');
    await a.waitClosed();
    const before = b.frames.length;
    await b.waitForFrames(before + 5);
    expect(b.ended).toBe(false);
    b.write('q');
  });

  it('lets one client stream while another takes single frames, without interfering', async () => {
    const streamer = await client();
    const single = await client();
    streamer.write('3');
    await streamer.waitForFrames(2);
    const capturedBefore = server.hub.info().framesCaptured;
    const start = streamer.frames.length;
    for (let i = 1; i <= 5; i++) {
      single.write('0');
      await single.waitForFrames(i);
      single.write('1');
      await sleep(150);
    }
    // The streamer kept up with what the source produced meanwhile, counted, not per second
    // (one frame of slack for the one in flight).
    const captured = server.hub.info().framesCaptured - capturedBefore;
    const streamed = streamer.frames.length - start;
    // Exactly one frame per request, never a frame of the other client's stream.
    expect(await settled(single, 300)).toBe(5);
    expect(captured).toBeGreaterThan(0);
    expect(streamed).toBeGreaterThanOrEqual(captured * 0.8 - 1);
    streamer.write('q');
  });

  it('logs once a second for a streaming client: frames sent, fps, dropped and kbit/s', async () => {
    const c = await client();
    c.write('3');
    await waitUntil(
      () => server.log.lines.some((l) => l.msg === 'streaming' && typeof l.kbps === 'number' && (l.sent as number) > 0),
      5000,
      'a stats line',
    );
    const line = server.log.lines.find((l) => l.msg === 'streaming' && (l.sent as number) > 0)!;
    expect(line).toMatchObject({ protocol: 'legacy', dropped: expect.any(Number), fps: expect.any(Number) });
    c.write('q');
  });

  it('counts clients, frames and bytes by protocol in the metrics', async () => {
    const c = await client();
    c.write('0');
    await c.waitForFrames(1);
    const text = await server.metrics.text();
    expect(text).toMatch(/edgecam_frames_sent_total\{protocol="legacy"\} [1-9]/);
    expect(text).toMatch(/edgecam_bytes_sent_total\{protocol="legacy"\} [1-9]/);
    expect(text).toMatch(/edgecam_clients\{protocol="legacy"\} [1-9]/);
    expect(text).toMatch(/edgecam_capture_to_send_seconds_count\{protocol="legacy"\} [1-9]/);
    const listed = server.registry.list().filter((s) => s.protocol === 'legacy');
    expect(listed.length).toBeGreaterThan(0);
  });
});

describe('--max-clients', () => {
  it('closes a legacy client over the limit and answers a v2 one with TOO_MANY_CLIENTS', async () => {
    const limited = await startTestServer({ maxClients: 1 });
    try {
      const first = await LegacyClient.connect(limited.tcpPort);
      first.write('1');
      await waitUntil(() => limited.registry.count('legacy') === 1, 5000, 'the first client to register');
      const second = await LegacyClient.connect(limited.tcpPort);
      second.write('0');
      await second.waitClosed();
      expect(second.bytesReceived).toBe(0);
      const v2 = await V2Client.connect(limited.tcpPort);
      await v2.waitFor('welcome');
      const v2b = await V2Client.connect(limited.tcpPort);
      const [err] = await v2b.waitFor('error');
      expect(err!.error.code).toBe('TOO_MANY_CLIENTS');
      await v2b.waitClosed();
      first.write('0');
      await first.waitForFrames(1);
      first.close();
      v2.close();
    } finally {
      await limited.close();
    }
  });
});
