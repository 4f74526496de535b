// Public API of @edgecam/edge-server.
export { startEdgeServer, type RunningEdgeServer, type StartOptions } from './server.js';
export { parseCommandLine, ConfigError, DEFAULT_CONFIG, LOG_LEVELS, type EdgeServerConfig, type LogLevel, type ServerConfig } from './config/config.js';
export { CAMERA_FEATURES, CAMERA_SCHEMA, type CameraConfig, type CameraFeatures } from './config/camera-config.js';
export type { RunningFeatures } from './camera/feature-runner.js';
export type { FeatureDeps } from './features.js';
export { FEATURES } from './features.js';
export type { CameraFeature, FeatureInstance, PagePart, ServedFeature } from './camera/feature.js';
export type { Route } from './http/route.js';
export { Camera, CameraRegistry, type CameraSettings, type SettingsChange } from './camera/cameras.js';
export type { SourceChange } from './camera/frame-hub.js';
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
  CameraContext,
  CameraEvent,
  FrameHub,
  ServerMetrics,
  SourceInfo,
  SourceKind,
  SourceState,
} from './contracts.js';
export { checkH264Source, h264ConfigSchema, type H264Config } from './h264/h264-config.js';
export { H264Hub, type H264HubOptions, type H264HubStats, type H264Sink, type H264SinkStats } from './h264/h264-hub.js';
export type { AccessUnit } from './h264/access-units.js';
export { startRecording, type RecordingDeps, type RecordingHandle, type RecordingState, type RecordingStatus } from './recording/recording-sink.js';
export { recordConfigSchema, type RecordConfig, type RecordConfigInput } from './recording/record-config.js';
export { RecordingsStore, type RecordingEntry, type ReplayFrame } from './recording/recordings-store.js';
export { recordingsRoutes, type RecordingsRoute, type RecordingsRoutes, type RecordingsRoutesDeps } from './recording/recordings-routes.js';
export { motionConfigSchema, type MotionConfig } from './motion/motion-config.js';
export { startMotion, type MotionDeps, type MotionStatus, type RunningMotion } from './motion/start-motion.js';
export { publishConfigSchema, publishTargetSchema, maskedUrl, type PublishConfig, type PublishConfigInput, type PublishTarget } from './publish/publish-config.js';
export { checkPublishTargets } from './publish/publish-protocols.js';
export { startPublishing, type PublishDeps, type PublishState, type PublishTargetStatus, type RunningPublishing } from './publish/start-publishing.js';
