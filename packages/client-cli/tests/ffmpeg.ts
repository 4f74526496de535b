import { execFile } from 'node:child_process';
import { FFMPEG } from './global-setup.js';

export interface Decoded {
  /** Frames ffmpeg decoded. */
  frames: number;
  /** ffmpeg's error output (empty for a clean file). */
  errors: string;
}

/**
 * Decodes every frame of a file with ffmpeg (`-v error`, one framemd5 line per frame), as a
 * player would: the frame count and whatever ffmpeg complains about.
 */
export function ffmpegDecode(path: string): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    execFile(FFMPEG, ['-v', 'error', '-i', path, '-f', 'framemd5', '-'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && stderr === '') {
        reject(err);
        return;
      }
      const frames = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      resolve({ frames, errors: stderr.trim() });
    });
  });
}
