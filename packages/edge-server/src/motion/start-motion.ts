// Motion detection for one camera: a few frames a second from its hub go through a small
// grayscale copy (gray-decoder.ts) into @edgecam/motion's detector, whose events come out as
// CameraEvents carrying the full-size JPEG of the frame that moved most. Running counts as a
// consumer of the camera, so the capture stays on while motion is watched.
import { Subject, type Observable, type Subscription } from 'rxjs';
import { MotionDetector, type MotionEvent } from '@edgecam/motion';
import type { CapturedFrame } from '@edgecam/protocol';
import type { CameraContext, CameraEvent } from '../contracts.js';
import { resolveFfmpeg, type ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import { GrayDecoder } from './gray-decoder.js';
import { detectorOptions, type MotionConfig } from './motion-config.js';

/** What startMotion needs from outside. */
export interface MotionDeps {
  /** Default: resolveFfmpeg(). */
  ffmpeg?: ResolvedFfmpeg;
}

/** What /status can say about a camera's motion detection. */
export interface MotionStatus {
  /** waiting: no frame yet. restarting: ffmpeg died and waits to retry. */
  state: 'waiting' | 'running' | 'restarting' | 'closed';
  /** Frames analysed so far. */
  analysed: number;
  /** Frames meant for analysis that ffmpeg could not take (behind, restarting). */
  dropped: number;
  restarts: number;
  /** The analysed picture's size, once known. */
  width: number | null;
  height: number | null;
  /** The newest analysed frame's moving share of the picture, 0..1. */
  score: number;
  /** The newest analysed frame was taken for a light change. */
  lightChange: boolean;
  /** The background is still seeded from the first frames (`warmUp`): no motion is reported yet. */
  warmingUp: boolean;
  /** The event going on, if any. */
  event: { id: string; startedAt: number; score: number } | null;
  /** Why ffmpeg last failed, while it restarts. */
  lastError: string | null;
  ffmpegPid: number | null;
}

/** A camera's running motion detection. */
export interface RunningMotion {
  /** Hot: start, update and end of each motion event; completes after close(). */
  readonly events$: Observable<CameraEvent>;
  /** Stops watching, kills ffmpeg, ends an event going on (one last `end`), completes events$. */
  close(): Promise<void>;
  status(): MotionStatus;
}

/** Starts motion detection on a camera with an already validated (motionConfigSchema) configuration. */
export function startMotion(ctx: CameraContext, cfg: MotionConfig, deps: MotionDeps = {}): RunningMotion {
  const log = ctx.logger.child({ feature: 'motion' });
  const detector = new MotionDetector(detectorOptions(cfg));
  const events = new Subject<CameraEvent>();
  const periodUs = 1e6 / cfg.fps;
  let nextDueUs = 0;
  let analysed = 0;
  let closed = false;
  /** The frame that moved most in the event going on (or the run of motion that may start one). */
  let best: { score: number; frame: CapturedFrame } | null = null;
  let current: { id: string; startedAt: number; score: number } | null = null;

  const publish = (e: MotionEvent): void => {
    const startedAt = Math.round(e.startedAt);
    if (e.phase === 'start') current = { id: `${ctx.name}-${startedAt}`, startedAt, score: e.score };
    if (!current) return;
    current.score = e.score;
    const event: CameraEvent = {
      id: current.id,
      camera: ctx.name,
      type: 'motion',
      phase: e.phase,
      startedAt,
      ...(e.endedAt !== undefined ? { endedAt: Math.round(e.endedAt) } : {}),
      score: e.score,
      ...(best ? { snapshot: best.frame } : {}),
    };
    if (e.phase === 'start') log.info({ event: event.id, score: round(e.score) }, 'motion started');
    if (e.phase === 'end') {
      log.info({ event: event.id, score: round(e.score), seconds: round((event.endedAt! - startedAt) / 1000) }, 'motion ended');
      current = null;
      best = null;
    }
    events.next(event);
  };

  const decoder = new GrayDecoder({
    ffmpeg: deps.ffmpeg ?? resolveFfmpeg(),
    logger: log,
    width: cfg.width,
    onPicture: (data, width, height, frame) => {
      analysed++;
      const e = detector.push({ data, width, height, timestampMs: frame.captureTimeUs / 1000 });
      const sample = detector.last;
      if (sample.moving && (best === null || sample.score > best.score)) best = { score: sample.score, frame };
      if (e) publish(e);
      if (!sample.moving && !detector.inEvent) best = null;
    },
  });

  const watching: Subscription = ctx.hub.frames$.subscribe((frame) => {
    if (frame.captureTimeUs < nextDueUs) return;
    // On schedule, unless a whole period behind (the camera was lost): then from now.
    nextDueUs += periodUs;
    if (nextDueUs <= frame.captureTimeUs) nextDueUs = frame.captureTimeUs + periodUs;
    decoder.push(frame);
  });

  return {
    events$: events.asObservable(),
    async close() {
      if (closed) return;
      closed = true;
      watching.unsubscribe();
      await decoder.stop();
      const e = detector.finish(Date.now());
      if (e) publish(e);
      events.complete();
    },
    status() {
      const size = decoder.pictureSize;
      const pid = decoder.pid;
      return {
        state: closed ? 'closed' : pid !== undefined ? 'running' : decoder.restarts > 0 || decoder.lastError ? 'restarting' : 'waiting',
        analysed,
        dropped: decoder.dropped,
        restarts: decoder.restarts,
        width: size?.width ?? null,
        height: size?.height ?? null,
        score: detector.last.score,
        lightChange: detector.last.lightChange,
        warmingUp: detector.warmingUp,
        event: current && { ...current },
        lastError: decoder.lastError,
        ffmpegPid: pid ?? null,
      };
    },
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
