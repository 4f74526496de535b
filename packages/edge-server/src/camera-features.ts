// What runs beside one camera's capture as its configuration asks: continuous recording, motion
// detection and an H.264 encoder. Each is a consumer of the camera (CameraContext) like any
// viewer; this file starts them, reports them for /status and /metrics, and stops them in order.
import { merge, type Observable } from 'rxjs';
import type { CameraFeatures } from './camera-config.js';
import type { CameraContext, CameraEvent } from './contracts.js';
import { H264Hub } from './h264/h264-hub.js';
import { startMotion, type MotionDeps, type MotionStatus, type RunningMotion } from './motion/start-motion.js';
import { startRecording, type RecordingDeps, type RecordingHandle, type RecordingStatus } from './recording/camera-recording.js';
import type { ResolvedFfmpeg } from './sources/ffmpeg/resolve-ffmpeg.js';

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
  /** The configured features' states, as /status shows them under the camera. */
  status(): { recording?: RecordingStatus; motion?: MotionStatus; h264?: ReturnType<H264Hub['stats']> & { encoder: string } };
  /** Motion stops first (its last `end` still reaches the outputs), then recording, then the encoder. */
  close(): Promise<void>;
}

/** True when the features need ffmpeg (motion decodes through it, H.264 encodes with it). */
export function featuresNeedFfmpeg(f: Partial<CameraFeatures>): boolean {
  return Boolean(f.motion) || Boolean(f.h264?.enabled);
}

/** Starts the features `f` asks for on `camera`; ffmpeg must be given when featuresNeedFfmpeg(f). */
export function startCameraFeatures(camera: CameraContext, f: Partial<CameraFeatures>, ffmpeg: ResolvedFfmpeg | null, deps: FeatureDeps = {}): RunningFeatures {
  const need = (what: string): ResolvedFfmpeg => {
    if (!ffmpeg) throw new Error(`${what} of camera ${camera.name} needs ffmpeg, which was not resolved`);
    return ffmpeg;
  };
  const extra = f.motion ? deps.motionEvents?.(camera) : undefined;
  const motion = f.motion ? startMotion(camera, f.motion, { ffmpeg: need('motion detection'), ...deps.motion }) : undefined;
  const h264Config = f.h264?.enabled ? f.h264 : undefined;
  const h264 = h264Config ? new H264Hub(camera, h264Config, { ffmpeg: need('the H.264 encoder') }) : undefined;
  const recording = f.record ? startRecording(camera, f.record, deps.recording) : undefined;
  let closing: Promise<void> | undefined;
  return {
    camera: camera.name,
    recording,
    motion,
    events$: motion && extra ? merge(motion.events$, extra) : motion?.events$,
    h264,
    status: () => ({
      ...(recording ? { recording: recording.status() } : {}),
      ...(motion ? { motion: motion.status() } : {}),
      ...(h264 && h264Config ? { h264: { encoder: h264Config.encoder, ...h264.stats() } } : {}),
    }),
    close: () =>
      (closing ??= (async () => {
        await motion?.close();
        await recording?.close();
        await h264?.close();
      })()),
  };
}
