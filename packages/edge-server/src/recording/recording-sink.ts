// Continuous recording of one camera: segmented, crash-safe files in <dir>/<camera>/ (MJPEG AVI
// of the camera's JPEGs, or fragmented MP4 of its H.264 encoder's output), a new file after each
// loss of the camera, and a pause while the disk budget has no room. The recording is a
// subscriber of the hub (or of the H.264 encoder) like any viewer, so it keeps them running.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { backoffDelay } from '@edgecam/runtime';
import { type H264Frame, type Recorder, type RecorderEvent, type RecorderFrame, type RecorderOptions, createRecorder, writeMp4Join } from '@edgecam/recorder';
import type { CameraContext, CameraEvent } from '../contracts.js';
import { DiskBudget, type DiskSpace } from './disk-budget.js';
import { MotionKeep } from './motion-keep.js';
import { MotionLog } from './motion-log.js';
import type { RecordConfig } from './record-config.js';
import { RecordingsStore } from './recordings-store.js';
import { repairUnfinished } from './repair-unfinished.js';
import { Retention } from './retention.js';
import { CAMERA_NAME_RE, segmentPattern } from './segment-name.js';

/** One picture of the camera's H.264 (the encoder's access units, as h264/ gives them). */
export interface H264Picture {
  /** Annex-B bytes of one picture. */
  readonly data: Buffer;
  readonly keyframe: boolean;
  /** Capture time, Unix µs. */
  readonly timestampUs: number;
}

/** What the recording needs from the outside world; tests replace the disk's free space and the clock. */
export interface RecordingDeps {
  /** Free bytes on the disk holding `dir` (for an unprivileged process) and its size. Default: fs.statfs. */
  readonly statfs?: (dir: string) => Promise<DiskSpace>;
  /** Wall-clock ms, for the age rule. Default Date.now. */
  readonly now?: () => number;
  /** How often retention runs besides before each new segment. Default 60 s. */
  readonly checkIntervalMs?: number;
  /** No frame for this long counts as a camera loss: the segment is closed. Default 3 s. */
  readonly gapMs?: number;
  /** While the disk is full, retention runs again after this, doubling up to 30 s. Default 1 s. */
  readonly fullRetryMs?: number;
  /** Recorder settings (tests: checkpointIntervalMs, fsync, a failing fs). */
  readonly recorder?: Pick<RecorderOptions, 'checkpointIntervalMs' | 'fsync' | 'frameRate' | 'fs'>;
}

export type RecordingState = 'starting' | 'recording' | 'waiting' | 'disk-full' | 'closed';

/** What the recording is doing, for /status and logs. */
export interface RecordingStatus {
  readonly camera: string;
  readonly dir: string;
  readonly format: RecordConfig['format'];
  /** waiting: no frames (the camera is lost); disk-full: stopped to keep the free-space floor or maxSize, or after ENOSPC. */
  readonly state: RecordingState;
  /** The segment being written. */
  readonly file: string | undefined;
  readonly framesWritten: number;
  /** Frames not recorded: while starting, while the disk is full, or refused by the recorder. */
  readonly framesDropped: number;
  /** Bytes that may still be written before retention has to make room. */
  readonly budgetBytes: number;
  readonly lastError: string | null;
}

export interface RecordingHandle {
  /** Stop: unsubscribe, finish the open segment (with its index). */
  close(): Promise<void>;
  status(): RecordingStatus;
  readonly store: RecordingsStore;
  /** With format mp4: [fromMs, toMs] of the recording joined into one MP4 at `path` (event clips). */
  readonly writeClip?: (fromMs: number, toMs: number, path: string) => Promise<void>;
}

/** Frames ask for retention at most this often when room runs low. */
const RETENTION_MIN_INTERVAL_MS = 250;

/** The longest wait between retention runs while the disk is full. */
const FULL_RETRY_MAX_MS = 30_000;

/**
 * Record `ctx`'s camera into `cfg.dir/<name>/` until close(): its JPEGs as AVI, or with
 * `format: mp4` the pictures of `h264` (its encoder's units, given by the feature). `motion`:
 * the camera's motion events, whose stretches are kept in motion.json, listed per segment and,
 * with keep.mode motion, all that old footage keeps.
 */
