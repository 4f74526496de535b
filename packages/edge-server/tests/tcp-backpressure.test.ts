// A client that never reads beside one that does. The source is a fake ffmpeg sending large
// frames (about 200 kB at 25 fps, 5 MB/s) so the stalled client's socket buffers fill in
// moments, while costing almost no CPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacyClient, V2Client } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { padJpeg, testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const FPS = 25;
const FRAME_BYTES = 200_000;
let server: TestServer;
let frameBytes: number;

beforeAll(async () => {
  const [small] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
  const jpeg = padJpeg(small, FRAME_BYTES);
  frameBytes = jpeg.length;
  const ffmpeg = makeFakeFfmpeg({ jpeg, fps: FPS });
  // A control budget large enough for the 8000 PINGs below: this file tests the PONG backlog
  // guard; the budget that would otherwise stop them first is tested in tcp-control-flood.test.ts.
  server = await startTestServer({ fps: FPS }, { ffmpeg, tcpLimits: { controlBurst: 100_000 } });
});

afterAll(async () => {
  await server.close();
});

describe('a client that never reads', () => {
  it('costs the server at most about one frame of memory, never slows a healthy client, and is dropped if it floods PINGs', async () => {
    const stalled = await LegacyClient.connect(server.tcpPort);
    stalled.socket.pause(); // reads nothing from here on: the kernel buffers fill, then ours would
    const stalledV2 = await V2Client.connect(server.tcpPort);
    await stalledV2.waitFor('welcome');
    stalledV2.socket.pause();
    const healthy = await LegacyClient.connect(server.tcpPort);
    stalled.write('3');
    stalledV2.command('3');
    healthy.write('3');
    await healthy.waitForFrames(FPS); // a second of warm-up; the stalled sockets fill meanwhile

    let peakQueued = 0;
    const start = healthy.frames.length;
    const capturedBefore = server.hub.info().framesCaptured;
    const t0 = performance.now();
    while (performance.now() - t0 < 3000) {
      for (const q of server.tcp.queuedBytes()) peakQueued = Math.max(peakQueued, q.bytes);
      await sleep(25);
    }
    const captured = server.hub.info().framesCaptured - capturedBefore;

    // The healthy one keeps the source's rate: at least 80% of what the source produced meanwhile
    // (measured, not nominal, so a loaded machine that slows the fake camera does not fail it;
    // one frame of slack for the one in flight).
    expect(captured).toBeGreaterThan(FPS * 3 * 0.5);
    expect(healthy.frames.length - start).toBeGreaterThanOrEqual(captured * 0.8 - 1);
    // Whatever a stalled client does not take waits in the kernel or is dropped: user space
    // holds at most the frame in flight (plus its header).
    expect(peakQueued).toBeLessThanOrEqual(frameBytes + 64);
    const stats = server.registry.list();
    const stalledStats = stats.filter((s) => s.framesSent < healthy.frames.length / 2);
    expect(stalledStats).toHaveLength(2);
    for (const s of stalledStats) expect(s.dropped).toBeGreaterThan(FPS);
    const healthyStats = stats.find((s) => s.framesSent >= healthy.frames.length)!;
    expect(healthyStats.dropped).toBeLessThan(healthyStats.framesSent * 0.2);
    expect(await server.metrics.text()).toMatch(/edgecam_frames_dropped_total\{protocol="v2"\} [1-9]/);

    // PINGs from a client that reads nothing would queue PONGs without bound: it is dropped.
    const pings = Buffer.concat(Array.from({ length: 8000 }, (_, i) => {
      const m = Buffer.alloc(13);
      m[0] = 0x03;
      m.writeUInt32BE(8, 1);
      m.writeUInt32BE(i, 9);
      return m;
    }));
    stalledV2.write(pings);
    await waitUntil(() => server.registry.count('v2') === 0, 10_000, 'the flooding client to be dropped');
    expect(server.log.lines.some((l) => l.msg === 'client sends PINGs but reads nothing; closing')).toBe(true);

    // Once it reads again it gets current frames, not a backlog.
    const before = stalled.frames.length;
    stalled.socket.resume();
    await waitUntil(() => stalled.frames.length > before + FPS, 10_000, 'the stalled client to catch up');
    stalled.close();
    stalledV2.close();
    healthy.close();
  });
});
