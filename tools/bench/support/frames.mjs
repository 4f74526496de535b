// Pre-encoded JPEGs for the benchmarks: ffmpeg's testsrc2 with temporal noise (so frames differ
// and compress like a camera's, about 100 KiB at 1280x720), written once as separate files.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '@edgecam/edge-server';

const run = promisify(execFile);

export async function writeJpegs(dir, { width = 1280, height = 720, count = 30, qscale = 5 } = {}) {
  await run(
    resolveFfmpeg().path,
    [
      '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30,noise=alls=8:allf=t`,
      '-frames:v', String(count), '-c:v', 'mjpeg', '-q:v', String(qscale), '-f', 'image2', join(dir, 'f%05d.jpg'),
    ],
    { timeout: 60_000 },
  );
  return readJpegs(dir);
}

export function readJpegs(dir) {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .map((n) => readFileSync(join(dir, n)));
}
