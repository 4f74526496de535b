// One camera's recordings on disk: listing (with what inspect finds wrong), deleting, reading
// AVI frames from an instant on across segments (seeking by each file's index), and laying out
// a time range of MP4 segments as one MP4. Only regular files count: a symlink or FIFO named
// like a segment is never listed, read, served or deleted.
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Mp4JoinPlan, inspect, inspectMp4, planMp4Join, readAviIndex } from '@edgecam/recorder';
import { type SegmentFormat, segmentFormat, segmentStart } from './segment-name.js';

/** What inspect (AVI) or inspectMp4 found wrong with a segment. */
export interface SegmentProblem {
  readonly code: string;
  readonly message: string;
}

/** One segment as GET /recordings lists it. */
export interface RecordingEntry {
  readonly camera: string;
  readonly file: string;
  readonly format: SegmentFormat;
  /** ISO 8601, UTC. */
  readonly start: string;
  readonly end: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly frames: number;
  readonly bytes: number;
  readonly fps: number;
  /** Being written now: its end moves, and it cannot be deleted. */
  readonly recording: boolean;
  /** What inspect found wrong (empty for a good file; not checked while it is being written). */
  readonly problems: readonly SegmentProblem[];
  /** The stretches with motion inside it (when the camera detects motion), oldest first. */
  readonly motion?: readonly MotionSpan[];
}

/** A stretch with motion as the listing gives it: ISO 8601 and Unix ms. */
export interface MotionSpan {
  readonly from: string;
  readonly to: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** A recorded frame and when it was captured. */
export interface ReplayFrame {
  readonly jpeg: Buffer;
  /** Wall-clock ms. */
  readonly timeMs: number;
  readonly file: string;
}

export type RemoveResult = 'removed' | 'missing' | 'recording';

/** Read-only, and refused (ELOOP) when the name itself is a symlink. */
const OPEN_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/** The size and mtime of `path` when it is a regular file itself (lstat: a symlink is not followed). */
export async function regularFile(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isFile() ? st : undefined;
}

interface Cached {
  size: number;
  mtimeMs: number;
  entry: RecordingEntry;
}

/** Reads and deletes one camera's segments; `live()` names the file being written, if any. */
export class RecordingsStore {
  private readonly cache = new Map<string, Cached>();

  constructor(
    readonly camera: string,
    readonly dir: string,
    readonly live: () => string | undefined = () => undefined,
    /** The motion stretches within a time range, when the camera detects motion. */
    private readonly motion?: (fromMs: number, toMs: number) => ReadonlyArray<{ fromMs: number; toMs: number }>,
  ) {}

  /** The camera's segments, oldest first. */
  async list(): Promise<RecordingEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries: RecordingEntry[] = [];
    const seen = new Set<string>();
    for (const file of names) {
      if (segmentStart(file) === undefined) continue;
      seen.add(file);
      const entry = await this.entry(file);
      if (entry) entries.push(entry);
    }
    for (const file of this.cache.keys()) if (!seen.has(file)) this.cache.delete(file);
    return entries.sort((a, b) => a.startMs - b.startMs);
  }

  /** The segment's absolute path, or undefined for a name that is not one of ours. */
  pathOf(file: string): string | undefined {
    return segmentStart(file) === undefined ? undefined : join(this.dir, file);
  }