export function startRecording(ctx: CameraContext, cfg: RecordConfig, deps: RecordingDeps = {}, h264?: Observable<H264Picture>, motion?: Observable<CameraEvent>): RecordingHandle {
  if (!CAMERA_NAME_RE.test(ctx.name)) {
    throw new Error(`camera name ${JSON.stringify(ctx.name)} cannot name a recordings directory: use letters, digits, '.', '_' and '-'`);
  }
  if (cfg.format === 'mp4' && !h264) throw new Error(`camera ${ctx.name}: record.format mp4 records the camera's H.264, which it has none of; add h264: {enabled: true} to the camera, or set record.format: avi`);
  if (cfg.keep.mode === 'motion' && !motion) throw new Error(`camera ${ctx.name}: record.keep.mode motion keeps the stretches its motion detection finds, which is off; add motion: {} to the camera, or set record.keep.mode: all`);
  return new RecordingSink(ctx, cfg, deps, h264, motion);
}

class RecordingSink implements RecordingHandle {
  readonly store: RecordingsStore;
  readonly writeClip?: (fromMs: number, toMs: number, path: string) => Promise<void>;
  private readonly dir: string;
  private readonly log: CameraContext['logger'];
  private readonly gapMs: number;
  private readonly budget: DiskBudget;
  private readonly retention: Retention;
  private readonly motionLog: MotionLog | undefined;
  private motionSub: Subscription | undefined;
  /** Retention runs since the disk was found full; the next one waits backoffDelay(attempts). */
  private fullAttempts = 0;
  private fullRetry: NodeJS.Timeout | undefined;
  private state: RecordingState = 'starting';
  private recorder: Recorder | undefined;
  private liveFile: string | undefined;
  private sub: Subscription | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastFrameUs = 0;
  private lastArrival = 0;
  private lowRunAt = -Infinity;
  private written = 0;
  private dropped = 0;
  private retentionRun: Promise<void> | undefined;
  private retentionAgain = false;
  private lastError: string | null = null;
  /** The recorder refused a frame of a new size: the same frame opens the next segment. */
  private reopen = false;
  /** The capture time of the last frame before a camera loss closed the segment. */
  private lossAtUs: number | undefined;
  private readonly closing: Array<Promise<unknown>> = [];
  private readonly ready: Promise<void>;

  constructor(
    private readonly ctx: CameraContext,
    private readonly cfg: RecordConfig,
    private readonly deps: RecordingDeps,
    private readonly h264: Observable<H264Picture> | undefined,
    motion: Observable<CameraEvent> | undefined,
  ) {
    this.dir = join(cfg.dir, ctx.name);
    this.log = ctx.logger.child({ component: 'recording' });
    this.gapMs = deps.gapMs ?? 3000;
    this.budget = new DiskBudget(cfg.keep.maxSize, deps.statfs);
    const now = deps.now ?? Date.now;
    if (cfg.format === 'mp4') this.writeClip = async (fromMs, toMs, path) => writeMp4Join(await this.store.planMp4(fromMs, toMs), path);
    if (motion) {
      const log = new MotionLog(this.dir, now, this.log);
      this.motionLog = log;
      // From the start, so no event is missed while motion.json loads (load merges into it).
      this.motionSub = motion.subscribe({ next: (e) => log.onEvent(e), error: () => undefined });
    }
    const motionLog = this.motionLog;
    this.store = new RecordingsStore(ctx.name, this.dir, () => this.liveFile, motionLog && ((from, to) => motionLog.within(from, to)));
    const keep = motionLog && new MotionKeep(this.store, motionLog, cfg.keep, now, this.log);
    this.retention = new Retention(this.store, cfg.keep, this.budget, now, this.log, keep && (() => keep.run()));
    this.ready = this.start().catch((err: unknown) => {
      this.lastError = String((err as Error)?.message ?? err);
      this.log.error({ err, dir: this.dir }, 'recording could not start');
    });
  }

  status(): RecordingStatus {
    return {
      camera: this.ctx.name,
      dir: this.dir,
      format: this.cfg.format,
      state: this.state,
      file: this.liveFile,
      framesWritten: this.written,
      framesDropped: this.dropped,
      budgetBytes: Math.max(0, this.budget.remaining()),
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sub?.unsubscribe();
    this.motionSub?.unsubscribe();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.fullRetry);
    await this.ready;
    this.endSegment();
    await Promise.all(this.closing);
    await this.retentionRun;
    await this.motionLog?.close();
  }

