// Real JPEGs from ffmpeg's test pattern, written as separate files (image2) so they are known
// good without relying on any of our own splitting code.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '../../src/sources/ffmpeg/resolve-ffmpeg.js';

const run = promisify(execFile);

export async function testPatternJpegs(width: number, height: number, count: number, qscale = 5): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-jpegs-'));
  try {
    await run(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25`,
      '-frames:v', String(count), '-c:v', 'mjpeg', '-q:v', String(qscale), '-f', 'image2', join(dir, '%04d.jpg'),
    ]);
    return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of `jpeg` grown to about `size` bytes with COM segments right after SOI (still a valid JPEG). */
export function padJpeg(jpeg: Buffer, size: number): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let total = jpeg.length;
  while (total < size) {
    const payload = Math.min(65533, Math.max(1, size - total - 4));
    const seg = Buffer.alloc(4 + payload, 0x20);
    seg[0] = 0xff;
    seg[1] = 0xfe;
    seg.writeUInt16BE(payload + 2, 2);
    parts.push(seg);
    total += seg.length;
  }
  parts.push(jpeg.subarray(2));
  return Buffer.concat(parts);
}
