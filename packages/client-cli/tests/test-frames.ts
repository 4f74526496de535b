import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

let cached: Buffer[] | undefined;

/** The 30 test-pattern JPEGs (160x120) global-setup made with ffmpeg. */
export function testFrames(): Buffer[] {
  if (cached === undefined) {
    const dir = inject('jpegDir');
    cached = readdirSync(dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .map((f) => readFileSync(join(dir, f)));
  }
  return cached;
}
