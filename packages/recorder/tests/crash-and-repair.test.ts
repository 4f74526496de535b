import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { createRecorder, inspect, repair } from '../src/index.js';
import { decode, runFfmpeg } from './helpers/ffmpeg.js';
import { transpileSources } from './helpers/child-build.js';
import { captureTimeUs, suiteFiles } from './helpers/frames.js';
import { sleep } from './helpers/sleep.js';

let jpegs: Buffer[];
let dir: string;
let childEntry: string;
suiteFiles('crash', 40, (f) => ({ jpegs, dir } = f));

beforeAll(async () => {
  const jpegDir = join(dir, 'jpegs');
  await mkdir(jpegDir);
  await Promise.all(jpegs.map((j, i) => writeFile(join(jpegDir, `f${String(i).padStart(4, '0')}.jpg`), j)));
  const index = await transpileSources(join(dir, 'child-src'));
  childEntry = join(dir, 'record-forever.mjs');
  // Records the test JPEGs in a loop, printing each accepted frame's count, until killed.
  await writeFile(childEntry, `
    import { readdirSync, readFileSync } from 'node:fs';
    import { join } from 'node:path';
    import { createRecorder } from ${JSON.stringify(pathToFileURL(index).href)};
    const [out, jpegDir, threshold] = process.argv.slice(2);
    const jpegs = readdirSync(jpegDir).sort().map((n) => readFileSync(join(jpegDir, n)));
    const rec = createRecorder(out, { checkpointIntervalMs: 100, riffThreshold: Number(threshold) });
    for (let i = 0; ; i++) {
      await rec.write({ seq: i, captureTimeUs: 1e15 + Math.round(i * 1e6 / 30), jpeg: jpegs[i % jpegs.length] });
      process.stdout.write(i + 1 + '\\n');
      await new Promise((r) => setTimeout(r, 4));
    }
  `);
});

/**
 * Run the recorder in a child, let it write at least `minFrames` and then 500 ms more (several
 * checkpoints), and SIGKILL it. Returns the frames it had accepted 500 ms before the kill: every
 * one of those was covered by a later checkpoint.
 */
async function recordAndKill(out: string, threshold: number, minFrames: number): Promise<number> {
  const child = spawn(process.execPath, [childEntry, out, join(dir, 'jpegs'), String(threshold)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let count = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const last = d.trim().split('\n').at(-1);
    if (last) count = Number(last);
  });
  let alive = true;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => {
    alive = false;
    resolve(signal);
  }));
  try {
    const deadline = Date.now() + 15_000;
    while (alive && count < minFrames && Date.now() < deadline) await sleep(20);
    expect(count).toBeGreaterThanOrEqual(minFrames);
    const checkpointed = count;
    await sleep(500);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    return checkpointed;
  } finally {
    child.kill('SIGKILL');
  }
}

/** Frame i of the child's recording is jpegs[i % 40]. */
async function expectFramesInOrder(path: string, count: number): Promise<void> {
  const s = await readAviStructure(path);
  expect(s.frames).toHaveLength(count);
  const file = await readFile(path);
  s.frames.forEach((f, i) => expect(file.subarray(f.offset, f.offset + f.size).equals(jpegs[i % jpegs.length]!)).toBe(true));
}

describe('a recorder killed with SIGKILL', () => {
  it.each([
    ['one RIFF', 1024 ** 3],
    ['several OpenDML RIFFs', 64 * 1024],
  ])('leaves a file ffmpeg plays to the last checkpoint, and repair keeps every complete frame (%s)', async (_name, threshold) => {
    const killed = join(dir, `killed-${threshold}.avi`);
    const checkpointed = await recordAndKill(killed, threshold, 60);

    const before = await inspect(killed);
    expect(before.frames).toBeGreaterThanOrEqual(checkpointed);
    expect(before.problems.length).toBeGreaterThan(0); // counts and index lag behind the frames
    if (threshold < 1024 ** 3) expect(before.riffs).toBeGreaterThan(1);
    const played = await decode(killed);
    expect(played.errors).toBe('');
    expect(played.frames).toBeGreaterThanOrEqual(checkpointed);

    const repaired = join(dir, `repaired-${threshold}.avi`);
    const result = await repair(killed, repaired, { riffThreshold: threshold });
    expect(result.frames).toBe(before.frames);
    expect(result.problems).toEqual(before.problems);
    const after = await inspect(repaired);
    expect(after).toMatchObject({ frames: before.frames, problems: [], indexed: true, width: 160, height: 120 });
    expect(after.frameRate).toEqual({ num: 30, den: 1 });
    if (threshold < 1024 ** 3) expect(after.riffs).toBeGreaterThan(1);
    await expectFramesInOrder(repaired, before.frames);
    expect(await decode(repaired)).toMatchObject({ errors: '', frames: before.frames });
  });
});

