// Which H.264 encoders the resolved ffmpeg has, so a camera configured for a hardware encoder the
// board's ffmpeg lacks fails with the list of what it does offer.
import { EdgeServerError } from '../errors.js';
import { ffmpegListing } from '../sources/ffmpeg/ffmpeg-probe.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import { parseH264Encoders } from './h264-args.js';

/** The H.264 encoders of this ffmpeg binary (`ffmpeg -encoders`, asked once per binary). */
export async function listH264Encoders(ffmpeg: ResolvedFfmpeg): Promise<string[]> {
  return parseH264Encoders(await ffmpegListing(ffmpeg, '-encoders'));
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
