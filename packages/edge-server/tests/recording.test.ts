import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '@edgecam/recorder';
import { startRecording, type RecordingHandle } from '../src/recording/recording-sink.js';
import { parseDuration, parseSize, recordConfigSchema } from '../src/recording/record-config.js';
import { planRetention } from '../src/recording/retention.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { cameraContext, feed, waitForLine, writeSegment } from './recording-fixtures/recording-helpers.js';
import { sleep, waitUntil } from './support/wait.js';

let jpegs: Buffer[];
let dir: string;
const handles: RecordingHandle[] = [];
const bigDisk = async (): Promise<{ free: number }> => ({ free: 1e12 });

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 30);
});

afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-'));
  return dir;
}

describe('record config', () => {
  it('fills in the defaults and parses durations and sizes', () => {
    const cfg = recordConfigSchema.parse({ dir: '/var/lib/edgecam' });
    expect(cfg).toEqual({ dir: '/var/lib/edgecam', format: 'avi', segment: 600_000, keep: { mode: 'all', motionOnlyAfter: 86_400_000, preRoll: 5000, postRoll: 5000, maxAge: 7 * 86_400_000, maxSize: 20e9, minFree: 1e9 } });
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
  });

  it('names the valid forms for a bad duration or size', () => {
    const r = recordConfigSchema.safeParse({ dir: '/x', segment: '10 parsecs', keep: { maxSize: 'lots' } });
    expect(r.success).toBe(false);
    const messages = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toContain('segment: "10 parsecs" is not a duration such as 30s, 10m, 2h or 7d (a bare number is seconds)');
    expect(messages).toContain('keep.maxSize: "lots" is not a size such as 500MB, 20GB or 1GiB');
  });
});

describe('retention plan', () => {
  const keep = { maxAge: 1000, maxSize: 1000, minFree: 100 };
  const files = [
    { file: 'c', startMs: 3000, bytes: 300 },
    { file: 'a', startMs: 1000, bytes: 300 },
    { file: 'b', startMs: 2000, bytes: 300 },
  ];

  it('deletes segments older than maxAge', () => {
    const plan = planRetention({ files, live: undefined, free: 1e9, now: 3500, keep, reserve: 0 });
    expect(plan.remove).toEqual([{ file: 'a', reason: 'age' }, { file: 'b', reason: 'age' }]);
  });

  it('deletes the oldest until the total leaves the reserve under maxSize', () => {
    const plan = planRetention({ files, live: undefined, free: 1e9, now: 3000, keep: { ...keep, maxAge: 1e9 }, reserve: 200 });
    expect(plan.remove).toEqual([{ file: 'a', reason: 'size' }]);
    expect(plan.budget).toBe(400);
  });

  it('deletes the oldest until the free space stays above minFree with the reserve', () => {
    const plan = planRetention({ files, live: undefined, free: 150, now: 3000, keep: { ...keep, maxAge: 1e9, maxSize: 1e9 }, reserve: 300 });
    expect(plan.remove).toEqual([{ file: 'a', reason: 'free' }]);
    expect(plan.budget).toBe(350);
  });

  it('never deletes the segment being written, and says when there is no room left', () => {
    const plan = planRetention({ files, live: 'c', free: 0, now: 3000, keep: { maxAge: 1e9, maxSize: 1e9, minFree: 1000 }, reserve: 0 });
    expect(plan.remove.map((r) => r.file)).toEqual(['a', 'b']);
    expect(plan.budget).toBe(-400);
  });
});

