// ffmpeg's command line for the H.264 encoder: the camera's JPEGs on stdin, Annex-B H.264 on
// stdout, an access unit delimiter before every picture (so the splitter can cut without waiting
// for a slice header) and SPS/PPS repeated at every keyframe (so anyone can join there).
import { rtspInput, type RtspTimeoutOption } from '../sources/ffmpeg/ffmpeg-args.js';
import type { RtspTransport } from '../sources/source-spec.js';
import type { H264Config } from './h264-config.js';

/** The ffmpeg arguments that encode MJPEG on stdin to Annex-B H.264 on stdout. */
export function h264EncoderArgs(config: H264Config, fps: number): string[] {
  const gop = Math.max(1, Math.round(config.keyframeIntervalS * fps));
  const kbps = config.bitrateKbps;
  const encoder: string[] = ['-c:v', config.encoder];
  if (config.encoder === 'libx264') {
    // zerolatency: no lookahead and no B-frames, so each picture leaves as soon as it is encoded.
    encoder.push('-preset', config.preset, '-tune', 'zerolatency', '-profile:v', 'baseline');
    encoder.push('-x264-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:repeat-headers=1`);
  } else {
    encoder.push('-g', String(gop), '-bf', '0');
  }
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-f', 'mjpeg',
    // The input is live: read it as it comes and do not probe ahead.
    '-fflags', 'nobuffer',
    '-probesize', '32',
    '-analyzeduration', '0',
    '-framerate', String(fps),
    // Frame-threaded JPEG decoding holds a picture back per thread: latency we do not want.
    '-threads', '1',
    '-i', '-',
    '-an',
    '-pix_fmt', 'yuv420p',
    ...encoder,
    '-b:v', `${kbps}k`,
    '-maxrate', `${kbps}k`,
    '-bufsize', `${Math.max(1, Math.round(kbps / 2))}k`,
    // dump_extra puts SPS/PPS before keyframes for encoders that keep them out of band.
    '-bsf:v', config.encoder === 'libx264' ? 'h264_metadata=aud=insert' : 'dump_extra,h264_metadata=aud=insert',
    '-flush_packets', '1',
    '-f', 'h264',
    '-',
  ];
}

/**
 * Written after each JPEG on the encoder's stdin: the start of the next JPEG (SOI) and an empty
 * comment segment. ffmpeg's MJPEG parser ends a picture only when it sees the next SOI and marker,
 * so without this every picture would wait a frame time for the next camera frame. The next JPEG
 * is then written without its own SOI, and so arrives as a JPEG with an empty comment.
 */
export const JPEG_NEXT_START = Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x02]);

/** ffmpeg's input arguments for an RTSP camera, read as the rtsp source reads it. */
export function rtspCopyInput(url: string, timeoutOption: RtspTimeoutOption, transport: RtspTransport): string[] {
  return rtspInput(url, timeoutOption, transport);
}

/** ffmpeg's input arguments for a file with H.264 video: looped forever and paced to its own rate. */
export function fileCopyInput(path: string): string[] {
  return ['-stream_loop', '-1', '-re', '-i', path];
}

/**
 * The ffmpeg arguments that pass an input's H.264 through to Annex-B on stdout, not re-encoded:
 * mp4toannexb turns length-prefixed NAL units (MP4, Matroska) into start codes and leaves Annex-B
 * input as it is; dump_extra puts the SPS/PPS that RTSP and MP4 carry out of band before every
 * keyframe, so a viewer can join at any keyframe.
 */
export function h264CopyArgs(input: string[]): string[] {
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-nostdin',
    '-fflags', 'nobuffer',
    '-flags', 'low_delay',
    ...input,
    '-map', '0:v:0',
    '-an',
    '-c:v', 'copy',
    '-bsf:v', 'h264_mp4toannexb,dump_extra',
    '-flush_packets', '1',
    '-f', 'h264',
    '-',
  ];
}

/** The H.264 encoders an `ffmpeg -encoders` listing names. */
export function parseH264Encoders(listing: string): string[] {
  const names: string[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s*V\S{5}\s+(\S+)\s+.*\(codec h264\)\s*$/.exec(line);
    if (m?.[1]) names.push(m[1]);
  }
  return names;
}
