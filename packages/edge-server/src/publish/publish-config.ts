// The per-camera `publish:` list: where the camera's H.264 is pushed (MediaMTX, go2rtc, Frigate's
// go2rtc, a streaming service). Each target is a URL, or {url, transport} to choose RTSP over UDP.
import { z } from 'zod';
import { withFileForm } from '../config/file-form.js';
import { maskUrlPasswords, showUrl } from '../sources/url-credentials.js';

/** The URL schemes a target may use, and the ffmpeg muxer and protocol each needs. */
export const PUBLISH_SCHEMES = {
  'rtsp:': { format: 'rtsp', protocol: 'tcp' },
  'rtsps:': { format: 'rtsp', protocol: 'tls' },
  'rtmp:': { format: 'flv', protocol: 'rtmp' },
  'rtmps:': { format: 'flv', protocol: 'rtmps' },
  'srt:': { format: 'mpegts', protocol: 'srt' },
} as const;

/** A scheme publish: accepts. */
export type PublishScheme = keyof typeof PUBLISH_SCHEMES;

const SCHEME_LIST = Object.keys(PUBLISH_SCHEMES).map((s) => `${s}//`).join(', ');

const targetUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${maskUrlPasswords(text)}" is not a URL; write e.g. rtsp://mediamtx:8554/front` });
    return;
  }
  if (!(url.protocol in PUBLISH_SCHEMES)) {
    ctx.addIssue({ code: 'custom', message: `"${maskUrlPasswords(text)}" uses ${url.protocol}//; publish targets must be one of ${SCHEME_LIST}` });
  } else if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `"${maskUrlPasswords(text)}" names no host; write e.g. rtsp://mediamtx:8554/front` });
  }
});

/** One target as written: a URL, or {url, transport}; `config check` writes it back so. */
export const publishTargetSchema = withFileForm(
  z
    .union([
      targetUrl,
      z
        .object({
          url: targetUrl,
          /** RTSP only: how the RTP packets travel (tcp, interleaved on the RTSP connection, passes NAT and firewalls). */
          transport: z.enum(['tcp', 'udp']).default('tcp'),
        })
        .strict(),
    ])
    .transform((t): PublishTarget => {
      const { url, transport } = typeof t === 'string' ? { url: t, transport: 'tcp' as const } : t;
      const scheme = new URL(url).protocol as PublishScheme;
      return { url, transport, scheme, format: PUBLISH_SCHEMES[scheme].format };
    }),
  (t: PublishTarget) => (t.transport === 'tcp' ? t.url : { url: t.url, transport: t.transport }),
);

/** The per-camera `publish:` list (empty: the camera is published nowhere). */
export const publishConfigSchema = z.array(publishTargetSchema).max(16).default([]);

/** One target, normalized. */
export interface PublishTarget {
  /** As configured, password and stream key included: only ffmpeg sees it; logs and /status use maskedUrl. */
  readonly url: string;
  readonly transport: 'tcp' | 'udp';
  readonly scheme: PublishScheme;
  /** The ffmpeg muxer: rtsp, flv (RTMP) or mpegts (SRT). */
  readonly format: 'rtsp' | 'flv' | 'mpegts';
}

/** The per-camera `publish:` list as written in the config. */
export type PublishConfigInput = z.input<typeof publishConfigSchema>;
/** The per-camera `publish:` list, normalized. */
export type PublishConfig = z.output<typeof publishConfigSchema>;

/** The target's URL for logs and /status: password, RTMP stream key and SRT streamid/passphrase as `***`. */
export function maskedUrl(target: PublishTarget): string {
  return showUrl(target.url);
}
