// Which H.264 encoders the resolved ffmpeg has, so a camera configured for a hardware encoder the
// board's ffmpeg lacks fails with the list of what it does offer.
import { execFile } from 'node:child_process';
import { EdgeServerError } from '../errors.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import { parseH264Encoders } from './h264-args.js';

const cache = new Map<string, Promise<string[]>>();

/** The H.264 encoders of this ffmpeg binary (`ffmpeg -encoders`, asked once per binary). */
export function listH264Encoders(ffmpeg: ResolvedFfmpeg): Promise<string[]> {
  let listing = cache.get(ffmpeg.path);
  if (!listing) {
    listing = new Promise<string[]>((resolve, reject) => {
      execFile(ffmpeg.path, ['-hide_banner', '-encoders'], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
        if (err && !stdout) reject(new EdgeServerError('FFMPEG_NOT_FOUND', `could not run ${ffmpeg.path} -encoders: ${err.message}`));
        else resolve(parseH264Encoders(stdout));
      });
    });
    cache.set(ffmpeg.path, listing);
    listing.catch(() => cache.delete(ffmpeg.path));
  }
  return listing;
}

/** Rejects with H264_ENCODER_MISSING, naming the config key and the encoders available, unless ffmpeg has `encoder`. */
export async function checkH264Encoder(ffmpeg: ResolvedFfmpeg, encoder: string, camera: string): Promise<void> {
  const available = await listH264Encoders(ffmpeg);
  if (available.includes(encoder)) return;
  const offered = available.length > 0 ? available.join(', ') : 'none';
  throw new EdgeServerError(
    'H264_ENCODER_MISSING',
    `camera ${camera}: h264.encoder "${encoder}" is not in ${ffmpeg.path}; set h264.encoder to one it offers: ${offered}`,
  );
}
