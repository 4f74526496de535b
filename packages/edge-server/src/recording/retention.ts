// Retention: which closed segments go, oldest first; the segment being written is never deleted.
// planRetention decides from a listing, the free space and the clock alone, so the rules are
// tested without a disk; Retention runs it on a camera's directory and deletes what it says.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type DiskBudget, roomLeft } from './disk-budget.js';
import { type RecordingsStore, regularFile } from './recordings-store.js';
import { segmentStart } from './segment-name.js';

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
  return { remove, budget: roomLeft(free, total, keep) };
}

/** Retention over one camera's store, measuring the disk through the recording's budget. */
export class Retention {
  constructor(
    private readonly store: RecordingsStore,
    private readonly keep: KeepRules,
    private readonly budget: DiskBudget,
    private readonly now: () => number,
    private readonly log: Logger,
    /** keep.mode motion's pass (motion-keep.ts), run first so what it frees counts. */
    private readonly beforeRun?: () => Promise<void>,
  ) {}

  /** One run: list, measure, delete as planned, and restart the budget from the plan; gives the plan's budget and the free space measured. */
  async run(pendingBytes: number): Promise<{ budget: number; free: number }> {
    await this.beforeRun?.();
    const mark = this.budget.mark(pendingBytes);
    const files = await segmentFiles(this.store.dir);
    const { free, reserve } = await this.budget.measure(this.store.dir);
    const plan = planRetention({ files, live: this.store.live(), free, now: this.now(), keep: this.keep, reserve });
    for (const { file, reason } of plan.remove) {
      const result = await this.store.remove(file);
      if (result === 'removed') this.log.info({ file, reason }, 'recording deleted by retention');
    }
    this.budget.settle(plan.budget, mark);
    return { budget: plan.budget, free };
  }
}

/** The regular files in `dir` named like segments (a symlink is neither counted nor deleted). */
async function segmentFiles(dir: string): Promise<SegmentFile[]> {
  const out: SegmentFile[] = [];
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    const startMs = segmentStart(file);
    if (startMs === undefined) continue;
    const st = await regularFile(join(dir, file));
    if (st) out.push({ file, startMs, bytes: st.size });
  }
  return out;
}
