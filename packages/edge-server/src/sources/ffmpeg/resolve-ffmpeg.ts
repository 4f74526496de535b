// Which ffmpeg binary to run, in the workspace's order: an explicit EDGECAM_FFMPEG, then
// ffmpeg-static (an optional dependency, usually not installed), then @ffmpeg-installer/ffmpeg,
// then `ffmpeg` on PATH. The answer says where it came from so logs and the banner can tell.
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { EdgeServerError } from '../../errors.js';

/** Where the ffmpeg binary was found. */
export type FfmpegVia = 'EDGECAM_FFMPEG' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';

/** The ffmpeg binary to run, and where it came from. */
export interface ResolvedFfmpeg {
  path: string;
  via: FfmpegVia;
}

const require = createRequire(import.meta.url);

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Loads a CommonJS package that may be absent; both packages throw (even strings) when their binary is missing. */
function optionalRequire(name: string): unknown {
  try {
    return require(name);
  } catch {
    return undefined;
  }
}

function fromFfmpegStatic(): string | undefined {
  const mod = optionalRequire('ffmpeg-static');
  // ffmpeg-static exports the path as a string (or null on unsupported platforms).
  const path = typeof mod === 'string' ? mod : (mod as { default?: unknown } | undefined)?.default;
  return typeof path === 'string' && isExecutableFile(path) ? path : undefined;
}

function fromFfmpegInstaller(): string | undefined {
  const mod = optionalRequire('@ffmpeg-installer/ffmpeg') as { path?: unknown } | undefined;
  const path = mod?.path;
  return typeof path === 'string' && isExecutableFile(path) ? path : undefined;
}

function fromPath(envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds ffmpeg. Throws EdgeServerError FFMPEG_NOT_FOUND when EDGECAM_FFMPEG names something
 * that is not an executable file, or when no candidate exists at all.
 */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env): ResolvedFfmpeg {
  const explicit = env.EDGECAM_FFMPEG;
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new EdgeServerError('FFMPEG_NOT_FOUND', `EDGECAM_FFMPEG=${explicit} is not an executable file`);
    }
    return { path: explicit, via: 'EDGECAM_FFMPEG' };
  }
  const fromStatic = fromFfmpegStatic();
  if (fromStatic) return { path: fromStatic, via: 'ffmpeg-static' };
  const fromInstaller = fromFfmpegInstaller();
  if (fromInstaller) return { path: fromInstaller, via: '@ffmpeg-installer/ffmpeg' };
  const onPath = fromPath(env.PATH);
  if (onPath) return { path: onPath, via: 'PATH' };
  throw new EdgeServerError(
    'FFMPEG_NOT_FOUND',
    'no ffmpeg found: set EDGECAM_FFMPEG, install ffmpeg-static or @ffmpeg-installer/ffmpeg, or put ffmpeg on PATH',
  );
}