  /** A method, so TypeScript does not narrow the state across an await. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // First: the listing shows the stretches as soon as it lists anything.
    await this.motionLog?.load();
    await repairUnfinished(this.dir, this.log, () => this.isClosed());
    if (this.isClosed()) return;
    await this.runRetention();
    if (this.isClosed()) return;
    if (this.state === 'starting') this.state = 'waiting';
    const check = this.deps.checkIntervalMs ?? 60_000;
    this.timers.push(setInterval(() => void this.runRetention(), check).unref());
    this.timers.push(setInterval(() => this.checkGap(), Math.max(100, this.gapMs / 2)).unref());
    this.sub = this.h264
      ? this.h264.subscribe({ next: (u) => this.take(u.data.length, u.timestampUs, u.keyframe, { h264: u.data, captureTimeUs: u.timestampUs }) })
      : this.ctx.hub.frames$.subscribe({ next: (f: CapturedFrame) => this.take(f.jpeg.length, f.captureTimeUs, true, f) });
    this.log.info({ dir: this.dir, format: this.cfg.format, segmentMs: this.cfg.segment, keep: this.cfg.keep }, 'recording');
  }

  /**
   * The hot path, for a JPEG or an H.264 picture: a few comparisons and the recorder's write. A
   * new file starts only at a keyframe (every JPEG is one); the pictures before it cannot be decoded.
   */
  private take(bytes: number, timeUs: number, keyframe: boolean, frame: RecorderFrame | H264Frame): void {
    if (this.state === 'closed') return;
    this.lastArrival = performance.now();
    if (this.lossAtUs !== undefined) {
      // A picture captured before the loss, which the encoder let out only when the camera came back.
      if (timeUs - this.lossAtUs <= this.gapMs * 1000) {
        this.dropped++;
        return;
      }
      this.lossAtUs = undefined;
    }
    if (this.lastFrameUs > 0 && timeUs - this.lastFrameUs > this.gapMs * 1000) this.endSegment();
    this.lastFrameUs = timeUs;
    if (this.state === 'disk-full' || this.state === 'starting' || (!this.recorder && !keyframe)) {
      this.dropped++;
      return;
    }
    const cost = this.budget.frameCost(bytes, !this.recorder);
    if (this.budget.isLow(cost)) this.retentionSoon();
    const charge = this.budget.take(cost);
    if (charge !== 'taken') {
      this.dropped++;
      // Once per measure: a run that finds no more room declares the disk full.
      if (charge === 'exhausted') void this.runRetention();
      return;
    }
    if (!this.recorder) {
      this.recorder = this.openRecorder();
      this.retentionSoon();
    }
    this.state = 'recording';
    this.written++;
    // Refusals arrive as 'rejected' events, a write error as the 'error' event.
    this.recorder.write(frame).catch(() => undefined);
    if (this.reopen) {
      // A frame of a new size (H.264: new parameter sets) ended the segment: it starts the next one.
      this.reopen = false;
      this.recorder = this.openRecorder();
      this.written++;
      this.recorder.write(frame).catch(() => undefined);
    }
  }

  /** Retention on behalf of the frames, at most every RETENTION_MIN_INTERVAL_MS however low the room. */
  private retentionSoon(): void {
    if (this.lastArrival - this.lowRunAt < RETENTION_MIN_INTERVAL_MS) return;
    this.lowRunAt = this.lastArrival;
    void this.runRetention();
  }

  private openRecorder(): Recorder {
    const rec = createRecorder(join(this.dir, segmentPattern(this.cfg.format)), {
      ...this.deps.recorder,
      segment: { durationMs: this.cfg.segment },
      // An MP4's times count from its first frame: its name then says when that was, exactly.
      namesFromCaptureTime: this.cfg.format === 'mp4',
      onEvent: (e) => this.onRecorderEvent(rec, e),
    });
    return rec;
  }

