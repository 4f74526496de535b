// The shared H.264 encoder against the real ffmpeg: one child for all sinks, started by the
// first, stopped after the last; joiners and slow sinks start at a keyframe.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { H264Hub, type H264Sink } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import type { AccessUnit } from '../src/h264/access-units.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { alive } from './support/processes.js';
import { waitUntil } from './support/wait.js';

let jpegs: Buffer[] = [];
beforeAll(async () => {
  jpegs = await testPatternJpegs(320, 240, 30);
});

const hubs: H264Hub[] = [];
const cams: FakeHub[] = [];
afterEach(async () => {
  for (const c of cams.splice(0)) c.stop();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

function makeHub(config: Record<string, unknown> = {}): { cam: FakeHub; hub: H264Hub } {
  const cam = new FakeHub(320, 240, 30);
  const hub = new H264Hub(
    { name: 'front', hub: cam, logger: memoryLogger('warn').logger },
    h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: 0.5, idleStopMs: 100, ...config }),
    { ffmpeg: resolveFfmpeg(), fps: 30 },
  );
  cams.push(cam);
  hubs.push(hub);
  cam.play(jpegs, 30);
  return { cam, hub };
}

class Collector implements H264Sink {
  units: AccessUnit[] = [];
  busy = false;
  ready(): boolean {
    return !this.busy;
  }
  send(unit: AccessUnit): void {
    this.units.push(unit);
  }
}

describe('H264Hub', () => {
  it('encodes the camera once for all sinks and starts each sink at a keyframe with SPS/PPS', async () => {
    const { cam, hub } = makeHub();
    const a = new Collector();
    const detachA = hub.attach(a);
    await waitUntil(() => a.units.length >= 20, 20_000, 'units for the first sink');
    const pid = hub.pid;
    const b = new Collector();
    const detachB = hub.attach(b);
    await waitUntil(() => b.units.length >= 5, 20_000, 'units for the joiner');
    expect(hub.pid).toBe(pid);
    expect(cam.subscribers).toBe(1);
    for (const c of [a, b]) {
      expect(c.units[0]!.keyframe).toBe(true);
      expect(c.units[0]!.hasConfig).toBe(true);
    }
    // Timestamps are the capture times of the frames, in order.
    const ts = a.units.map((u) => u.timestampUs);
    expect([...ts].sort((x, y) => x - y)).toEqual(ts);
    detachA();
    detachB();
    await waitUntil(() => !hub.running && (pid === undefined || !alive(pid)), 10_000, 'the encoder to stop when idle');
    expect(cam.subscribers).toBe(0);
  }, 60_000);

  it('lets a sink that is not ready skip to the next keyframe, counting what it skipped', async () => {
    const { hub } = makeHub();
    const slow = new Collector();
    const fast = new Collector();
    hub.attach(slow);
    hub.attach(fast);
    await waitUntil(() => slow.units.length >= 3, 20_000, 'first units');
    slow.busy = true;
    const sentBefore = slow.units.length;
    await waitUntil(() => (hub.statsOf(slow)?.skipped ?? 0) >= 5, 20_000, 'skips');
    slow.busy = false;
    await waitUntil(() => slow.units.length > sentBefore, 20_000, 'the slow sink to resume');
    expect(slow.units[sentBefore]!.keyframe).toBe(true);
    expect(fast.units.length).toBeGreaterThan(slow.units.length);
  }, 60_000);

  it('reports its state, encoder, frames, keyframes, consumers and bitrate in stats()', async () => {
    const { hub } = makeHub();
    expect(hub.stats()).toMatchObject({ state: 'idle', encoder: 'libx264', frames: 0, units: 0, consumers: 0, bitrateKbps: 0 });
    const sink = new Collector();
    const detach = hub.attach(sink);
    await waitUntil(() => hub.stats().bitrateKbps > 0 && sink.units.filter((u) => u.keyframe).length >= 2, 30_000, 'a bitrate and two keyframes');
    const stats = hub.stats();
    expect(stats).toMatchObject({ state: 'running', encoder: 'libx264', consumers: 1, restarts: 0 });
    expect(stats.frames).toBeGreaterThanOrEqual(stats.units);
    expect(stats.keyframes).toBeGreaterThanOrEqual(2);
    expect(stats.units).toBeGreaterThan(stats.keyframes);
    detach();
    await waitUntil(() => hub.stats().state === 'idle', 10_000, 'idle after the last sink');
    expect(hub.stats()).toMatchObject({ consumers: 0, bitrateKbps: 0 });
  }, 60_000);

  it('names the config key and the encoders available when the encoder is missing', async () => {
    const { hub } = makeHub({ encoder: 'h264_nonesuch' });
    await expect(hub.checkEncoder()).rejects.toThrow(/camera front: h264\.encoder "h264_nonesuch" is not in .*; set h264\.encoder to one it offers: .*libx264/);
  });
});
