// Which ffmpeg binary to run, in the workspace's order: an explicit EDGECAM_FFMPEG, then
// ffmpeg-static (an optional dependency, usually not installed), then @ffmpeg-installer's build
// for this platform (linux-x64, linux-arm64, linux-arm, …: npm installs the one matching os and
// cpu), then `ffmpeg` on PATH. The answer says where it came from so logs and the banner can tell.
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
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

/** Where @ffmpeg-installer's binary for this platform is, or why there is none. */
function fromFfmpegInstaller(platform: string, arch: string): { path: string } | { why: string } {
  const name = `@ffmpeg-installer/${platform}-${arch}`;
  let installer: NodeJS.Require;
  let builds: Record<string, string>;
  try {
    // The platform packages are @ffmpeg-installer/ffmpeg's optional dependencies: look from there.
    const manifest = require.resolve('@ffmpeg-installer/ffmpeg/package.json');
    installer = createRequire(manifest);
    builds = (installer(manifest) as { optionalDependencies?: Record<string, string> }).optionalDependencies ?? {};
  } catch {
    return { why: '@ffmpeg-installer/ffmpeg is not installed' };
  }
  if (!(name in builds)) return { why: `@ffmpeg-installer has no build for ${platform}-${arch}` };
  let dir: string;
  try {
    dir = dirname(installer.resolve(`${name}/package.json`));
  } catch {
    return { why: `${name} is not installed (npm skipped optional dependencies?)` };
  }
  const path = join(dir, platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
  return isExecutableFile(path) ? { path } : { why: `${path} is not an executable file` };
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
 * that is not an executable file, or when no candidate exists at all. `platform` and `arch`
 * choose the @ffmpeg-installer build (this machine's unless a test says otherwise).
 */
export function resolveFfmpeg(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  arch: string = process.arch,
): ResolvedFfmpeg {
  const explicit = env.EDGECAM_FFMPEG;
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new EdgeServerError('FFMPEG_NOT_FOUND', `EDGECAM_FFMPEG=${explicit} is not an executable file`);
    }
    return { path: explicit, via: 'EDGECAM_FFMPEG' };
  }
  const fromStatic = fromFfmpegStatic();
  if (fromStatic) return { path: fromStatic, via: 'ffmpeg-static' };
  const fromInstaller = fromFfmpegInstaller(platform, arch);
  if ('path' in fromInstaller) return { path: fromInstaller.path, via: '@ffmpeg-installer/ffmpeg' };
  const onPath = fromPath(env.PATH);
  if (onPath) return { path: onPath, via: 'PATH' };
  throw new EdgeServerError(
    'FFMPEG_NOT_FOUND',
    `no ffmpeg found (${fromInstaller.why}, and none on PATH): install the system's ffmpeg (sudo apt install ffmpeg) or set EDGECAM_FFMPEG to an ffmpeg binary`,
  );
}
