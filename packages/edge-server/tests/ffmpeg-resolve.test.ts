import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeServerError } from '../src/errors.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';

function executable(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-resolve-'));
  const path = join(dir, 'my-ffmpeg');
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('resolveFfmpeg', () => {
  it('uses EDGECAM_FFMPEG first and says so', () => {
    const path = executable();
    expect(resolveFfmpeg({ EDGECAM_FFMPEG: path, PATH: '' })).toEqual({ path, via: 'EDGECAM_FFMPEG' });
  });

  it('refuses an EDGECAM_FFMPEG that is not an executable file, naming it', () => {
    let err: unknown;
    try {
      resolveFfmpeg({ EDGECAM_FFMPEG: '/nonexistent/ffmpeg' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EdgeServerError);
    expect((err as EdgeServerError).code).toBe('FFMPEG_NOT_FOUND');
    expect((err as Error).message).toContain('/nonexistent/ffmpeg');
  });

  it("falls back to @ffmpeg-installer's binary when ffmpeg-static is not installed", () => {
    const found = resolveFfmpeg({ PATH: '' });
    // ffmpeg-static is an optional dependency that this workspace does not install.
    expect(found.via).toBe('@ffmpeg-installer/ffmpeg');
    expect(found.path).toMatch(/@ffmpeg-installer/);
  });
});
