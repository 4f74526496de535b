// Which segments go, decided from a listing, the disk's free space and the clock alone, so the
// rules are tested without a disk. Oldest first; the segment being written is never deleted.

/** A segment as retention sees it. */
export interface SegmentFile {
  readonly file: string;
  /** Wall-clock ms of its first frame (from its name). */
  readonly startMs: number;
  readonly bytes: number;
}

export interface KeepRules {
  readonly maxAge: number;
  readonly maxSize: number;
  readonly minFree: number;
}

export type RetentionReason = 'age' | 'size' | 'free';

/** Room kept ahead of the writer, at most: enough for a few seconds of any camera. */
export const MAX_RESERVE = 64 * 1024 * 1024;

/**
 * The room retention keeps ahead of the writer: 64 MB, but no more than a quarter of maxSize and
 * a tenth of the volume (when its size is known), or a small volume would be kept empty.
 */
export function retentionReserve(maxSize: number, volumeBytes?: number): number {
  const volumeShare = volumeBytes === undefined ? Infinity : volumeBytes / 10;
  return Math.floor(Math.min(MAX_RESERVE, maxSize / 4, volumeShare));
}

export interface RetentionPlan {
  readonly remove: ReadonlyArray<{ readonly file: string; readonly reason: RetentionReason }>;
  /** Bytes that may still be written before a rule is crossed (after the removals). */
  readonly budget: number;
}

/**
 * The segments to delete, oldest first: those older than maxAge, then as many as it takes to
 * leave `reserve` bytes of room under maxSize and above minFree.
 */
export function planRetention(input: {
  files: readonly SegmentFile[];
  live: string | undefined;
  free: number;
  now: number;
  keep: KeepRules;
  reserve: number;
}): RetentionPlan {
  const { keep, reserve } = input;
  let total = input.files.reduce((n, f) => n + f.bytes, 0);
  let free = input.free;
  const remove: Array<{ file: string; reason: RetentionReason }> = [];
  const oldestFirst = [...input.files].sort((a, b) => a.startMs - b.startMs);
  for (const f of oldestFirst) {
    if (f.file === input.live) continue;
    const reason: RetentionReason | undefined =
      input.now - f.startMs > keep.maxAge ? 'age'
      : total + reserve > keep.maxSize ? 'size'
      : free - reserve < keep.minFree ? 'free'
      : undefined;
    if (reason === undefined) continue;
    remove.push({ file: f.file, reason });
    total -= f.bytes;
    free += f.bytes;
  }
  return { remove, budget: Math.min(free - keep.minFree, keep.maxSize - total) };
}
