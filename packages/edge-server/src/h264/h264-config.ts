// The per-camera `h264:` block: which ffmpeg encoder turns the camera's JPEGs into H.264, and how.
import { z } from 'zod';
import { duration, onOff } from '../config/units.js';
import { EdgeServerError } from '../errors.js';
import { formatSourceSpec, type SourceSpec } from '../sources/source-spec.js';

/** Encoders edgecam knows how to drive; any other ffmpeg H.264 encoder name is passed through. */
export const KNOWN_H264_ENCODERS = ['libx264', 'h264_v4l2m2m', 'h264_rkmpp'] as const;

const iceUrl = z.string().regex(/^(stun|stuns|turn|turns):\S+$/, 'a stun:, stuns:, turn: or turns: URL such as stun:stun.example.net:3478');

/** A STUN or TURN server, as RTCPeerConnection's iceServers take it. */
export const iceServerSchema = z.strictObject({
  urls: z.union([iceUrl, z.array(iceUrl).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** The per-camera `h264:` config block. */
export const h264ConfigSchema = z
  .object({
    /** Off by default: no encoder runs unless a camera asks for H.264. */
    enabled: onOff().prefault(false),
    /**
     * An ffmpeg encoder name: libx264 (software), h264_v4l2m2m (Raspberry Pi), h264_rkmpp (Rockchip),
     * or another; or `copy`: pass the H.264 of an rtsp:// (or file:) source through, not re-encoded.
     */
    encoder: z
      .string()
      .regex(/^[A-Za-z0-9_]+$/, 'an ffmpeg encoder name such as libx264, h264_v4l2m2m or h264_rkmpp, or copy')
      .default('libx264'),
    /** Target bitrate in kbit/s. */
    bitrateKbps: z.number().int().min(50).max(100_000).default(2000),
    /** Seconds between keyframes: a new viewer waits at most this long for its first picture. */
    keyframeIntervalS: duration({ aboveMin: true, max: 60_000, into: 's' }).prefault(1),
    /** libx264 only: its speed preset (ultrafast costs the least CPU). */
    preset: z
      .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'])
      .default('ultrafast'),
    /** How long the encoder keeps running after its last viewer leaves, in ms (a bare number is ms, as the key says). */
    idleStopMs: duration({ bare: 'ms' }).prefault(5000),
    /**
     * STUN/TURN servers for the WebRTC viewers, for viewers beyond a NAT. None by default: on a LAN
     * the host candidates suffice, and the camera contacts no outside server (werift's default is Google's).
     */
    iceServers: z.array(iceServerSchema).default([]),
  })
  .strict();

/** The per-camera `h264:` config block, defaults applied. */
export type H264Config = z.infer<typeof h264ConfigSchema>;

/** The `h264.encoder` value that passes the source's own H.264 through instead of encoding. */
export const H264_COPY = 'copy';

/** Whether a source can carry H.264 to copy: RTSP cameras and files; the others deliver JPEG. */
export function canCopyH264(source: SourceSpec): source is Extract<SourceSpec, { kind: 'rtsp' | 'file' }> {
  return source.kind === 'rtsp' || source.kind === 'file';
}

/** Throws CONFIG_INVALID when `h264.encoder: copy` is set on a source that delivers JPEG, not H.264. */
export function checkH264Source(config: H264Config, source: SourceSpec, camera: string): void {
  if (config.encoder !== H264_COPY || canCopyH264(source)) return;
  throw new EdgeServerError(
    'CONFIG_INVALID',
    `camera ${camera}: h264.encoder "copy" passes the source's H.264 through, but ${formatSourceSpec(source)} delivers JPEG; use an rtsp:// source that sends H.264, or set h264.encoder to libx264`,
  );
}
