// Builds the FrameSource a --source value names.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ResolvedFfmpeg } from './ffmpeg/resolve-ffmpeg.js';
import { fileArgs, rtspArgs, testsrcArgs, v4l2Args, type CaptureSize, type RtspTimeoutOption } from './ffmpeg/ffmpeg-args.js';
import { probeFile, probeRtspTimeoutOption, probeV4l2 } from './ffmpeg/ffmpeg-probe.js';
import { createFfmpegSource, type SupervisorTuning } from './ffmpeg/ffmpeg-source.js';
import { InputNotReady } from './ffmpeg/ffmpeg-supervisor.js';
import { EdgeServerError } from '../errors.js';
import type { FrameSource } from './source.js';
import { formatSourceSpec, isMissing, missingSourceFile, type SourceSpec } from './source-spec.js';
import { createEdgecamSource } from './edgecam-source.js';
import type { HostResolver } from './host-resolver.js';
import { createHttpMjpegSource } from './http-mjpeg-source.js';
import { createSeedTcpSource } from './seed-tcp-source.js';
import { createStdinSource } from './stdin-source.js';
import { withCredentials, type CameraCredentials } from './url-credentials.js';

/** Options of createSource. */
export interface CreateSourceOptions extends CaptureSize {
  source: SourceSpec;
  logger: Logger;
  /** Resolved once by the caller; needed by every source that needsFfmpeg(). */
  ffmpeg: ResolvedFfmpeg | null;
  /** For the stdin source; defaults to process.stdin. */
  stdin?: Readable;
  supervisor?: SupervisorTuning;
  /** For http and rtsp sources: replaces a user and password given in the URL. */
  credentials?: CameraCredentials;
  /** How a refusal names the source; default `--source SPEC`. */
  name?: string;
  /** For tcp:// and edgecam:// sources: turns their host into the address dialled (e.g. `NAME.local`). Default: the system's resolver. */
  resolveHost?: HostResolver;
}

/**
 * The FrameSource for a parsed --source. Throws SOURCE_NOT_FOUND for a file that does not exist:
 * unlike a camera, it will not appear later.
 */
export function createSource(o: CreateSourceOptions): FrameSource {
  const size: CaptureSize = { width: o.width, height: o.height, fps: o.fps, quality: o.quality };
  const spec = o.source;
  if (spec.kind === 'stdin') {
    return createStdinSource({ input: o.stdin ?? process.stdin, ...size, logger: o.logger });
  }
  if (spec.kind === 'http') {
    // No ffmpeg: the camera's JPEGs are passed on as they come.
    return createHttpMjpegSource({ url: spec.url, insecure: spec.insecure, credentials: o.credentials, ...size, logger: o.logger, tuning: o.supervisor });
  }
  if (spec.kind === 'tcp') {
    // No ffmpeg: the seed's JPEGs are passed on as they come.
    return createSeedTcpSource({ host: spec.host, port: spec.port, ...size, logger: o.logger, resolveHost: o.resolveHost, tuning: o.supervisor });
  }
  if (spec.kind === 'edgecam') {
    const { kind: _kind, ...device } = spec;
    return createEdgecamSource({ device, ...size, logger: o.logger, resolveHost: o.resolveHost, tuning: o.supervisor });
  }
  const ffmpeg = o.ffmpeg;
  if (!ffmpeg) throw new Error(`createSource: ${formatSourceSpec(spec)} needs the resolved ffmpeg`);
  const log = o.logger.child({ source: formatSourceSpec(spec) });
  const base = {
    kind: spec.kind,
    spec: formatSourceSpec(spec),
    ...size,
    ffmpeg,
    logger: o.logger,
    supervisor: o.supervisor,
  };
  switch (spec.kind) {
    case 'testsrc':
      return createFfmpegSource({ ...base, args: () => testsrcArgs(size) });
    case 'v4l2':
      return createFfmpegSource({
        ...base,
        // Asked on every (re)start: the camera may have been swapped while it was unplugged.
        args: async () => {
          const formats = await probeV4l2(ffmpeg, spec.device);
          // An empty probe of a device that is not there: the camera may be plugged in later.
          if (formats.compressed.length === 0 && formats.raw.length === 0 && isMissing(spec.device)) {
            throw new InputNotReady(`${spec.device} does not exist yet (No such file or directory)`, 'it appears');
          }
          const mjpeg = formats.compressed.includes('mjpeg');
          log.info({ formats, passthrough: mjpeg }, mjpeg ? 'camera offers MJPEG: copying it' : 'camera offers no MJPEG: encoding');
          return v4l2Args(spec.device, size, mjpeg);
        },
      });
    case 'file': {
      const missing = missingSourceFile(spec);
      if (missing) throw new EdgeServerError('SOURCE_NOT_FOUND', `${o.name ?? `--source ${formatSourceSpec(spec)}`}: ${missing}`);
      return createFfmpegSource({
        ...base,
        args: async () => {
          const probe = await probeFile(ffmpeg, spec.path);
          log.info({ probe }, probe.videoCodec === 'mjpeg' ? 'file is MJPEG: copying it' : 'encoding file to MJPEG');
          return fileArgs(spec.path, size, probe);
        },
      });
    }
    case 'rtsp': {
      const url = withCredentials(new URL(spec.url), o.credentials).href;
      let timeoutOption: RtspTimeoutOption | undefined;
      return createFfmpegSource({
        ...base,
        args: async () => {
          timeoutOption ??= await probeRtspTimeoutOption(ffmpeg);
          return rtspArgs(url, size, timeoutOption, spec.transport);
        },
      });
    }
  }
}
