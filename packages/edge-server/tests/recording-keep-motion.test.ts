// record.keep.mode motion: a recording fed two motion events (scripted, with the times of
// segments already recorded; and the detector's, on a scene where a box crosses twice) keeps, once past motionOnlyAfter, only the stretches of those
// events plus the rolls: MP4 segments are cut at keyframes into pieces ffprobe plays with the
// frames listed, segments without motion go, the listing shows each piece's motion, and a
// restart keeps the stretches (motion.json). mode all keeps everything; AVI keeps whole segments.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import type { CameraEvent } from '../src/contracts.js';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { MAX_STRETCHES, MOTION_LOG_FILE, MotionLog } from '../src/recording/motion-log.js';
import { recordingFeature } from '../src/recording/recording-feature.js';
import { startRecording, type RecordingHandle } from '../src/recording/recording-sink.js';
import { recordConfigSchema } from '../src/recording/record-config.js';
import type { RecordingEntry } from '../src/recording/recordings-store.js';
import { motionConfigSchema } from '../src/motion/motion-config.js';
import { startMotion } from '../src/motion/start-motion.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { ffprobeFrames } from './recording-fixtures/mp4-helpers.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';

const noFfprobe = missingPlayer('ffprobe');
const ROLL_MS = 500;
/** The encoder's keyframe interval: a cut starts at most this much before its stretch. */
const GOP_MS = 500;
let jpegs: Buffer[];
let dir: string | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
const bigDisk = async (): Promise<{ free: number }> => ({ free: 1e12 });

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 30);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Polls `read` every 200 ms until it gives something; the deadline is the only clock. */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await read();
    if (got !== undefined) return got;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A camera, its H.264 encoder (a keyframe every 0.5 s) and a recording fed `events`. */
async function record(format: 'mp4' | 'avi', keep: Record<string, unknown>, events = new Subject<CameraEvent>()) {
  dir ??= await mkdtemp(join(tmpdir(), 'edgecam-keep-'));
  const root = dir;
  const cam = new FakeHub(160, 120, 20);
  const { logger, lines } = memoryLogger('debug');
  const ctx = { name: 'front', hub: cam, logger };
  const hub = format === 'mp4' ? new H264Hub(ctx, h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: GOP_MS / 1000, idleStopMs: 100 }), { ffmpeg: resolveFfmpeg(), fps: 20 }) : undefined;
  const cfg = recordConfigSchema.parse({ dir: root, format, segment: '2s', keep });
  const rec: RecordingHandle = startRecording(ctx, cfg, { statfs: bigDisk, recorder: { fsync: false }, checkIntervalMs: 300 }, hub?.units$, events);
  cleanups.push(() => hub?.close(), () => cam.stop(), () => rec.close());
  cam.play(jpegs, 20);
  return { rec, events, lines, stop: async () => { await rec.close(); cam.stop(); await hub?.close(); } };
}

/** The first `n` closed segments with frames, once there are that many. */
function closedSegments(rec: RecordingHandle, n: number): Promise<RecordingEntry[]> {
  return eventually(async () => {
    const closed = (await rec.store.list()).filter((e) => !e.recording && e.frames > 0);
    return closed.length >= n ? closed.slice(0, n) : undefined;
  }, `${n} closed segments`);
}

/** A motion event from `fromMs` to `toMs`, as the detector sends it (start, then end). */
function motion(events: Subject<CameraEvent>, id: string, fromMs: number, toMs: number): void {
  events.next({ id, camera: 'front', type: 'motion', phase: 'start', startedAt: fromMs, score: 0.5 });
  events.next({ id, camera: 'front', type: 'motion', phase: 'end', startedAt: fromMs, endedAt: toMs, score: 0.5 });
}

/** A stretch as the listing gives it. */
function span(s: { fromMs: number; toMs: number }) {
  return { from: new Date(s.fromMs).toISOString(), to: new Date(s.toMs).toISOString(), fromMs: s.fromMs, toMs: s.toMs };
}

