// Public API of @edgecam/edge-server.
export { startEdgeServer, type RunningEdgeServer, type StartOptions } from './server.js';
export { parseCommandLine, ConfigError, DEFAULT_CONFIG, LOG_LEVELS, type EdgeServerConfig, type LogLevel } from './config.js';
export { resolveFfmpeg, type FfmpegVia, type ResolvedFfmpeg } from './sources/ffmpeg/resolve-ffmpeg.js';
export { qualityToQscale, rawCameraEncodeArgs } from './sources/ffmpeg/ffmpeg-args.js';
export { EdgeServerError, type EdgeServerErrorCode } from './errors.js';
export type { TlsMaterial } from './tls/tls-material.js';
export { parseSourceSpec, formatSourceSpec, type SourceSpec } from './sources/source-spec.js';
export type { FrameSource, SourceEvent } from './sources/source.js';
export type {
  ClientHandle,
  ClientMode,
  ClientProtocol,
  ClientRegistry,
  ClientStats,
  FrameHub,
  ServerMetrics,
  SourceInfo,
  SourceKind,
  SourceState,
} from './contracts.js';