  private onRecorderEvent(rec: Recorder, e: RecorderEvent): void {
    switch (e.type) {
      case 'opened':
      case 'segment':
        this.liveFile = e.path.slice(this.dir.length + 1);
        if (e.type === 'segment') {
          this.budget.chargeFile();
          void this.runRetention();
        }
        this.log.info({ file: this.liveFile }, 'recording segment');
        break;
      case 'closed':
        // A segment written to the end: the disk takes our writes again.
        if (!e.file.error) this.fullAttempts = 0;
        this.log.info({ file: e.file.path.slice(this.dir.length + 1), frames: e.file.frames, bytes: e.file.bytes }, 'recording segment closed');
        break;
      case 'rejected':
        // Counted as written when handed over; the recorder refused it after all.
        this.written--;
        this.dropped++;
        // A new picture size needs a new file; the frame that brought it starts it.
        if (e.error.code === 'SIZE_MISMATCH' && rec === this.recorder) {
          this.endSegment();
          this.reopen = true;
        }
        break;
      case 'error':
        this.lastError = e.error.message;
        if (e.error.errno === 'ENOSPC') {
          // Opening file after file on a full disk helps nobody: wait for retention to find room.
          this.stopForRoom({ errno: e.error.errno }, 'recording stopped: the disk is full (ENOSPC); it resumes by itself once there is room');
          break;
        }
        this.log.error({ err: e.error.message, errno: e.error.errno }, 'recording write failed; a new segment starts with the next frame');
        if (rec === this.recorder) this.endSegment();
        void this.runRetention();
        break;
      case 'progress':
        break;
    }
  }

  /** Finish the open segment, if any; the next frame opens a new one. */
  private endSegment(): void {
    const rec = this.recorder;
    if (!rec) return;
    this.recorder = undefined;
    this.liveFile = undefined;
    const done = rec.close();
    this.closing.push(done);
    void done.finally(() => this.closing.splice(this.closing.indexOf(done), 1));
  }

  /** No frame for gapMs: the camera is gone; close the file so the gap shows in the list. */
  private checkGap(): void {
    if (this.recorder && performance.now() - this.lastArrival > this.gapMs) {
      this.log.warn({ file: this.liveFile, gapMs: this.gapMs }, 'no frames from the camera; segment closed until they return');
      this.endSegment();
      this.lossAtUs = this.lastFrameUs;
      if (this.state === 'recording') this.state = 'waiting';
    }
  }

  /** One retention run at a time; a request during a run makes one more run after it. */
  private runRetention(): Promise<void> {
    if (this.retentionRun) {
      this.retentionAgain = true;
      return this.retentionRun;
    }
    this.retentionRun = (async () => {
      try {
        do {
          this.retentionAgain = false;
          await this.retentionOnce();
        } while (this.retentionAgain && this.state !== 'closed');
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.error({ err }, 'retention check failed');
      } finally {
        this.retentionRun = undefined;
      }
    })();
    return this.retentionRun;
  }

  /** Retention makes room; then the recording stops, stays stopped, or resumes by what is left. */
  private async retentionOnce(): Promise<void> {
    const { budget, free } = await this.retention.run(this.recorder?.stats.pendingBytes ?? 0);
    if (!this.budget.holdsAFrame(budget)) {
      this.stopForRoom(
        { free, minFree: this.cfg.keep.minFree, maxSize: this.cfg.keep.maxSize },
        'recording stopped: even with every older segment deleted it would cross keep.minFree or keep.maxSize; free disk space or lower the limits',
      );
    } else if (this.state === 'disk-full') {
      // Only a retry resumes: after ENOSPC, statfs may see room the disk does not give (inodes, quotas).
      if (budget >= this.budget.reserve && this.fullRetry === undefined) {
        this.state = 'waiting';
        this.log.info({ budget }, 'recording resumed: there is room again');
      } else {
        this.retryWhenFull();
      }
    }
  }

  /** Stop writing until a retention run finds room again, and retry retention on the backoff meanwhile. */
  private stopForRoom(fields: Record<string, unknown>, msg: string): void {
    if (this.state === 'closed') return;
    if (this.state !== 'disk-full') {
      this.state = 'disk-full';
      this.log.error(fields, msg);
      this.endSegment();
    }
    this.retryWhenFull();
  }

  private retryWhenFull(): void {
    if (this.fullRetry !== undefined || this.state === 'closed') return;
    this.fullAttempts++;
    const ms = backoffDelay(this.fullAttempts, this.deps.fullRetryMs ?? 1000, FULL_RETRY_MAX_MS);
    this.fullRetry = setTimeout(() => {
      this.fullRetry = undefined;
      void this.runRetention();
    }, ms);
    this.fullRetry.unref();
  }
}