describe('record.keep.mode motion', () => {
  it.skipIf(noFfprobe)(titled('keeps only the two events plus rolls past motionOnlyAfter, cut into MP4s ffprobe plays; a restart keeps the stretches', noFfprobe), async () => {
    const keep = { mode: 'motion', motionOnlyAfter: '8s', preRoll: `${ROLL_MS}ms`, postRoll: `${ROLL_MS}ms` };
    const first = await record('mp4', keep);
    const [s1, s2, s3] = await closedSegments(first.rec, 3);
    const a = { fromMs: s1!.startMs + 700, toMs: s1!.startMs + 1100 };
    const b = { fromMs: s2!.startMs + 900, toMs: s2!.startMs + 1200 };
    motion(first.events, 'front-a', a.fromMs, a.toMs);
    motion(first.events, 'front-b', b.fromMs, b.toMs);
    const before = new Map([s1!, s2!, s3!].map((e) => [e.file, e.frames]));

    // Done once s3 (no motion) is gone and s1, s2 are cut (a piece may keep its original's name).
    const kept = await eventually(async () => {
      const old = (await first.rec.store.list()).filter((e) => e.startMs <= s3!.startMs);
      const done = !old.some((e) => e.file === s3!.file) && old.every((e) => !before.has(e.file) || e.frames < before.get(e.file)!);
      return done && old.length > 0 ? old : undefined;
    }, 'the segments past motionOnlyAfter to be cut to their motion');

    const stretches = [a, b].map((s) => ({ fromMs: s.fromMs - ROLL_MS, toMs: s.toMs + ROLL_MS }));
    expect(kept).toHaveLength(2);
    for (const [i, e] of kept.entries()) {
      const s = stretches[i]!;
      // From the keyframe at or before the pre-roll, to the last frame at or before the post-roll.
      expect(e.startMs).toBeLessThanOrEqual(s.fromMs);
      expect(e.startMs).toBeGreaterThan(s.fromMs - GOP_MS - 100);
      expect(e.endMs).toBeGreaterThan(s.toMs - 100);
      expect(e.endMs).toBeLessThanOrEqual(s.toMs + 100);
      expect(e.motion).toEqual([span(i === 0 ? a : b)]);
      expect(await ffprobeFrames(join(dir!, 'front', e.file)), e.file).toMatchObject({ frames: e.frames, errors: '', width: 160, height: 120 });
    }
    expect(first.lines.some((l) => String(l.msg).includes('cut to its motion'))).toBe(true);

    // A restart: the stretches come back from motion.json, and the pieces stay as they are.
    await first.stop();
    expect(existsSync(join(dir!, 'front', MOTION_LOG_FILE))).toBe(true);
    const second = await record('mp4', keep);
    const last = (await second.rec.store.list()).at(-1)!;
    // Once the second run has recorded a segment of its own, it has loaded and run retention.
    await eventually(async () => ((await second.rec.store.list()).some((e) => !e.recording && e.startMs > last.startMs) ? true : undefined), 'a segment of the second run');
    const again = (await second.rec.store.list()).filter((e) => e.startMs <= s3!.startMs);
    expect(again.map((e) => [e.file, e.frames, e.motion])).toEqual(kept.map((e) => [e.file, e.frames, e.motion]));
  }, 120_000);

  it('mode all keeps every segment past motionOnlyAfter, and still lists the motion', async () => {
    const { rec, events } = await record('mp4', { mode: 'all', motionOnlyAfter: '1s' });
    const [s1, s2] = await closedSegments(rec, 2);
    motion(events, 'front-a', s1!.startMs + 500, s1!.startMs + 900);
    // Long past motionOnlyAfter for s1 and s2, with retention run at every segment since.
    await eventually(async () => ((await rec.store.list()).some((e) => e.startMs > s2!.endMs + 3000) ? true : undefined), 'later segments');
    const list = await rec.store.list();
    expect(list.slice(0, 2).map((e) => [e.file, e.frames])).toEqual([s1, s2].map((e) => [e!.file, e!.frames]));
    expect(list[0]!.motion).toEqual([span({ fromMs: s1!.startMs + 500, toMs: s1!.startMs + 900 })]);
    expect(list[1]!.motion).toEqual([]);
  }, 120_000);

  it('mode motion keeps an AVI segment with motion whole and deletes those without', async () => {
    const { rec, events } = await record('avi', { mode: 'motion', motionOnlyAfter: '4s', preRoll: '0s', postRoll: '0s' });
    const [s1, s2] = await closedSegments(rec, 2);
    motion(events, 'front-a', s2!.startMs + 500, s2!.startMs + 900);
    const old = await eventually(async () => {
      const list = (await rec.store.list()).filter((e) => e.startMs <= s2!.startMs);
      return list.some((e) => e.file === s1!.file) ? undefined : list;
    }, 'the segment without motion to go');
    expect(old.map((e) => [e.file, e.frames])).toEqual([[s2!.file, s2!.frames]]);
  }, 120_000);
});

