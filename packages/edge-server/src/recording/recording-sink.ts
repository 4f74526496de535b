// Continuous recording of one camera: segmented, crash-safe AVI files in <dir>/<camera>/, a new
// file after each loss of the camera, and a pause while the disk budget has no room. The
// recording is a subscriber of the hub like any viewer, so it keeps the capture running.
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { backoffDelay } from '@edgecam/runtime';
import { type Recorder, type RecorderEvent, type RecorderOptions, createRecorder, inspect, repair } from '@edgecam/recorder';
import type { CameraContext } from '../contracts.js';
import { DiskBudget, type DiskSpace } from './disk-budget.js';
import type { RecordConfig } from './record-config.js';
import { RecordingsStore, regularFile } from './recordings-store.js';
import { Retention } from './retention.js';
import { CAMERA_NAME_RE, SEGMENT_PATTERN, segmentStart } from './segment-name.js';

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
}

/** Frames ask for retention at most this often when room runs low. */
const RETENTION_MIN_INTERVAL_MS = 250;

/** Problems that a crash leaves and repair fixes. */
const REPAIRABLE = new Set(['TRUNCATED', 'MISSING_INDEX', 'INDEX_MISMATCH', 'COUNT_MISMATCH', 'SIZE_MISMATCH']);

/** The longest wait between retention runs while the disk is full. */
const FULL_RETRY_MAX_MS = 30_000;

/** Record `ctx`'s camera into `cfg.dir/<name>/` until close(). */
export function startRecording(ctx: CameraContext, cfg: RecordConfig, deps: RecordingDeps = {}): RecordingHandle {
  if (!CAMERA_NAME_RE.test(ctx.name)) {
    throw new Error(`camera name ${JSON.stringify(ctx.name)} cannot name a recordings directory: use letters, digits, '.', '_' and '-'`);
  }
  return new RecordingSink(ctx, cfg, deps);
}

class RecordingSink implements RecordingHandle {
  readonly store: RecordingsStore;
  private readonly dir: string;
  private readonly log: CameraContext['logger'];
  private readonly gapMs: number;
  private readonly budget: DiskBudget;
  private readonly retention: Retention;
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
  private readonly closing: Array<Promise<unknown>> = [];
  private readonly ready: Promise<void>;

  constructor(
    private readonly ctx: CameraContext,
    private readonly cfg: RecordConfig,
    private readonly deps: RecordingDeps,
  ) {
    this.dir = join(cfg.dir, ctx.name);
    this.log = ctx.logger.child({ component: 'recording' });
    this.gapMs = deps.gapMs ?? 3000;
    this.budget = new DiskBudget(cfg.keep.maxSize, deps.statfs);
    this.store = new RecordingsStore(ctx.name, this.dir, () => this.liveFile);
    this.retention = new Retention(this.store, cfg.keep, this.budget, deps.now ?? Date.now, this.log);
    this.ready = this.start().catch((err: unknown) => {
      this.lastError = String((err as Error)?.message ?? err);
      this.log.error({ err, dir: this.dir }, 'recording could not start');
    });
  }

  status(): RecordingStatus {
    return {
      camera: this.ctx.name,
      dir: this.dir,
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
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.fullRetry);
    await this.ready;
    this.endSegment();
    await Promise.all(this.closing);
    await this.retentionRun;
  }

  /** A method, so TypeScript does not narrow the state across an await. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.repairUnfinished();
    if (this.isClosed()) return;
    await this.runRetention();
    if (this.isClosed()) return;
    if (this.state === 'starting') this.state = 'waiting';
    const check = this.deps.checkIntervalMs ?? 60_000;
    this.timers.push(setInterval(() => void this.runRetention(), check).unref());
    this.timers.push(setInterval(() => this.checkGap(), Math.max(100, this.gapMs / 2)).unref());
    this.sub = this.ctx.hub.frames$.subscribe({ next: (f) => this.onFrame(f) });
    this.log.info({ dir: this.dir, segmentMs: this.cfg.segment, keep: this.cfg.keep }, 'recording');
  }

  /** Segments a crash or power cut left without their index get it rebuilt from their frames. */
  private async repairUnfinished(): Promise<void> {
    for (const file of await readdir(this.dir)) {
      if (segmentStart(file) === undefined) continue;
      const path = join(this.dir, file);
      // repair() writes: through a symlink it would rewrite whatever the link points at.
      if (!(await regularFile(path))) continue;
      const info = await inspect(path).catch(() => undefined);
      if (info && !info.problems.some((p) => REPAIRABLE.has(p.code))) continue;
      try {
        const r = await repair(path);
        this.log.warn({ file, frames: r.frames, droppedBytes: r.droppedBytes, problems: r.problems.map((p) => p.code) }, 'repaired an unfinished recording');
      } catch (err) {
        // Not even one complete frame: nothing to keep.
        this.log.warn({ file, err: (err as Error).message }, 'removed an unfinished recording without a complete frame');
        await unlink(path).catch(() => undefined);
      }
    }
  }

  /** The hot path: a few comparisons and the recorder's write. */
  private onFrame(frame: CapturedFrame): void {
    if (this.state === 'closed') return;
    this.lastArrival = performance.now();
    if (this.lastFrameUs > 0 && frame.captureTimeUs - this.lastFrameUs > this.gapMs * 1000) this.endSegment();
    this.lastFrameUs = frame.captureTimeUs;
    if (this.state === 'disk-full' || this.state === 'starting') {
      this.dropped++;
      return;
    }
    const cost = this.budget.frameCost(frame.jpeg.length, !this.recorder);
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
  }

  /** Retention on behalf of the frames, at most every RETENTION_MIN_INTERVAL_MS however low the room. */
  private retentionSoon(): void {
    if (this.lastArrival - this.lowRunAt < RETENTION_MIN_INTERVAL_MS) return;
    this.lowRunAt = this.lastArrival;
    void this.runRetention();
  }

  private openRecorder(): Recorder {
    const rec = createRecorder(join(this.dir, SEGMENT_PATTERN), {
      ...this.deps.recorder,
      segment: { durationMs: this.cfg.segment },
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
        // A new picture size needs a new file.
        if (e.error.code === 'SIZE_MISMATCH' && rec === this.recorder) this.endSegment();
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
