// record: {format: mp4}: the camera's one H.264 encoder recorded as fragmented MP4 segments that
// start at keyframes and play in ffprobe with the frames the listing says; a camera loss closes
// the segment; a segment a crash left is made whole at start; a time range reads as one MP4; and
// a camera without h264 asking for mp4 is refused with the fix.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspectMp4, readMp4Join } from '@edgecam/recorder';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { recordingFeature } from '../src/recording/recording-feature.js';
import { startRecording, type RecordingHandle } from '../src/recording/recording-sink.js';
import { recordConfigSchema } from '../src/recording/record-config.js';
import { startEdgeServer } from '../src/server.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { ffprobeFrames, testPatternH264, writeMp4Segment } from './recording-fixtures/mp4-helpers.js';
import { waitForLine } from './recording-fixtures/recording-helpers.js';
import { config } from './support/config.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { childrenOf } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const noFfprobe = missingPlayer('ffprobe');
let jpegs: Buffer[];
let dir: string;
const cleanups: Array<() => Promise<void> | void> = [];
const bigDisk = async (): Promise<{ free: number }> => ({ free: 1e12 });

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 30);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A camera playing the test pattern, its H.264 encoder, and an MP4 recording of it. */
async function recordMp4(record: Record<string, unknown> = {}, deps: Parameters<typeof startRecording>[2] = {}) {
  dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-mp4-'));
  const cam = new FakeHub(160, 120, 20);
  const { logger, lines } = memoryLogger('debug');
  const ctx = { name: 'front', hub: cam, logger };
  const hub = new H264Hub(ctx, h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: 0.5, idleStopMs: 100 }), { ffmpeg: resolveFfmpeg(), fps: 20 });
  const rec: RecordingHandle = startRecording(ctx, recordConfigSchema.parse({ dir, format: 'mp4', ...record }), { statfs: bigDisk, recorder: { fsync: false }, ...deps }, hub.units$);
  cleanups.push(() => hub.close(), () => cam.stop(), () => rec.close());
  cam.play(jpegs, 20);
  return { cam, hub, rec, lines };
}

/** ffmpeg processes of this test process that encode with libx264. */
function encoders(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('libx264');
    } catch {
      return false;
    }
  });
}

