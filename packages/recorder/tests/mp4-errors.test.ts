/**
 * What an MP4 recording refuses and how it survives the disk: units that are not a picture, a
 * stream that does not start at a keyframe, parameter sets that change, a refused unit (the
 * pictures after it wait for the next keyframe), a full disk. The file stays whole throughout.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecorderEvent, RecorderError, createRecorder, inspectMp4 } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { tempDir } from './helpers/frames.js';
import { isIdr, makeH264 } from './helpers/h264.js';
import { MemoryDisk } from './helpers/memory-disk.js';

let units: Buffer[];
let bigger: Buffer[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  [units, bigger] = await Promise.all([makeH264(90), makeH264(30, { size: '320x240' })]);
  ({ dir, cleanup } = await tempDir('mp4-errors'));
}, 60_000);
afterAll(() => cleanup());

const at = (i: number): number => 1_700_000_000_000_000 + Math.round((i * 1e6) / 30);
const unit = (i: number, h264 = units[i % units.length]!) => ({ seq: i, h264, captureTimeUs: at(i) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(RecorderError);
    return (err as RecorderError).code;
  }
}

describe('refused access units', () => {
  it('refuses bytes that are no Annex-B picture, and a JPEG frame object, with INVALID_FRAME', async () => {
    const rec = createRecorder(join(dir, 'invalid.mp4'), { checkpointIntervalMs: 0 });
    expect(await codeOf(rec.write(Buffer.from('not h264')))).toBe('INVALID_FRAME');
    // Start code and a delimiter, but no slice: no picture.
    expect(await codeOf(rec.write(Buffer.from([0, 0, 0, 1, 0x09, 0xf0])))).toBe('INVALID_FRAME');
    expect(await codeOf(rec.write({ jpeg: units[0]! }))).toBe('INVALID_FRAME');
    await rec.close();
    expect(rec.stats).toMatchObject({ frames: 0, rejected: 3 });
  });

  it('starts at the first keyframe: the pictures before it are refused with NOT_KEYFRAME', async () => {
    const path = join(dir, 'late-start.mp4');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    const codes = [];
    for (let i = 10; i < 90; i++) codes.push(await codeOf(rec.write(unit(i))));
    await rec.close();
    expect(codes.slice(0, 20)).toEqual(new Array(20).fill('NOT_KEYFRAME'));
    expect(codes.slice(20)).toEqual(new Array(60).fill('resolved'));
    expect(await inspectMp4(path)).toMatchObject({ frames: 60, problems: [] });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 60 });
  });

  it('refuses a stream of other parameter sets with SIZE_MISMATCH, naming both sizes', async () => {
    const path = join(dir, 'other-sps.mp4');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (let i = 0; i < 30; i++) await rec.write(unit(i));
    const err = await rec.write(unit(30, bigger[0]!)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SIZE_MISMATCH' });
    expect((err as Error).message).toContain('320x240, was 160x120');
    for (let i = 30; i < 60; i++) await rec.write(unit(i));
    await rec.close();
    expect(await inspectMp4(path)).toMatchObject({ frames: 60, width: 160, height: 120, problems: [] });
  });

  it('after a refused picture, waits for the next keyframe so that nothing undecodable is written', async () => {
    const path = join(dir, 'resync.mp4');
    const events: RecorderEvent[] = [];
    const rec = createRecorder(path, { checkpointIntervalMs: 0, maxFrameBytes: 64 * 1024, onEvent: (e) => events.push(e) });
    const codes = [];
    for (let i = 0; i < 90; i++) {
      // Picture 40 is refused (too large): 41..59 depend on it; 60 is the next keyframe.
      const h264 = i === 40 ? Buffer.concat([units[40]!, Buffer.alloc(70 * 1024)]) : units[i]!;
      codes.push(await codeOf(rec.write(unit(i, h264))));
    }
    await rec.close();
    expect(isIdr(units[60]!)).toBe(true);
    expect(codes[40]).toBe('TOO_LARGE');
    expect(codes.slice(41, 60)).toEqual(new Array(19).fill('NOT_KEYFRAME'));
    expect(codes.slice(60)).toEqual(new Array(30).fill('resolved'));
    expect(events.filter((e) => e.type === 'rejected')).toHaveLength(20);
    expect(await inspectMp4(path)).toMatchObject({ frames: 70, problems: [] });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 70 });
  });
});

describe('write errors', () => {
  it('closes the file after its last whole fragment, with its index, when the disk fills up', async () => {
    const disk = new MemoryDisk(20_000);
    const events: RecorderEvent[] = [];
    const rec = createRecorder('/disk/full.mp4', { fs: disk, checkpointIntervalMs: 0, onEvent: (e) => events.push(e) });
    let code = 'resolved';
    for (let i = 0; i < 300 && code === 'resolved'; i++) code = await codeOf(rec.write(unit(i)));
    const summary = await rec.close();
    expect(code).toBe('WRITE_FAILED');
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'ENOSPC' });
    const file = summary.files[0]!;
    expect(file.frames).toBeGreaterThan(0);
    expect(file.frames % 30).toBe(0); // whole fragments only
    const path = join(dir, 'full.mp4');
    const bytes = disk.files.get('/disk/full.mp4')!.bytes();
    expect(file.bytes).toBe(bytes.length);
    await writeFile(path, bytes);
    const info = await inspectMp4(path);
    expect(info.frames).toBe(file.frames);
    expect(info.problems.filter((p) => p.code !== 'MISSING_INDEX')).toEqual([]);
    expect(await decode(path)).toMatchObject({ errors: '', frames: file.frames });
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
  });

  it('removes a file whose init segment never reached the disk', async () => {
    const disk = new MemoryDisk(Infinity, { failAt: { bytes: 100, code: 'EIO' } });
    const rec = createRecorder('/disk/eio.mp4', { fs: disk, checkpointIntervalMs: 0 });
    await rec.write(unit(0)).catch(() => undefined);
    const summary = await rec.close();
    expect(summary.error).toMatchObject({ code: 'WRITE_FAILED', errno: 'EIO' });
    expect(disk.files.has('/disk/eio.mp4')).toBe(false);
    expect(disk.removed).toEqual(['/disk/eio.mp4']);
  });
});