/** 30 s at 10 fps, 320x180: colour bars, a white box crossing from 3 s to 6 s and from 14 s to 17 s. */
async function twoCrossings(): Promise<Buffer[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'edgecam-keep-scene-'));
  try {
    await promisify(execFile)(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'smptebars=s=320x180:r=10',
      '-f', 'lavfi', '-i', 'color=c=white:s=40x40:r=10',
      '-filter_complex', "[0][1]overlay=x='-40+mod(t-3,11)*120':y=70:enable='between(t,3,6)+between(t,14,17)'",
      '-t', '30', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2', join(tmp, '%04d.jpg'),
    ]);
    return readdirSync(tmp).sort().map((f) => readFileSync(join(tmp, f)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('record.keep.mode motion with the motion detector', () => {
  it.skipIf(noFfprobe)(titled('keeps the two crossings of a box the detector saw, plus rolls, and nothing else past motionOnlyAfter', noFfprobe), async () => {
    const scene = await twoCrossings();
    dir = await mkdtemp(join(tmpdir(), 'edgecam-keep-'));
    const cam = new FakeHub(320, 180, 10);
    const { logger } = memoryLogger('info');
    const ctx = { name: 'front', hub: cam, logger };
    const detector = startMotion(ctx, motionConfigSchema.parse({ fps: 5, width: 80 }));
    const ends: CameraEvent[] = [];
    detector.events$.subscribe((e) => void (e.phase === 'end' && ends.push(e)));
    const hub = new H264Hub(ctx, h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: GOP_MS / 1000, idleStopMs: 100 }), { ffmpeg: resolveFfmpeg(), fps: 10 });
    const cfg = recordConfigSchema.parse({ dir, format: 'mp4', segment: '2s', keep: { mode: 'motion', motionOnlyAfter: '5s', preRoll: `${ROLL_MS}ms`, postRoll: `${ROLL_MS}ms` } });
    const rec = startRecording(ctx, cfg, { statfs: bigDisk, recorder: { fsync: false }, checkIntervalMs: 300 }, hub.units$, detector.events$);
    cleanups.push(() => detector.close(), () => hub.close(), () => cam.stop(), () => rec.close());
    cam.play(scene, 10);

    await eventually(async () => (ends.length >= 2 ? true : undefined), 'the detector to see the box cross twice');
    const stretches = ends.slice(0, 2).map((e) => ({ fromMs: e.startedAt - ROLL_MS, toMs: e.endedAt! + ROLL_MS }));
    const until = stretches[1]!.toMs + 1000;
    // Inside a stretch: from the keyframe at or before its start, to its end (a frame's length of slack).
    const inside = (e: RecordingEntry) => stretches.some((s) => e.startMs > s.fromMs - GOP_MS - 150 && e.endMs <= s.toMs + 150);
    const old = await eventually(async () => {
      const list = await rec.store.list();
      const before = list.filter((e) => e.endMs <= until);
      return list.some((e) => e.startMs > until) && before.length > 0 && before.every(inside) ? before : undefined;
    }, 'the footage before the second crossing to be cut to the two crossings plus rolls', 90_000);
    // Each crossing is kept (maybe in two pieces, where a segment ended inside it), as the listing shows.
    for (const s of stretches) {
      const pieces = old.filter((e) => e.endMs > s.fromMs && e.startMs < s.toMs);
      const covered = pieces.reduce((n, e) => n + Math.min(e.endMs, s.toMs) - Math.max(e.startMs, s.fromMs), 0);
      expect(covered, JSON.stringify({ s, pieces })).toBeGreaterThan(s.toMs - s.fromMs - 300);
      expect(pieces.some((e) => (e.motion?.length ?? 0) > 0)).toBe(true);
    }
    for (const e of old) expect(await ffprobeFrames(join(dir, 'front', e.file)), e.file).toMatchObject({ frames: e.frames, errors: '' });
  }, 150_000);
});

