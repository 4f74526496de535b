import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { type RecorderEvent, type RecorderOptions, RecorderError, createRecorder, inspect } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { captureTimeUs, makeJpegs, tempDir } from './helpers/frames.js';
import { MemoryDisk } from './helpers/memory-disk.js';

let jpegs: Buffer[];
let small: Buffer[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  [jpegs, small] = await Promise.all([makeJpegs(60), makeJpegs(2, '80x60')]);
  ({ dir, cleanup } = await tempDir('errors'));
});
afterAll(() => cleanup());

const frame = (i: number, jpeg = jpegs[i % jpegs.length]!) => ({ seq: i, captureTimeUs: captureTimeUs(i), jpeg });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(RecorderError);
    return (err as RecorderError).code;
  }
}

/** Record frames [0, n) into a memory disk, awaiting each write; returns what happened. */
async function recordOnDisk(disk: MemoryDisk, n: number, options: RecorderOptions = {}) {
  const events: RecorderEvent[] = [];
  const rec = createRecorder('/disk/rec.avi', { fs: disk, checkpointIntervalMs: 0, onEvent: (e) => events.push(e), ...options });
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await codeOf(rec.write(frame(i)));
    codes.push(c);
    if (c !== 'resolved') break;
  }
  const summary = await rec.close();
  const file = disk.files.get('/disk/rec.avi');
  const path = join(dir, `disk-${Math.random().toString(36).slice(2)}.avi`);
  if (file) await writeFile(path, file.bytes());
  return { codes, summary, events, path, file };
}

describe('refused frames', () => {
  it('refuses a buffer that is not a whole JPEG, counts it, and keeps the file valid', async () => {
    const path = join(dir, 'invalid.avi');
    const events: RecorderEvent[] = [];
    const rec = createRecorder(path, { checkpointIntervalMs: 0, onEvent: (e) => events.push(e) });
    await rec.write(frame(0));
    expect(await codeOf(rec.write(Buffer.from('not a jpeg at all')))).toBe('INVALID_FRAME');
    expect(await codeOf(rec.write(jpegs[1]!.subarray(0, 500)))).toBe('INVALID_FRAME'); // cut: no EOI
    // SOI..EOI but no SOF: its size cannot be known.
    expect(await codeOf(rec.write({ jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x04, 0x41, 0x42, 0xff, 0xd9]) }))).toBe('INVALID_FRAME');
    await rec.write(frame(1));
    expect(rec.stats).toMatchObject({ frames: 2, rejected: 3 });
    const summary = await rec.close();
    expect(summary).toMatchObject({ frames: 2, rejected: 3 });
    expect(events.filter((e) => e.type === 'rejected').map((e) => e.type === 'rejected' && e.error.code)).toEqual(['INVALID_FRAME', 'INVALID_FRAME', 'INVALID_FRAME']);
    expect(await inspect(path)).toMatchObject({ frames: 2, problems: [], indexed: true });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 2 });
  });

  it('refuses a frame whose size differs from the recording, with SIZE_MISMATCH', async () => {
    const path = join(dir, 'size.avi');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    await rec.write(frame(0));
    const err = await rec.write(frame(1, small[0]!)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SIZE_MISMATCH' });
    expect((err as Error).message).toContain('80x60');
    await rec.write(frame(2));
    await rec.close();
    expect(rec.stats.rejected).toBe(1);
    expect(await inspect(path)).toMatchObject({ frames: 2, width: 160, height: 120, problems: [] });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 2 });
  });

  it('refuses a frame over maxFrameBytes with TOO_LARGE', async () => {
    const rec = createRecorder(join(dir, 'large.avi'), { maxFrameBytes: 1000 });
    expect(await codeOf(rec.write(frame(0)))).toBe('TOO_LARGE');
    expect((await rec.close()).files).toEqual([]);
    expect(existsSync(join(dir, 'large.avi'))).toBe(false); // no valid frame: no file
  });

  it('refuses writes after close with CLOSED', async () => {
    const path = join(dir, 'closed.avi');
    const rec = createRecorder(path);
    await rec.write(frame(0));
    await rec.close();
    expect(rec.closed).toBe(true);
    expect(await codeOf(rec.write(frame(1)))).toBe('CLOSED');
    expect((await inspect(path)).frames).toBe(1);
  });

  it('refuses frames with QUEUE_FULL when the caller does not wait, and keeps the ones it took', async () => {
    const path = join(dir, 'queue.avi');
    const rec = createRecorder(path, { maxQueueFrames: 4, checkpointIntervalMs: 0 });
    const results = await Promise.all(jpegs.slice(0, 20).map((j, i) => codeOf(rec.write(frame(i, j)))));
    const accepted = results.filter((c) => c === 'resolved').length;
    expect(results.filter((c) => c === 'QUEUE_FULL').length).toBe(20 - accepted);
    expect(accepted).toBeGreaterThanOrEqual(4);
    expect(accepted).toBeLessThan(20);
    await rec.close();
    expect(rec.stats.rejected).toBe(20 - accepted);
    expect(await inspect(path)).toMatchObject({ frames: accepted, problems: [] });
  });

  it('never holds more than the bound in memory while the caller awaits write()', async () => {
    const disk = new MemoryDisk();
    const rec = createRecorder('/disk/bound.avi', { fs: disk, maxQueueBytes: 20_000, checkpointIntervalMs: 0 });
    let peak = 0;
    for (let i = 0; i < 60; i++) {
      await rec.write(frame(i));
      peak = Math.max(peak, rec.stats.pendingBytes);
    }
    await rec.close();
    const largest = Math.max(...jpegs.map((j) => j.length));
    expect(peak).toBeLessThan(20_000 + largest);
    expect(rec.stats.frames).toBe(60);
  });
});

