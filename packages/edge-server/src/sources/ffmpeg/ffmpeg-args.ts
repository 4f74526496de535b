// The ffmpeg command lines for each source, and parsers for what ffmpeg says when probing.
// Pure functions, so the v4l2 and file variants can be tested without a camera.
import type { RtspTransport } from '../source-spec.js';

/** Options shared by every ffmpeg run: quiet banner, no progress lines, no interactive keys. */
const COMMON = ['-hide_banner', '-nostats', '-loglevel', 'info'];
/** mpjpeg on stdout, one write per frame so frames leave ffmpeg as soon as they exist. */
const OUTPUT = ['-an', '-f', 'mpjpeg', '-flush_packets', '1', 'pipe:1'];

/** The picture the capture is asked for. */
export interface CaptureSize {
  width: number;
  height: number;
  fps: number;
  /** 1 (smallest files) to 100 (best pictures). */
  quality: number;
}

/** Maps --quality 1..100 onto ffmpeg's MJPEG -q:v 31..2 (lower q:v is better). */
export function qualityToQscale(quality: number): number {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  return Math.round(31 - ((q - 1) * 29) / 99);
}

/**
 * ffmpeg's MJPEG encoder at its cheapest: the standard Huffman tables (the default "optimal"
 * costs a second pass over every frame for a few % of size) and slice threads (frame threads
 * hold frames back, which a live stream pays in latency).
 */
function encode(quality: number): string[] {
  return ['-c:v', 'mjpeg', '-q:v', String(qualityToQscale(quality)), '-huffman', 'default', '-thread_type', 'slice'];
}

/** Limited-range YUV (16..235, chroma 16..240) stretched to full range (0..255), one table per plane. */
const TO_FULL_RANGE =
  "lutyuv=y='clip((val-16)*255/219,0,255)':u='clip((val-128)*255/224+128,0,255)':v='clip((val-128)*255/224+128,0,255)'";

/**
 * The encode for a raw (YUYV) camera. ffmpeg 4.1's MJPEG encoder takes only full-range input,
 * and swscale's range conversion runs its generic scaler, costing more than the encode; instead
 * YUYV is unpacked to 4:2:0 (swscale's fast unscaled path, libjpeg-turbo's subsampling too) and
 * stretched by a lookup table. `-color_range pc` makes it a standard full-range JPEG (no
 * CS=ITU601 comment, which only ffmpeg reads); `-strict -1` only lets the CLI pass yuv420p on.
 * One encoder thread costs less CPU per frame than slices, and a 720p frame still takes ~5 ms.
 */
export function rawCameraEncodeArgs(quality: number): string[] {
  return [...encode(quality), '-threads', '1', '-vf', TO_FULL_RANGE, '-pix_fmt', 'yuv420p', '-strict', '-1', '-color_range', 'pc'];
}

/**
 * ffmpeg's lavfi test pattern in real time (without -re lavfi runs as fast as it can), drawn
 * straight in full-range yuvj420p: otherwise ffmpeg converts every frame to it for the encoder,
 * which costs about as much as the encode itself.
 */
