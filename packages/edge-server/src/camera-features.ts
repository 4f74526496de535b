// What runs beside one camera's capture as its configuration asks: continuous recording, motion
// detection, an H.264 encoder and the publishers that push it to media engines. Each is a consumer of the camera (CameraContext) like any
// viewer; this file starts them, reports them for /status and /metrics, and stops them in order.
import { merge, type Observable } from 'rxjs';
import type { CameraFeatures } from './camera-config.js';
import { EdgeServerError } from './errors.js';
import type { CameraContext, CameraEvent } from './contracts.js';
import { H264Hub } from './h264/h264-hub.js';
import { startMotion, type MotionDeps, type MotionStatus, type RunningMotion } from './motion/start-motion.js';
import { startRecording, type RecordingDeps, type RecordingHandle, type RecordingStatus } from './recording/camera-recording.js';
import { startPublishing, type PublishTargetStatus, type RunningPublishing } from './publish/start-publishing.js';
import type { ResolvedFfmpeg } from './sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from './sources/source-spec.js';

/** What code (tests) can set for the features beyond their configuration. */
export interface FeatureDeps {
  recording?: RecordingDeps;
  motion?: MotionDeps;
  /** More events of a camera that has `motion:`, going out beside its detector's (tests drive events this way). */
  motionEvents?: (camera: CameraContext) => Observable<CameraEvent> | undefined;
}

/** One camera's running features; a feature not configured is undefined. */
export interface RunningFeatures {
  readonly camera: string;
  readonly recording: RecordingHandle | undefined;
  readonly motion: RunningMotion | undefined;
  /** The detector's events (and FeatureDeps.motionEvents'); undefined without `motion:`. */
  readonly events$: Observable<CameraEvent> | undefined;
  readonly h264: H264Hub | undefined;
  readonly publishing: RunningPublishing | undefined;
  /** The configured features' states, as /status shows them under the camera. */
  status(): { recording?: RecordingStatus; motion?: MotionStatus; h264?: ReturnType<H264Hub['stats']>; publish?: PublishTargetStatus[] };
  /** Motion stops first (its last `end` still reaches the outputs), then recording, the publishers, then the encoder. */
  close(): Promise<void>;
}

/** True when the features need ffmpeg (motion decodes through it, H.264 encodes with it). */
export function featuresNeedFfmpeg(f: Partial<CameraFeatures>): boolean {
  return Boolean(f.motion) || Boolean(f.h264?.enabled);
}

/** `publish:` pushes the H.264 output, so it needs one: refused with the fix rather than ignored. */
export function checkPublishNeedsH264(camera: string, f: Partial<CameraFeatures>): void {
  if (f.publish && f.publish.length > 0 && !f.h264?.enabled) {
    throw new EdgeServerError('CONFIG_INVALID', `camera ${camera}: publish: pushes the camera's H.264, which is off; add h264: {enabled: true} to the camera (or remove publish:)`);
  }
}

/** Starts the features `f` asks for on `camera`; ffmpeg must be given when featuresNeedFfmpeg(f). */
export function startCameraFeatures(
  camera: CameraContext,
  f: Partial<CameraFeatures>,
  ffmpeg: ResolvedFfmpeg | null,
  deps: FeatureDeps = {},
  source?: SourceSpec,
): RunningFeatures {
  checkPublishNeedsH264(camera.name, f);
  const need = (what: string): ResolvedFfmpeg => {
    if (!ffmpeg) throw new Error(`${what} of camera ${camera.name} needs ffmpeg, which was not resolved`);
    return ffmpeg;
  };
  const extra = f.motion ? deps.motionEvents?.(camera) : undefined;
  const motion = f.motion ? startMotion(camera, f.motion, { ffmpeg: need('motion detection'), ...deps.motion }) : undefined;
  const h264Config = f.h264?.enabled ? f.h264 : undefined;
  const h264 = h264Config ? new H264Hub(camera, h264Config, { ffmpeg: need('the H.264 encoder'), ...(source ? { source } : {}) }) : undefined;
  const recording = f.record ? startRecording(camera, f.record, deps.recording) : undefined;
  const publishing = h264 && f.publish && f.publish.length > 0 ? startPublishing(camera, h264, f.publish, { ffmpeg: need('publishing'), logger: camera.logger }) : undefined;
  let closing: Promise<void> | undefined;
  return {
    camera: camera.name,
    recording,
    motion,
    events$: motion && extra ? merge(motion.events$, extra) : motion?.events$,
    h264,
    publishing,
    status: () => ({
      ...(recording ? { recording: recording.status() } : {}),
      ...(motion ? { motion: motion.status() } : {}),
      ...(h264 ? { h264: h264.stats() } : {}),
      ...(publishing ? { publish: publishing.status() } : {}),
    }),
    close: () =>
      (closing ??= (async () => {
        await motion?.close();
        await recording?.close();
        await publishing?.close();
        await h264?.close();
      })()),
  };
}