describe('write errors', () => {
  it('closes the file with the index of what was written when the disk fills up (ENOSPC)', async () => {
    const disk = new MemoryDisk(100_000);
    const { codes, summary, events, path } = await recordOnDisk(disk, 60);
    expect(codes.at(-1)).toBe('WRITE_FAILED');
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'ENOSPC' });
    const file = summary.files[0]!;
    expect(file.error?.errno).toBe('ENOSPC');
    expect(file.frames).toBeGreaterThan(10);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'closed', file: { frames: file.frames } });
    expect(await inspect(path)).toMatchObject({ frames: file.frames, problems: [], indexed: true });
    const s = await readAviStructure(path);
    expect(s.frames.map((f) => f.size)).toEqual(jpegs.slice(0, file.frames).map((j) => j.length));
    expect(await decode(path)).toMatchObject({ errors: '', frames: file.frames });
  });

  it('drops frames from the end to make room for the index on a disk with no room left', async () => {
    // Find where frame 30 ends on an unlimited disk, then allow 50 bytes more: the index of 30
    // frames (488 bytes) cannot fit in what truncating the cut frame frees.
    const end30 = (await readAviStructure((await recordOnDisk(new MemoryDisk(), 30)).path)).frames.at(-1)!;
    const capacity = end30.offset + end30.size + (end30.size & 1) + 50;
    const { summary, path } = await recordOnDisk(new MemoryDisk(capacity), 60);
    expect(summary.error?.errno).toBe('ENOSPC');
    const frames = summary.files[0]!.frames;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(30);
    expect(await inspect(path)).toMatchObject({ frames, problems: [], indexed: true });
    expect(statSync(path).size).toBeLessThanOrEqual(capacity);
    expect(await decode(path)).toMatchObject({ errors: '', frames });
  });

  it('closes an OpenDML file with its indexes when the disk fills in a later RIFF', async () => {
    const disk = new MemoryDisk(200_000);
    const { summary, path } = await recordOnDisk(disk, 60, { riffThreshold: 48 * 1024 });
    expect(summary.error?.errno).toBe('ENOSPC');
    const file = summary.files[0]!;
    expect(file.riffs).toBeGreaterThan(2);
    expect(await inspect(path)).toMatchObject({ frames: file.frames, riffs: file.riffs, problems: [], indexed: true });
    expect(await decode(path)).toMatchObject({ errors: '', frames: file.frames });
  });

  it('surfaces a transient EIO, and the file is closed with the frames before it', async () => {
    const disk = new MemoryDisk(Infinity, { failAt: { bytes: 60_000, code: 'EIO', once: true } });
    const { codes, summary, path } = await recordOnDisk(disk, 60);
    expect(codes.at(-1)).toBe('WRITE_FAILED');
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'EIO' });
    const frames = summary.files[0]!.frames;
    expect(frames).toBeGreaterThan(5);
    expect(await inspect(path)).toMatchObject({ frames, problems: [], indexed: true });
    expect(await decode(path)).toMatchObject({ errors: '', frames });
  });

  it('leaves the last checkpoint playable when the disk dies for good', async () => {
    const disk = new MemoryDisk(Infinity, { failAt: { bytes: 90_000, code: 'EIO' } });
    const rec = createRecorder('/disk/rec.avi', { fs: disk, checkpointIntervalMs: 0 });
    for (let i = 0; i < 10; i++) await rec.write(frame(i));
    await rec.flush(); // a checkpoint: 10 frames described on disk
    let failed = false;
    for (let i = 10; i < 60 && !failed; i++) failed = (await codeOf(rec.write(frame(i)))) === 'WRITE_FAILED';
    const summary = await rec.close();
    expect(failed).toBe(true);
    expect(summary.error?.errno).toBe('EIO');
    const path = join(dir, 'dead-disk.avi');
    await writeFile(path, disk.files.get('/disk/rec.avi')!.bytes());
    const d = await decode(path);
    expect(d.errors).toBe('');
    expect(d.frames).toBeGreaterThanOrEqual(10);
  });

  it('removes a file whose very first frame could not be written', async () => {
    const disk = new MemoryDisk(3000); // the header alone is 4620 bytes
    const { codes, summary } = await recordOnDisk(disk, 5);
    expect(codes.at(-1)).toBe('WRITE_FAILED'); // after one or two accepted writes: the open runs in the background
    expect(summary).toMatchObject({ frames: 0, error: { errno: 'ENOSPC' } });
    expect(disk.removed).toEqual(['/disk/rec.avi']);
    expect(disk.files.size).toBe(0);
  });

  it('reports EACCES when the file cannot be created, and leaves no file', async () => {
    const disk = new MemoryDisk(Infinity, { failOpen: 'EACCES' });
    const rec = createRecorder('/disk/denied.avi', { fs: disk });
    // The file opens in the background: the first write is taken, the error comes right after.
    await rec.write(frame(0)).catch(() => undefined);
    await rec.flush().catch(() => undefined);
    expect(await codeOf(rec.write(frame(1)))).toBe('WRITE_FAILED');
    const summary = await rec.close();
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'EACCES' });
    expect(summary.frames).toBe(0);
    expect(disk.files.size).toBe(0);
  });

  it('reports ENOSPC on /dev/full and leaves the device alone', async () => {
    if (!existsSync('/dev/full')) return expect.fail('/dev/full is missing on this machine');
    const rec = createRecorder('/dev/full', { format: 'avi', checkpointIntervalMs: 0 });
    await rec.write(frame(0)).catch(() => undefined);
    const summary = await rec.close();
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'ENOSPC' });
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });
});
