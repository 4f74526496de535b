// Continuous recording of one camera: segmented, crash-safe AVI files in <dir>/<camera>/, a new
// file after each loss of the camera, and retention that keeps the disk from ever filling. The
// recording is a subscriber of the hub like any viewer, so it keeps the capture running.
import { mkdir, readdir, statfs as nodeStatfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { backoffDelay } from '@edgecam/runtime';
import { type Recorder, type RecorderEvent, type RecorderOptions, createRecorder, inspect, repair } from '@edgecam/recorder';
import type { CameraContext } from '../contracts.js';
import type { RecordConfig } from './record-config.js';
import { RecordingsStore, regularFile } from './recordings-store.js';
import { type SegmentFile, planRetention, retentionReserve } from './retention.js';
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

/** What statfs tells retention; without `total` the reserve is not capped by the volume's size. */
export interface DiskSpace {
  readonly free: number;
  readonly total?: number;
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

/** Charged per frame for its chunk header, padding and index entries, written later. */
const FRAME_OVERHEAD = 64;
/** Charged per new file for its headers. */
const FILE_OVERHEAD = 64 * 1024;
/** Frames ask for retention at most this often when room runs low. */
const RETENTION_MIN_INTERVAL_MS = 250;

/** Problems that a crash leaves and repair fixes. */
const REPAIRABLE = new Set(['TRUNCATED', 'MISSING_INDEX', 'INDEX_MISMATCH', 'COUNT_MISMATCH', 'SIZE_MISMATCH']);

const defaultStatfs = async (dir: string): Promise<DiskSpace> => {
  const s = await nodeStatfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
};

/** The longest wait between retention runs while the disk is full. */
const FULL_RETRY_MAX_MS = 30_000;

/** Record `ctx`'s camera into `cfg.dir/<name>/` until close(). */
export function startRecording(ctx: CameraContext, cfg: RecordConfig, deps: RecordingDeps = {}): RecordingHandle {
  if (!CAMERA_NAME_RE.test(ctx.name)) {
    throw new Error(`camera name ${JSON.stringify(ctx.name)} cannot name a recordings directory: use letters, digits, '.', '_' and '-'`);
  }
  return new CameraRecording(ctx, cfg, deps);
}

class CameraRecording implements RecordingHandle {
  readonly store: RecordingsStore;
  private readonly dir: string;
  private readonly log: CameraContext['logger'];
  private readonly statfs: (dir: string) => Promise<DiskSpace>;
  private readonly now: () => number;
  private readonly gapMs: number;
  /** Room kept ahead of the writer; set again from the volume's size at each measure. */
  private reserve: number;
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
  private exhaustedAsked = false;
  /** The largest frame charged so far: less room than this (and a file's headers) is no room. */
  private largestCost = 0;
  private written = 0;
  private dropped = 0;
  /** Bytes charged since start; budget is what was left at the last measure minus what was charged since. */
  private spent = 0;
  private budgetAt = { budget: 0, spent: 0 };
  private retention: Promise<void> | undefined;
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
    this.statfs = deps.statfs ?? defaultStatfs;
    this.now = deps.now ?? Date.now;
    this.gapMs = deps.gapMs ?? 3000;
    this.reserve = retentionReserve(cfg.keep.maxSize);
    this.store = new RecordingsStore(ctx.name, this.dir, () => this.liveFile);
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
      budgetBytes: Math.max(0, this.budget()),
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
    await this.retention;
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
    const cost = frame.jpeg.length + FRAME_OVERHEAD + (this.recorder ? 0 : FILE_OVERHEAD);
    const budget = this.budget();
    if (budget - cost < this.reserve / 2) this.retentionSoon();
    if (cost > this.largestCost) this.largestCost = cost;
    if (cost > budget) {
      this.dropped++;
      // Once per measure: a run that finds no more room declares the disk full.
      if (!this.exhaustedAsked) {
        this.exhaustedAsked = true;
        void this.runRetention();
      }
      return;
    }
    this.spent += cost;
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

  private budget(): number {
    return this.budgetAt.budget - (this.spent - this.budgetAt.spent);
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
          this.spent += FILE_OVERHEAD;
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
    if (this.retention) {
      this.retentionAgain = true;
      return this.retention;
    }
    this.retention = (async () => {
      try {
        do {
          this.retentionAgain = false;
          await this.retentionOnce();
        } while (this.retentionAgain && this.state !== 'closed');
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.error({ err }, 'retention check failed');
      } finally {
        this.retention = undefined;
      }
    })();
    return this.retention;
  }

  private async retentionOnce(): Promise<void> {
    // Bytes still queued in the recorder are charged but not yet on the disk statfs sees.
    const spentAtMeasure = this.spent - (this.recorder?.stats.pendingBytes ?? 0);
    const files = await this.segmentFiles();
    const { free, total } = await this.statfs(this.dir);
    this.reserve = retentionReserve(this.cfg.keep.maxSize, total);
    const plan = planRetention({ files, live: this.liveFile, free, now: this.now(), keep: this.cfg.keep, reserve: this.reserve });
    for (const { file, reason } of plan.remove) {
      const result = await this.store.remove(file);
      if (result === 'removed') this.log.info({ file, reason }, 'recording deleted by retention');
    }
    this.budgetAt = { budget: plan.budget, spent: spentAtMeasure };
    this.exhaustedAsked = false;
    if (plan.budget <= FILE_OVERHEAD + this.largestCost) {
      this.stopForRoom(
        { free, minFree: this.cfg.keep.minFree, maxSize: this.cfg.keep.maxSize },
        'recording stopped: even with every older segment deleted it would cross keep.minFree or keep.maxSize; free disk space or lower the limits',
      );
    } else if (this.state === 'disk-full') {
      // Only a retry resumes: after ENOSPC, statfs may see room the disk does not give (inodes, quotas).
      if (plan.budget >= this.reserve && this.fullRetry === undefined) {
        this.state = 'waiting';
        this.log.info({ budget: plan.budget }, 'recording resumed: there is room again');
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

  private async segmentFiles(): Promise<SegmentFile[]> {
    const out: SegmentFile[] = [];
    for (const file of await readdir(this.dir).catch(() => [] as string[])) {
      const startMs = segmentStart(file);
      if (startMs === undefined) continue;
      const st = await regularFile(join(this.dir, file));
      if (st) out.push({ file, startMs, bytes: st.size });
    }
    return out;
  }
}