  /** One segment's entry, or undefined when it does not exist (or holds no readable AVI yet). */
  async entry(file: string): Promise<RecordingEntry | undefined> {
    const path = this.pathOf(file);
    if (path === undefined) return undefined;
    const st = await regularFile(path);
    if (!st) return undefined;
    const cached = this.cache.get(file);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return this.withMotion(cached.entry);
    const recording = this.live() === file;
    const format = segmentFormat(file)!;
    const info = await (format === 'mp4' ? inspectMp4(path) : inspect(path)).catch(() => undefined);
    const startMs = segmentStart(file)!;
    const frames = info?.frames ?? 0;
    const fps = info?.fps ?? 0;
    // An MP4 knows how long its frames last; an AVI, its rate.
    const seconds = info && 'timescale' in info ? info.durationSeconds : fps > 0 ? frames / fps : 0;
    const endMs = startMs + Math.round(seconds * 1000);
    const problems: SegmentProblem[] = recording ? [] : info ? [...info.problems] : [{ code: 'TRUNCATED', message: `not a readable ${format === 'mp4' ? 'MP4' : 'AVI'}` }];
    const entry: RecordingEntry = {
      camera: this.camera,
      file,
      format,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      startMs,
      endMs,
      frames,
      bytes: st.size,
      fps: Math.round(fps * 1000) / 1000,
      recording,
      problems,
    };
    if (!recording) this.cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, entry });
    return this.withMotion(entry);
  }

  /** The entry with its motion stretches, which change as events come (so they are not cached). */
  private withMotion(entry: RecordingEntry): RecordingEntry {
    if (!this.motion) return entry;
    const motion = this.motion(entry.startMs, entry.endMs).map((s) => ({ from: new Date(s.fromMs).toISOString(), to: new Date(s.toMs).toISOString(), fromMs: s.fromMs, toMs: s.toMs }));
    return { ...entry, motion };
  }

  /** Delete a segment; the one being written is refused. */
  async remove(file: string): Promise<RemoveResult> {
    const path = this.pathOf(file);
    if (path === undefined) return 'missing';
    if (this.live() === file) return 'recording';
    if (!(await regularFile(path))) return 'missing';
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    this.cache.delete(file);
    return 'removed';
  }

  /**
   * The segment opened for reading, with its size and mtime, or undefined when it is missing or
   * not a regular file. O_NOFOLLOW and fstat decide on the file actually opened, so a name
   * swapped for a symlink after listing is refused too. The caller closes the handle.
   */
  async open(file: string): Promise<{ fh: FileHandle; size: number; mtime: Date } | undefined> {
    const path = this.pathOf(file);
    if (path === undefined) return undefined;
    const fh = await open(path, OPEN_NO_FOLLOW).catch(() => undefined);
    if (!fh) return undefined;
    const st = await fh.stat().catch(() => undefined);
    if (st?.isFile()) return { fh, size: st.size, mtime: st.mtime };
    await fh.close();
    return undefined;
  }

  /**
   * Frames captured at or after `fromMs`, in order, across segments; the segment being written
   * is followed until the reader catches up with it. One frame is in memory at a time.
   */
  async *frames(fromMs: number): AsyncGenerator<ReplayFrame> {
    let from = fromMs;
    for (;;) {
      let yielded = false;
      for (const e of await this.list()) {
        // Replay sends JPEGs: an MP4 segment holds H.264 (its file plays as it is).
        if (e.format !== 'avi' || e.frames === 0 || (!e.recording && e.endMs <= from)) continue;
        for await (const f of this.framesOf(e, from)) {
          yielded = true;
          from = f.timeMs + 0.5 * (1000 / Math.max(e.fps, 0.01));
          yield f;
        }
      }
      if (!yielded) return;
    }
  }

  /**
   * The MP4 segments covering [fromMs, toMs] as one MP4 laid out on the fly (its bytes come from
   * the segments by range: see readMp4Join), starting at the keyframe at or before fromMs.
   * Rejects with the recorder's NOT_MP4 when no frame falls in the range.
   */
  async planMp4(fromMs: number, toMs: number): Promise<Mp4JoinPlan> {
    // Each MP4 segment starts with a keyframe: the segments the range touches are all it needs.
    const covering = (await this.list()).filter((e) => e.format === 'mp4' && e.frames > 0 && e.endMs > fromMs && e.startMs <= toMs);
    return planMp4Join(covering.map((e) => ({ path: join(this.dir, e.file), startMs: e.startMs })), { fromMs, toMs });
  }

  private async *framesOf(e: RecordingEntry, fromMs: number): AsyncGenerator<ReplayFrame> {
    const opened = await this.open(e.file);
    if (!opened) return;
    const { fh } = opened;
    try {
      const index = await readAviIndex(join(this.dir, e.file)).catch(() => undefined);
      if (!index || index.frames.length === 0) return;
      const periodMs = (1000 * index.frameRate.den) / index.frameRate.num;
      const first = Math.max(0, Math.ceil((fromMs - e.startMs) / periodMs - 1e-9));
      for (let i = first; i < index.frames.length; i++) {
        const ref = index.frames[i]!;
        const jpeg = Buffer.allocUnsafe(ref.size);
        const { bytesRead } = await fh.read(jpeg, 0, ref.size, ref.offset);
        if (bytesRead !== ref.size) return;
        yield { jpeg, timeMs: e.startMs + i * periodMs, file: e.file };
      }
    } finally {
      await fh.close();
    }
  }
}