describe('continuous recording', () => {
  it('records into a directory per camera and starts a new segment after a camera loss', async () => {
    const root = await tempDir();
    const { ctx, hub, lines } = cameraContext('front');
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root }), { statfs: bigDisk, gapMs: 300, recorder: { fsync: false } });
    handles.push(rec);
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    await feed(hub, jpegs.slice(0, 12));
    await waitForLine(lines, 'no frames from the camera; segment closed until they return');
    expect(rec.status().state).toBe('waiting');
    await feed(hub, jpegs.slice(12, 20));
    await rec.close();
    expect(hub.subscribers).toBe(0);
    const list = await rec.store.list();
    expect(list.map((e) => e.frames)).toEqual([12, 8]);
    expect(list.every((e) => e.camera === 'front' && e.problems.length === 0 && !e.recording)).toBe(true);
    // The gap shows: the second segment starts after the first one ends.
    expect(list[1]!.startMs).toBeGreaterThanOrEqual(list[0]!.endMs - 50);
    expect(await readdir(join(root, 'front'))).toHaveLength(2);
  });

  it('lists the segment being written as recording, refuses to delete it, and replays it as far as it is written', async () => {
    const root = await tempDir();
    const { ctx, hub } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root }), { statfs: bigDisk, recorder: { fsync: false, checkpointIntervalMs: 100 } });
    handles.push(rec);
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    await feed(hub, jpegs.slice(0, 10));
    await waitUntil(() => rec.status().state === 'recording' && rec.status().file !== undefined, 10_000, 'a segment to open');
    const live = rec.status().file!;
    await rec.store.list().then((l) => expect(l).toMatchObject([{ file: live, recording: true, problems: [] }]));
    expect(await rec.store.remove(live)).toBe('recording');
    // Checkpoints every 100 ms make what was written readable before the file is closed.
    let replayed = 0;
    const deadline = performance.now() + 10_000;
    while (replayed === 0 && performance.now() < deadline) {
      for await (const _f of rec.store.frames(0)) replayed++;
      if (replayed === 0) await sleep(50);
    }
    expect(replayed).toBeGreaterThan(0);
    expect(replayed).toBeLessThanOrEqual(10);
  });

  it('repairs a segment cut mid-write by a crash when it starts', async () => {
    const root = await tempDir();
    const camDir = join(root, 'default');
    const path = await writeSegment(camDir, Date.now() - 60_000, jpegs.slice(0, 10));
    const size = (await stat(path)).size;
    // Cut off idx1 (10 entries) and half of the last frame, as a power cut during a write would.
    await truncate(path, size - (8 + 16 * 10) - Math.floor(jpegs[9]!.length / 2));
    expect((await inspect(path)).problems.map((p) => p.code)).toContain('TRUNCATED');
    const { ctx, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root }), { statfs: bigDisk });
    handles.push(rec);
    await waitForLine(lines, 'repaired an unfinished recording');
    const after = await inspect(path);
    expect(after.frames).toBe(9);
    expect(after.problems).toEqual([]);
  });

  it('deletes segments past maxAge by the injected clock', async () => {
    const root = await tempDir();
    const camDir = join(root, 'default');
    const day = 86_400_000;
    const now = Date.UTC(2026, 11, 1);
    await writeSegment(camDir, now - 8 * day, jpegs.slice(0, 3));
    const recent = await writeSegment(camDir, now - day, jpegs.slice(0, 3));
    const { ctx, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root, keep: { maxAge: '7d' } }), { statfs: bigDisk, now: () => now });
    handles.push(rec);
    await waitForLine(lines, 'recording deleted by retention', { reason: 'age' });
    expect(await readdir(camDir)).toEqual([recent.slice(camDir.length + 1)]);
  });

  it('deletes the oldest segments for free space, and stops writing when even that cannot keep the floor', async () => {
    const root = await tempDir();
    const camDir = join(root, 'default');
    const old = await writeSegment(camDir, Date.now() - 120_000, jpegs.slice(0, 5));
    const oldBytes = (await stat(old)).size;
    let free = 1e9 + 1000; // minFree is 1GB: the floor is all but reached
    const { ctx, hub, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root }), {
      statfs: async () => ({ free }),
      recorder: { fsync: false },
    });
    handles.push(rec);
    await waitForLine(lines, 'recording deleted by retention', { reason: 'free' });
    await waitForLine(lines, 'recording stopped: even with every older segment deleted it would cross keep.minFree or keep.maxSize; free disk space or lower the limits');
    expect(rec.status().state).toBe('disk-full');
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    await feed(hub, jpegs.slice(0, 5), 5);
    expect(rec.status()).toMatchObject({ framesWritten: 0, framesDropped: 5 });
    expect(await readdir(camDir)).toEqual([]);
    expect(oldBytes).toBeGreaterThan(0);
    free = 2e9;
    await rec.close();
  });

  it('stops within the free-space budget whatever the camera produces', async () => {
    const root = await tempDir();
    const floor = 1e9;
    // Room for about 40 frames above the floor, as the fake disk reports it.
    const room = 64 * 1024 + 40 * (jpegs[0]!.length + 64);
    const { ctx, hub, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir: root, keep: { maxSize: '1GB' } }), {
      statfs: async () => {
        const written = await readdir(join(root, 'default')).then(
          (names) => Promise.all(names.map((n) => stat(join(root, 'default', n)).then((s) => s.size))),
        );
        return { free: floor + room - written.reduce((a, b) => a + b, 0) };
      },
      recorder: { fsync: false },
    });
    handles.push(rec);
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    for (let i = 0; i < 3; i++) await feed(hub, jpegs, 2);
    await waitForLine(lines, 'recording stopped: even with every older segment deleted it would cross keep.minFree or keep.maxSize; free disk space or lower the limits');
    await rec.close();
    const list = await rec.store.list();
    // Retention may then delete what was written to keep its reserve above the floor.
    expect(list.reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(room);
    expect(rec.status().framesWritten).toBeGreaterThan(0);
    expect(rec.status().framesDropped).toBeGreaterThan(0);
  });
});