describe('a file copied while it is being recorded', () => {
  it('plays in ffmpeg without an error, up to its last checkpoint', async () => {
    const path = join(dir, 'live.avi');
    const rec = createRecorder(path, { checkpointIntervalMs: 30 });
    for (let i = 0; i < 40; i++) {
      await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i]! });
      await sleep(3);
    }
    await rec.flush();
    await copyFile(path, join(dir, 'copy-flushed.avi'));
    // A copy while frames are still arriving and checkpoints run on their own.
    const writing = (async () => {
      for (let i = 40; i < 80; i++) {
        await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i % 40]! });
        await sleep(3);
      }
    })();
    await sleep(100);
    await copyFile(path, join(dir, 'copy-live.avi'));
    await writing;
    await rec.close();

    const flushed = await inspect(join(dir, 'copy-flushed.avi'));
    expect(flushed).toMatchObject({ frames: 40 });
    expect(await decode(join(dir, 'copy-flushed.avi'))).toMatchObject({ errors: '', frames: 40 });
    const live = await decode(join(dir, 'copy-live.avi'));
    expect(live.errors).toBe('');
    expect(live.frames).toBeGreaterThanOrEqual(40);
    expect(live.frames).toBe((await inspect(join(dir, 'copy-live.avi'))).frames);
  });
});

describe('repair', () => {
  it('replaces the input in place when no output is given', async () => {
    const path = join(dir, 'inplace.avi');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (let i = 0; i < 30; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i]! });
    await rec.close();
    // Cut it inside frame 20, as a copy interrupted half way would be.
    const s = await readAviStructure(path);
    const full = await readFile(path);
    await writeFile(path, full.subarray(0, s.frames[20]!.offset + 100));
    const before = await inspect(path);
    expect(before.frames).toBe(20);
    expect(before.problems.map((p) => p.code)).toContain('TRUNCATED');
    const result = await repair(path);
    expect(result).toMatchObject({ output: path, frames: 20, droppedBytes: 108 });
    expect(await inspect(path)).toMatchObject({ frames: 20, problems: [], indexed: true, frameRate: { num: 30000, den: 1001 } });
    await expectFramesInOrder(path, 20);
    expect(await decode(path)).toMatchObject({ errors: '', frames: 20 });
  });

  it('reads and repairs an AVI written by ffmpeg', async () => {
    const mjpeg = join(dir, 'in.mjpeg');
    await writeFile(mjpeg, Buffer.concat(jpegs));
    const avi = join(dir, 'by-ffmpeg.avi');
    const r = await runFfmpeg(['-v', 'error', '-framerate', '30', '-f', 'mjpeg', '-i', mjpeg, '-c', 'copy', '-y', avi]);
    expect(r.code).toBe(0);
    const info = await inspect(avi);
    expect(info).toMatchObject({ width: 160, height: 120, codec: 'MJPG', problems: [], indexed: true, riffs: 1 });
    expect(info.durationSeconds).toBeCloseTo(40 / 30, 3);
    // ffmpeg may write empty "repeat" chunks; the JPEGs themselves are ours, in order.
    const s = await readAviStructure(avi);
    const file = await readFile(avi);
    const nonEmpty = s.frames.filter((f) => f.size > 0).map((f) => file.subarray(f.offset, f.offset + f.size));
    expect(nonEmpty).toHaveLength(40);
    nonEmpty.forEach((b, i) => expect(b.equals(jpegs[i]!)).toBe(true));

    const fixed = join(dir, 'by-ffmpeg-repaired.avi');
    const result = await repair(avi, fixed);
    expect(result.frames).toBe(info.frames);
    expect(await inspect(fixed)).toMatchObject({ frames: info.frames, problems: [], indexed: true, frameRate: info.frameRate });
    const d = await decode(fixed);
    expect(d).toMatchObject({ errors: '', frames: (await decode(avi)).frames });
  });

  it('refuses a file that is not an AVI with NOT_AVI', async () => {
    const path = join(dir, 'not.avi');
    await writeFile(path, Buffer.from('RIFF\x04\x00\x00\x00WAVE'));
    await expect(repair(path)).rejects.toMatchObject({ code: 'NOT_AVI' });
    await expect(inspect(path)).rejects.toMatchObject({ code: 'NOT_AVI' });
    await expect(inspect(join(dir, 'missing.avi'))).rejects.toMatchObject({ code: 'READ_FAILED', errno: 'ENOENT' });
  });
});
