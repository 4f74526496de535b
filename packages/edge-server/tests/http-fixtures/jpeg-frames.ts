// Real JPEGs for the HTTP tests, made once per test process with the installer's ffmpeg (the
// same binary the workspace resolves), so the stream carries what a camera would send.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FFMPEG: string = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

async function encode(args: string[]): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edgecam-http-jpegs-'));
  try {
    await run(FFMPEG, ['-v', 'error', ...args, '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2', join(dir, '%03d.jpg')], {
      timeout: 30_000,
    });
    const names = (await readdir(dir)).sort();
    return await Promise.all(names.map((n) => readFile(join(dir, n))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const cache = new Map<string, Promise<Buffer[]>>();

/** `count` consecutive frames of ffmpeg's moving test pattern: every frame differs. */
export function testPatternJpegs(width = 320, height = 240, count = 30): Promise<Buffer[]> {
  const key = `testsrc ${width}x${height} ${count}`;
  let frames = cache.get(key);
  if (!frames) {
    frames = encode(['-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=30`, '-frames:v', String(count)]);
    cache.set(key, frames);
  }
  return frames;
}

/** One frame of a single colour (ffmpeg colour name, e.g. `red`, `0x0000ff`). */
export async function solidJpeg(color: string, width = 320, height = 240): Promise<Buffer> {
  const key = `color ${color} ${width}x${height}`;
  let frames = cache.get(key);
  if (!frames) {
    frames = encode(['-f', 'lavfi', '-i', `color=c=${color}:size=${width}x${height}`, '-frames:v', '1']);
    cache.set(key, frames);
  }
  const [frame] = await frames;
  if (!frame) throw new Error(`ffmpeg made no ${color} frame`);
  return frame;
}
