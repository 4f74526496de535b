/**
 * ffmpeg for the tests, resolved as the workspace does: EDGECAM_FFMPEG, then ffmpeg-static's
 * binary (an optional dependency, usually absent), then @ffmpeg-installer/ffmpeg's, then `ffmpeg`
 * on PATH. (ffprobe is not shipped by the installer, so
 * frames are counted by decoding with -f framemd5.)
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type ProcessRun, run } from './run.js';

export function resolveFfmpeg(): string {
  const fromEnv = process.env.EDGECAM_FFMPEG;
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  try {
    // ffmpeg-static exports the binary's path (null on platforms it has no binary for).
    const path = require('ffmpeg-static') as unknown;
    if (typeof path === 'string' && existsSync(path)) return path;
  } catch {
    // not installed: try the next one
  }
  try {
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    if (installer.path && existsSync(installer.path)) return installer.path;
  } catch {
    // not installed: fall back to PATH
  }
  return 'ffmpeg';
}

export type FfmpegRun = ProcessRun;

/** Run ffmpeg with `args`; killed (never left running) after `timeoutMs`. */
export function runFfmpeg(args: string[], timeoutMs = 30_000): Promise<FfmpegRun> {
  return run(resolveFfmpeg(), ['-hide_banner', '-nostdin', ...args], timeoutMs);
}

export interface Decoded {
  /** Frames ffmpeg decoded. */
  readonly frames: number;
  /** What ffmpeg printed at -v error (empty for a clean file). */
  readonly errors: string;
  readonly code: number | null;
}

/** Decode every frame of `file` (framemd5: one line per decoded frame) and report errors. */
export async function decode(file: string, inputArgs: string[] = []): Promise<Decoded> {
  const r = await runFfmpeg(['-v', 'error', ...inputArgs, '-i', file, '-f', 'framemd5', '-']);
  const frames = r.stdout.split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).length;
  return { frames, errors: r.stderr.trim(), code: r.code };
}
