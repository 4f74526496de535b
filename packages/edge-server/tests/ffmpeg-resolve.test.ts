import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('names the missing @ffmpeg-installer build and the fix in one sentence when nothing is found', () => {
    expect(() => resolveFfmpeg({ PATH: '' }, 'linux', 'riscv64')).toThrow(
      new EdgeServerError(
        'FFMPEG_NOT_FOUND',
        "no ffmpeg found (@ffmpeg-installer has no build for linux-riscv64, and none on PATH): install the system's ffmpeg (sudo apt install ffmpeg) or set EDGECAM_FFMPEG to an ffmpeg binary",
      ),
    );
  });

  it('looks for the ARM builds by their package names, and says when npm did not install one', () => {
    // This machine has only its own build; the other ARM one is known but absent.
    const other = process.arch === 'arm64' ? 'arm' : 'arm64';
    expect(() => resolveFfmpeg({ PATH: '' }, 'linux', other)).toThrow(`@ffmpeg-installer/linux-${other} is not installed`);
  });

  it('falls back to ffmpeg on PATH when there is no @ffmpeg-installer build', () => {
    const path = executable();
    const dir = path.slice(0, path.lastIndexOf('/'));
    writeFileSync(join(dir, 'ffmpeg'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'ffmpeg'), 0o755);
    expect(resolveFfmpeg({ PATH: dir }, 'linux', 'riscv64')).toEqual({ path: join(dir, 'ffmpeg'), via: 'PATH' });
  });

  it('has the linux-arm and linux-arm64 builds in the lockfile, so npm ci on a board installs the right one', () => {
    const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { cpu?: string[]; os?: string[]; optional?: boolean }>;
    };
    expect(lock.packages['node_modules/@ffmpeg-installer/linux-arm']).toMatchObject({ cpu: ['arm'], os: ['linux'], optional: true });
    expect(lock.packages['node_modules/@ffmpeg-installer/linux-arm64']).toMatchObject({ cpu: ['arm64'], os: ['linux'], optional: true });
  });
});
