/**
 * Test JPEGs: ffmpeg's test pattern encoded once per suite into a temp dir (-f image2), so the
 * frames are real, decodable JPEGs of a known size.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { runFfmpeg } from './ffmpeg.js';

export async function makeJpegs(count: number, size = '160x120', quality = 5): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edgecam-jpegs-'));
  try {
    const r = await runFfmpeg([
      '-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=30`, '-frames:v', String(count),
      '-c:v', 'mjpeg', '-q:v', String(quality), '-f', 'image2', join(dir, 'f%05d.jpg'),
    ]);
    if (r.code !== 0) throw new Error(`ffmpeg could not make test JPEGs: ${r.stderr}`);
    const names = (await readdir(dir)).sort();
    return await Promise.all(names.map((n) => readFile(join(dir, n))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The JPEG with its length made odd or even by a 0x00 pad after EOI (allowed by isWholeJpeg). */
export function withParity(jpeg: Buffer, odd: boolean): Buffer {
  return (jpeg.length % 2 === 1) === odd ? jpeg : Buffer.concat([jpeg, Buffer.alloc(1)]);
}

/** A fresh temp dir under the package's test-output/ (gitignored), removed by the returned function. */
export async function tempDir(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const base = join(import.meta.dirname, '..', '..', 'test-output');
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, `${name}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh directory another user can reach and write, for the players the tests run as `nobody`
 * when they run as root (VLC refuses root): under the system temp directory, since the checkout
 * may sit where only root can enter (/root, a 0700 folder).
 */
export async function sharedTempDir(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `edgecam-${name}-`));
  await chmod(dir, 0o777);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The usual suite setup, as hooks: before all tests, `count` test JPEGs and a fresh temp dir named
 * for the suite, handed to `use`; after all, the dir is removed.
 */
export function suiteFiles(name: string, count: number, use: (files: { jpegs: Buffer[]; dir: string }) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const jpegs = await makeJpegs(count);
    const temp = await tempDir(name);
    cleanup = temp.cleanup;
    use({ jpegs, dir: temp.dir });
  });
  afterAll(() => cleanup?.());
}

/** Capture times (µs) of frame i at exactly `num/den` fps. */
export function captureTimeUs(i: number, num = 30000, den = 1001, start = 1_700_000_000_000_000): number {
  return start + Math.round((i * 1e6 * den) / num);
}
