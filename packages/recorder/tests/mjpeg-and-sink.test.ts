import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type RecorderEvent, type RecorderFs, RecorderError, createRecorder, inspect, recordTo } from '../src/index.js';
import { open } from 'node:fs/promises';
import { decode } from './helpers/ffmpeg.js';
import { captureTimeUs, suiteFiles, withParity } from './helpers/frames.js';
import { sleep } from './helpers/sleep.js';
import { MemoryDisk } from './helpers/memory-disk.js';

let jpegs: Buffer[];
let dir: string;
suiteFiles('mjpeg-sink', 45, (f) => ({ jpegs, dir } = f));

const frames = () => jpegs.map((jpeg, i) => ({ seq: i, captureTimeUs: captureTimeUs(i), jpeg }));

describe('raw MJPEG writer', () => {
  it('writes the JPEGs back to back, which ffmpeg reads as MJPEG', async () => {
    const path = join(dir, 'raw.mjpeg');
    const input = jpegs.map((j, i) => withParity(j, i % 3 === 0));
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (const [i, jpeg] of input.entries()) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg });
    const summary = await rec.close();
    expect(summary.files[0]).toMatchObject({ format: 'mjpeg', frames: 45, width: 160, height: 120, frameRate: { num: 30000, den: 1001 } });
    expect((await readFile(path)).equals(Buffer.concat(input))).toBe(true);
    expect(await decode(path, ['-f', 'mjpeg'])).toMatchObject({ errors: '', frames: 45 });
  });

  it('reports a rate the caller fixed, and the duration at that rate, whatever the timestamps say', async () => {
    const rec = createRecorder(join(dir, 'fixed.mjpeg'), { checkpointIntervalMs: 0, frameRate: 10 });
    for (const f of frames().slice(0, 20)) await rec.write(f); // stamped at 29.97 fps
    const file = (await rec.close()).files[0]!;
    expect(file.frameRate).toEqual({ num: 10, den: 1 });
    expect(file.durationSeconds).toBeCloseTo(2, 9);
  });

  it('closes with the complete frames when the disk fills up', async () => {
    const disk = new MemoryDisk(50_000);
    const rec = createRecorder('/disk/raw.mjpg', { fs: disk, checkpointIntervalMs: 0 });
    let code = '';
    for (const f of frames()) {
      code = await rec.write(f).then(() => 'ok', (e: RecorderError) => e.code);
      if (code !== 'ok') break;
    }
    const summary = await rec.close();
    expect(code).toBe('WRITE_FAILED');
    const file = summary.files[0]!;
    expect(file.error?.errno).toBe('ENOSPC');
    const bytes = disk.files.get('/disk/raw.mjpg')!.bytes();
    expect(bytes.equals(Buffer.concat(jpegs.slice(0, file.frames)))).toBe(true);
    expect(file.bytes).toBe(bytes.length);
  });

  it('is chosen by the extension; an unknown extension needs a format', () => {
    expect(() => createRecorder(join(dir, 'x.mkv'))).toThrow(RecorderError);
    expect(() => createRecorder(join(dir, 'x.mkv'))).toThrow(/format/);
    expect(() => createRecorder(join(dir, 'x.bin'), { format: 'mjpeg' })).not.toThrow();
    expect(() => createRecorder(join(dir, 'x.avi'), { riffThreshold: 10 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createRecorder(join(dir, 'x.avi'), { frameRate: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    // Held frames must never wait past a checkpoint (what keeps a killed recording playable).
    expect(() => createRecorder(join(dir, 'x.avi'), { writeDelayMs: 3000, checkpointIntervalMs: 2000 })).toThrow(/writeDelayMs must be an integer from 0 to 2000/);
    expect(() => createRecorder(join(dir, 'x.avi'), { writeDelayMs: 2000, checkpointIntervalMs: 2000 })).not.toThrow();
  });
});

describe('recordTo (RxJS sink)', () => {
  it('records a stream of frames and reports opened, rejected and closed events, then completes', async () => {
    const path = join(dir, 'sink.avi');
    const input = [...frames().slice(0, 20), { seq: 99, captureTimeUs: captureTimeUs(20), jpeg: Buffer.from('junk') }, ...frames().slice(20)];
    const events = await lastValueFrom(from(input).pipe(recordTo({ path, checkpointIntervalMs: 0 }), toArray()));
    const types = events.map((e) => e.type);
    // A synchronous source refuses the junk frame before the file has finished opening.
    expect(types.filter((t) => t !== 'rejected')).toEqual(['opened', 'closed']);
    const rejected = events.filter((e): e is Extract<RecorderEvent, { type: 'rejected' }> => e.type === 'rejected');
    expect(rejected.map((e) => [e.seq, e.error.code])).toEqual([[99, 'INVALID_FRAME']]);
    const closed = events.at(-1) as Extract<RecorderEvent, { type: 'closed' }>;
    expect(closed.file).toMatchObject({ path, frames: 45, frameRate: { num: 30000, den: 1001 } });
    expect(await inspect(path)).toMatchObject({ frames: 45, problems: [], indexed: true });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 45 });
  });

  it('emits segment events and progress while frames flow', async () => {
    const source = new Subject<{ seq: number; captureTimeUs: number; jpeg: Buffer }>();
    const events: RecorderEvent[] = [];
    const done = lastValueFrom(source.pipe(recordTo({ path: join(dir, 'seg.avi'), segment: { durationMs: 500 }, progressIntervalMs: 20 }), toArray()));
    for (const f of frames()) {
      source.next(f);
      await sleep(2);
    }
    source.complete();
    events.push(...(await done));
    expect(events.filter((e) => e.type === 'segment').length).toBe(2); // 45 frames at 29.97: 0-15, 15-30, 30-45
    expect(events.filter((e) => e.type === 'closed').map((e) => e.type === 'closed' && e.file.frames)).toEqual([15, 15, 15]);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ type: 'progress', frames: expect.any(Number) as number });
  });

  it('errors after closing the file when a write fails', async () => {
    const disk = new MemoryDisk(40_000);
    const source = new Subject<{ seq: number; captureTimeUs: number; jpeg: Buffer }>();
    const events: RecorderEvent[] = [];
    let unsubscribedSource = false;
    const outcome = new Promise<unknown>((resolve) => {
      source.pipe(recordTo({ path: '/disk/fail.avi', fs: disk, checkpointIntervalMs: 0 })).subscribe({
        next: (e) => events.push(e),
        error: (err: unknown) => resolve(err),
        complete: () => resolve('completed'),
      });
    });
    for (const f of frames()) {
      if (!source.observed) {
        unsubscribedSource = true;
        break;
      }
      source.next(f);
      await sleep(1);
    }
    const err = await outcome;
    expect(err).toMatchObject({ code: 'WRITE_FAILED', errno: 'ENOSPC' });
    expect(unsubscribedSource).toBe(true);
    const closed = events.find((e) => e.type === 'closed');
    expect(closed).toMatchObject({ file: { error: { errno: 'ENOSPC' } } });
    expect(events.some((e) => e.type === 'error')).toBe(false);
  });

  it('with onBackpressure, keeps every frame of a source faster than the disk, and says when to stop and go on', async () => {
    // A disk whose writes wait until the test opens the gate: slower than any source.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((r) => (openGate = r));
    const slowFs: RecorderFs = {
      async open(path) {
        const handle = await open(path, 'w');
        return {
          writev: async (buffers, position) => {
            await gate;
            return handle.writev(buffers, position);
          },
          truncate: (n) => handle.truncate(n),
          datasync: () => handle.datasync(),
          close: () => handle.close(),
        };
      },
    };
    const path = join(dir, 'backpressure.avi');
    const signals: boolean[] = [];
    const source = new Subject<{ seq: number; captureTimeUs: number; jpeg: Buffer }>();
    const done = lastValueFrom(
      source.pipe(recordTo({ path, fs: slowFs, checkpointIntervalMs: 0, maxQueueFrames: 4, onBackpressure: (full) => signals.push(full) }), toArray()),
    );
    for (const f of frames()) source.next(f);
    // Let the writes that can start start, and the queue fill.
    await new Promise((r) => setImmediate(r));
    expect(signals).toEqual([true]);
    source.complete();
    openGate();
    const events = await done;
    expect(events.filter((e) => e.type === 'rejected')).toEqual([]);
    expect(signals).toEqual([true, false]);
    expect(events.at(-1)).toMatchObject({ type: 'closed', file: { path, frames: 45 } });
    expect(await inspect(path)).toMatchObject({ frames: 45, problems: [], indexed: true });
  });
});