describe('a crash during a cut or a motion.json write', () => {
  it('leaves temporary files that the next start removes, and only those', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-keep-'));
    const cam = join(dir, 'front');
    await mkdir(cam, { recursive: true });
    const left = ['1733070000000_001.mp4.join-4242.tmp', 'motion.json.tmp'];
    for (const f of [...left, 'notes.tmp']) await writeFile(join(cam, f), 'partial');
    const { rec } = await record('avi', { mode: 'motion' });
    await closedSegments(rec, 1);
    expect(left.filter((f) => existsSync(join(cam, f)))).toEqual([]);
    expect(existsSync(join(cam, 'notes.tmp'))).toBe(true);
  }, 60_000);
});

describe('motion stretches (motion.json)', () => {
  it('merges overlapping events, reloads them after a restart, and closes one left open by a crash at load', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-keep-'));
    const { logger } = memoryLogger('silent');
    let now = 10_000;
    const log = new MotionLog(dir!, () => now, logger);
    log.onEvent({ id: 'a', camera: 'c', type: 'motion', phase: 'start', startedAt: 1000, score: 1 });
    log.onEvent({ id: 'a', camera: 'c', type: 'motion', phase: 'end', startedAt: 1000, endedAt: 2000, score: 1 });
    log.onEvent({ id: 'b', camera: 'c', type: 'motion', phase: 'start', startedAt: 1500, score: 1 });
    log.onEvent({ id: 'b', camera: 'c', type: 'motion', phase: 'end', startedAt: 1500, endedAt: 3000, score: 1 });
    log.onEvent({ id: 'c', camera: 'c', type: 'motion', phase: 'start', startedAt: 5000, score: 1 });
    expect(log.within(0, 20_000)).toEqual([{ fromMs: 1000, toMs: 3000 }, { fromMs: 5000, toMs: 10_000 }]);
    // Widened by the rolls (0.5 s before, 1 s after) and cut to [0, 4.2 s]: the open one starts after it.
    expect(log.kept(0, 4200, 500, 1000)).toEqual([{ fromMs: 500, toMs: 4000 }]);
    // Written as the events came, with c still open: as if the process died now.
    const crashed = await eventually(async () => {
      const text = await readFile(join(dir!, MOTION_LOG_FILE), 'utf8').catch(() => '{}');
      return text.includes('"open":[5000]') ? JSON.parse(text) : undefined;
    }, 'motion.json with the open event');
    expect(crashed).toEqual({ stretches: [[1000, 3000]], open: [5000] });
    now = 20_000;
    const reloaded = new MotionLog(dir!, () => now, logger);
    await reloaded.load();
    expect(reloaded.within(0, 30_000)).toEqual([{ fromMs: 1000, toMs: 3000 }, { fromMs: 5000, toMs: 20_000 }]);
  });

  it('starts without a file that is not its own, and keeps at most MAX_STRETCHES', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-keep-'));
    const { logger, lines } = memoryLogger('debug');
    await writeFile(join(dir!, MOTION_LOG_FILE), '{"stretches": "\u0007 not a list"}');
    const log = new MotionLog(dir!, () => 0, logger);
    await log.load();
    expect(log.within(0, Infinity)).toEqual([]);
    expect(lines.some((l) => String(l.msg).includes('motion stretches unreadable'))).toBe(true);
    for (let i = 0; i <= MAX_STRETCHES; i++) {
      log.onEvent({ id: `e${i}`, camera: 'c', type: 'motion', phase: 'end', startedAt: i * 10, endedAt: i * 10 + 5, score: 1 });
    }
    const all = log.within(0, Infinity);
    expect(all).toHaveLength(MAX_STRETCHES);
    expect(all[0]).toEqual({ fromMs: 10, toMs: 15 });
    await log.close();
  });
});

describe('record.keep.mode motion in the config', () => {
  it('is refused with the fix on a camera without motion detection', () => {
    const record = recordConfigSchema.parse({ dir: '/rec', keep: { mode: 'motion' } });
    expect(() => recordingFeature.check!('front', { record, motion: null })).toThrow('record.keep.mode motion keeps the stretches its motion detection finds, which is off; add motion: {} to the camera, or set record.keep.mode: all');
    expect(() => recordingFeature.check!('front', { record, motion: {} })).not.toThrow();
  });
});