describe('record: {format: mp4}', () => {
  it('records the encoder it shares into segments that start at keyframes, listed with their frames', async () => {
    const { hub, rec } = await recordMp4({ segment: '1s' });
    await waitUntil(() => hub.stats().units > 0, 30_000, 'the encoder to run');
    // One encoder: the recording is one of its sinks, not a second ffmpeg.
    expect(encoders()).toHaveLength(1);
    expect(hub.stats().consumers).toBe(1);
    let closed = 0;
    await waitUntil(() => {
      void rec.store.list().then((l) => (closed = l.filter((e) => !e.recording).length));
      return closed >= 2;
    }, 30_000, 'two closed segments');
    expect(rec.status()).toMatchObject({ format: 'mp4', state: 'recording' });
    await rec.close();
    const list = await rec.store.list();
    expect(list.length).toBeGreaterThanOrEqual(3);
    for (const e of list) {
      expect(e).toMatchObject({ camera: 'front', format: 'mp4', recording: false, problems: [] });
      expect(e.file).toMatch(/^\d{13}_\d{3}\.mp4$/);
      const info = await inspectMp4(join(dir, 'front', e.file));
      expect(info.frames).toBe(e.frames);
      expect(info.fragments[0]!.keyframe).toBe(true);
      expect(e.endMs - e.startMs).toBe(Math.round(info.durationSeconds * 1000));
    }
    // Every segment but the last reached the segment length before the keyframe that ended it.
    for (const e of list.slice(0, -1)) expect(e.endMs - e.startMs).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it('closes the segment when the camera is lost and starts a new one when it returns', async () => {
    const { cam, rec, lines } = await recordMp4({}, { gapMs: 400 });
    await waitUntil(() => rec.status().framesWritten >= 20, 30_000, 'pictures recorded');
    cam.stop();
    await waitForLine(lines, 'no frames from the camera; segment closed until they return', {}, 20_000);
    cam.play(jpegs, 20);
    await waitUntil(() => rec.status().state === 'recording', 30_000, 'the recording to resume');
    const written = rec.status().framesWritten;
    await waitUntil(() => rec.status().framesWritten >= written + 10, 30_000, 'pictures after the loss');
    await rec.close();
    const list = await rec.store.list();
    expect(list).toHaveLength(2);
    expect(list[1]!.startMs).toBeGreaterThanOrEqual(list[0]!.endMs);
  }, 60_000);

  it('reads a time range of its segments as one MP4 from the keyframe at or before its start', async () => {
    const { rec } = await recordMp4({ segment: '1s' });
    let list = await rec.store.list();
    await waitUntil(() => {
      void rec.store.list().then((l) => (list = l));
      return list.filter((e) => !e.recording).length >= 2;
    }, 30_000, 'two closed segments');
    await rec.close();
    list = await rec.store.list();
    const from = list[0]!.startMs + 700;
    const to = list[1]!.endMs - 100;
    const plan = await rec.store.planMp4(from, to);
    expect(plan.startMs).toBeLessThanOrEqual(from);
    expect(plan.parts.map((p) => p.path.slice(-21))).toEqual([list[0]!.file, list[1]!.file]);
    const chunks: Buffer[] = [];
    for await (const c of readMp4Join(plan)) chunks.push(c);
    const out = join(dir, 'range.mp4');
    await writeFile(out, Buffer.concat(chunks));
    expect(await inspectMp4(out)).toMatchObject({ frames: plan.frames, problems: [], indexed: true });
  }, 60_000);
});

describe('segments a crash left', () => {
  it('are made whole when the recording starts, keeping every whole frame', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-mp4-'));
    const units = await testPatternH264(30);
    const path = await writeMp4Segment(join(dir, 'front'), Date.now() - 60_000, units);
    // Cut inside the last fragment, as a copy interrupted half way would be.
    const size = (await readFile(path)).length;
    await truncate(path, size - 300);
    const before = await inspectMp4(path);
    expect(before.problems.map((p) => p.code)).toContain('TRUNCATED');
    const { logger, lines } = memoryLogger('debug');
    const cam = new FakeHub(160, 120, 20);
    const rec = startRecording({ name: 'front', hub: cam, logger }, recordConfigSchema.parse({ dir }), { statfs: bigDisk });
    cleanups.push(() => rec.close());
    await waitForLine(lines, 'repaired an unfinished recording');
    expect(await inspectMp4(path)).toMatchObject({ frames: before.frames, problems: [], indexed: true });
  });
});

describe.skipIf(noFfprobe)(titled('ffprobe on the recorded segments', noFfprobe), () => {
  it('counts exactly the frames the listing gives, without an error', async () => {
    const { rec } = await recordMp4({ segment: '1s' });
    await waitUntil(() => rec.status().framesWritten >= 50, 30_000, 'pictures recorded');
    await rec.close();
    const list = await rec.store.list();
    for (const e of list) expect(await ffprobeFrames(join(dir, 'front', e.file)), e.file).toMatchObject({ frames: e.frames, errors: '', width: 160, height: 120 });
  }, 60_000);
});

describe('record.format mp4 without H.264', () => {
  it('is refused with the key and the fix, by the feature and by the server', async () => {
    expect(() => recordingFeature.check!('front', { record: recordConfigSchema.parse({ dir: '/rec', format: 'mp4' }), h264: null })).toThrow(
      "camera front: record.format mp4 records the camera's H.264, which is off; add h264: {enabled: true} to the camera, or set record.format: avi",
    );
    expect(() => recordingFeature.check!('front', { record: recordConfigSchema.parse({ dir: '/rec', format: 'mp4' }), h264: { enabled: true } })).not.toThrow();
    dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-mp4-'));
    const file = join(dir, 'edgecam.yaml');
    writeFileSync(file, ['cameras:', '  front:', '    source: testsrc', `    record: {dir: ${dir}, format: mp4}`, ''].join('\n'));
    const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
    await expect(startEdgeServer(c, { logger: memoryLogger('silent').logger })).rejects.toThrow(
      "camera front: record.format mp4 records the camera's H.264, which is off; add h264: {enabled: true} to the camera, or set record.format: avi",
    );
  });
});