export function testsrcArgs(o: CaptureSize): string[] {
  return [
    ...COMMON,
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${o.fps},format=yuvj420p`,
    ...encode(o.quality),
    ...OUTPUT,
  ];
}

/** A V4L2 camera: MJPEG copied as the camera sends it when offered, encoded otherwise. */
export function v4l2Args(device: string, o: CaptureSize, mjpegOffered: boolean): string[] {
  const input = ['-f', 'v4l2', ...(mjpegOffered ? ['-input_format', 'mjpeg'] : [])];
  return [
    ...COMMON,
    '-nostdin',
    ...input,
    '-video_size',
    `${o.width}x${o.height}`,
    '-framerate',
    String(o.fps),
    '-i',
    device,
    ...(mjpegOffered ? ['-c:v', 'copy'] : rawCameraEncodeArgs(o.quality)),
    ...OUTPUT,
  ];
}

/** Lists the formats a V4L2 device offers (ffmpeg prints them on stderr and exits non-zero). */
export function v4l2ProbeArgs(device: string): string[] {
  return ['-hide_banner', '-nostdin', '-f', 'v4l2', '-list_formats', 'all', '-i', device];
}

/** The formats a V4L2 device offers, as ffmpeg lists them. */
export interface V4l2Formats {
  compressed: string[];
  raw: string[];
}

/**
 * Parses `-list_formats all` output, lines like
 * `[video4linux2,v4l2 @ 0x55d0] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720`.
 */
export function parseV4l2Formats(stderr: string): V4l2Formats {
  const out: V4l2Formats = { compressed: [], raw: [] };
  for (const m of stderr.matchAll(/\b(Compressed|Raw)\s*:\s*(\S+)\s*:/g)) {
    (m[1] === 'Compressed' ? out.compressed : out.raw).push(m[2] as string);
  }
  return out;
}

/** Asks ffmpeg to describe an input file (it exits non-zero because no output is given). */
export function fileProbeArgs(path: string): string[] {
  return ['-hide_banner', '-nostdin', '-i', path];
}

/** What ffmpeg says about an input file. */
export interface InputProbe {
  /** Demuxer names, e.g. ['avi'] or ['mov', 'mp4', ...]; empty if ffmpeg could not open it. */
  formats: string[];
  /** Codec of the first video stream, e.g. 'mjpeg', or null. */
  videoCodec: string | null;
}

/** Parses `ffmpeg -i FILE` output: `Input #0, avi, from 'x.avi':` and `Stream #0:0: Video: mjpeg (...)`. */
export function parseInputProbe(stderr: string): InputProbe {
  const input = /Input #0, (.+?), from /.exec(stderr);
  const video = /Stream #0:\d+[^\n]*?: Video: ([\w-]+)/.exec(stderr);
  return {
    formats: input ? (input[1] as string).split(',').map((f) => f.trim()) : [],
    videoCodec: video ? (video[1] as string) : null,
  };
}

/**
 * A file, looped forever and paced to its own rate. MJPEG is copied as stored; anything else is
 * encoded. A raw .mjpeg has no timestamps, so it is paced to the configured fps.
 */
export function fileArgs(path: string, o: CaptureSize, probe: InputProbe): string[] {
  const raw = probe.formats.includes('mjpeg') || probe.formats.includes('jpeg_pipe');
  return [
    ...COMMON,
    '-nostdin',
    '-stream_loop',
    '-1',
    '-re',
    ...(raw ? ['-framerate', String(o.fps)] : []),
    '-i',
    path,
    '-map',
    '0:v:0',
    ...(probe.videoCodec === 'mjpeg' ? ['-c:v', 'copy'] : encode(o.quality)),
    ...OUTPUT,
  ];
}

/** How long ffmpeg waits on an RTSP camera's socket before giving up (µs): a dead camera fails fast and is retried. */
export const RTSP_SOCKET_TIMEOUT_US = 5_000_000;

/** ffmpeg 4.x calls the RTSP socket timeout -stimeout (its -timeout means "listen"); 5.0 and later call it -timeout. */
export type RtspTimeoutOption = 'stimeout' | 'timeout';

/** Which RTSP socket timeout option an ffmpeg has, from `-h demuxer=rtsp`. */
export function parseRtspTimeoutOption(help: string): RtspTimeoutOption {
  return /^\s*-stimeout\b/m.test(help) ? 'stimeout' : 'timeout';
}

/**
 * ffmpeg's input arguments for an RTSP camera. TCP by default (UDP loses packets on Wi-Fi and is
 * blocked by most NATs); UDP for cameras and servers that refuse interleaved RTP.
 */
export function rtspInput(url: string, timeoutOption: RtspTimeoutOption, transport: RtspTransport): string[] {
  return ['-rtsp_transport', transport, `-${timeoutOption}`, String(RTSP_SOCKET_TIMEOUT_US), '-i', url];
}

/**
 * An RTSP camera encoded to MJPEG at the configured rate, quality and size (fitted inside it,
 * keeping the camera's aspect).
 */
export function rtspArgs(url: string, o: CaptureSize, timeoutOption: RtspTimeoutOption, transport: RtspTransport): string[] {
  return [
    ...COMMON,
    '-nostdin',
    ...rtspInput(url, timeoutOption, transport),
    '-map',
    '0:v:0',
    '-vf',
    `fps=${o.fps},scale=${o.width}:${o.height}:force_original_aspect_ratio=decrease`,
    ...encode(o.quality),
    ...OUTPUT,
  ];
}
