// Which stretches of a camera's time had motion, learned from its motion events and kept beside
// its segments in motion.json (written to a temporary file, synced, renamed over), so a restart
// keeps them. keep.mode motion cuts the footage outside them (plus the rolls); the listing shows
// them per segment. Bounded: at most MAX_STRETCHES, the oldest dropped first, and pruned to
// what the segments on disk still cover.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CameraEvent } from '../contracts.js';

/** A stretch of wall-clock time (Unix ms) with motion. */
export interface MotionStretch {
  readonly fromMs: number;
  readonly toMs: number;
}

export const MOTION_LOG_FILE = 'motion.json';

/** Stretches kept at most per camera (about 30 bytes each on disk). */
export const MAX_STRETCHES = 4096;
/** Events open at once at most (a detector has one; extra sources a few). */
const MAX_OPEN = 64;

const fileSchema = z.object({
  stretches: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).max(MAX_STRETCHES * 2),
  open: z.array(z.number().int().nonnegative()).max(MAX_OPEN),
});

/** Sorted, overlapping or touching stretches merged into one. */
export function mergeStretches(list: readonly MotionStretch[]): MotionStretch[] {
  const sorted = list.filter((s) => s.toMs >= s.fromMs).sort((a, b) => a.fromMs - b.fromMs);
  const out: { fromMs: number; toMs: number }[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, s.toMs);
    else out.push({ fromMs: s.fromMs, toMs: s.toMs });
  }
  return out;
}

/** The parts of `list` inside [fromMs, toMs]. */
export function clipStretches(list: readonly MotionStretch[], fromMs: number, toMs: number): MotionStretch[] {
  return list.filter((s) => s.toMs >= fromMs && s.fromMs <= toMs).map((s) => ({ fromMs: Math.max(s.fromMs, fromMs), toMs: Math.min(s.toMs, toMs) }));
}

/** One camera's motion stretches, fed its motion events. */
export class MotionLog {
  private stretches: MotionStretch[] = [];
  /** Events started and not ended: id to start (Unix ms). */
  private readonly opened = new Map<string, number>();
  private saving: Promise<void> = Promise.resolve();
  private saveAgain = false;
  private saveRunning = false;

  constructor(
    private readonly dir: string,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /**
   * Reads motion.json, merged into what events brought meanwhile. Events open at a crash are
   * taken to have lasted until now (keeping too much rather than too little).
   */
  async load(): Promise<void> {
    const text = await readFile(join(this.dir, MOTION_LOG_FILE), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn({ err: (err as Error).message.slice(0, 300), file: MOTION_LOG_FILE }, 'motion stretches unreadable; starting without them (keep.mode motion then keeps only new motion); delete the file to silence this');
      return;
    }
    const now = this.now();
    const loaded = [...parsed.stretches.map(([fromMs, toMs]) => ({ fromMs, toMs })), ...parsed.open.map((fromMs) => ({ fromMs, toMs: Math.max(fromMs, now) }))];
    this.setStretches([...this.stretches, ...loaded]);
  }

  /** Opens or closes a stretch by the event's phase. */
  onEvent(e: CameraEvent): void {
    if (e.phase === 'end') {
      const fromMs = this.opened.get(e.id) ?? e.startedAt;
      this.opened.delete(e.id);
      this.setStretches([...this.stretches, { fromMs, toMs: Math.max(fromMs, e.endedAt ?? this.now()) }]);
    } else if (!this.opened.has(e.id)) {
      if (this.opened.size >= MAX_OPEN) this.opened.delete(this.opened.keys().next().value as string);
      this.opened.set(e.id, e.startedAt);
    } else return;
    this.save();
  }

  /** The stretches touching [fromMs, toMs], cut to it; an open event runs to now. */
  within(fromMs: number, toMs: number): MotionStretch[] {
    return clipStretches(this.all(), fromMs, toMs);
  }

  /** What keep.mode motion keeps of [fromMs, toMs]: the stretches widened by the rolls, merged, cut to it. */
  kept(fromMs: number, toMs: number, preRollMs: number, postRollMs: number): MotionStretch[] {
    const widened = this.all().map((s) => ({ fromMs: s.fromMs - preRollMs, toMs: s.toMs + postRollMs }));
    return clipStretches(mergeStretches(widened), fromMs, toMs);
  }

  /** Forgets the stretches that ended before `beforeMs` (no segment covers them any more). */
  prune(beforeMs: number): void {
    const kept = this.stretches.filter((s) => s.toMs >= beforeMs);
    if (kept.length === this.stretches.length) return;
    this.stretches = kept;
    this.save();
  }

  /** Closes the open events at now and writes the file; resolves once it is on disk. */
  async close(): Promise<void> {
    if (this.opened.size > 0) {
      const now = this.now();
      this.setStretches([...this.stretches, ...[...this.opened.values()].map((fromMs) => ({ fromMs, toMs: Math.max(fromMs, now) }))]);
      this.opened.clear();
      this.save();
    }
    await this.saving;
  }

  private all(): MotionStretch[] {
    if (this.opened.size === 0) return this.stretches;
    const now = this.now();
    return mergeStretches([...this.stretches, ...[...this.opened.values()].map((fromMs) => ({ fromMs, toMs: Math.max(fromMs, now) }))]);
  }

  private setStretches(list: MotionStretch[]): void {
    const merged = mergeStretches(list);
    if (merged.length > MAX_STRETCHES) {
      this.log.warn({ dropped: merged.length - MAX_STRETCHES }, `more than ${MAX_STRETCHES} motion stretches; the oldest are forgotten (keep.mode motion then treats them as no motion); lower keep.maxAge to keep fewer`);
    }
    this.stretches = merged.slice(-MAX_STRETCHES);
  }

  /** One write at a time; a change during a write makes one more write after it. */
  private save(): void {
    if (this.saveRunning) {
      this.saveAgain = true;
      return;
    }
    this.saveRunning = true;
    this.saving = (async () => {
      try {
        do {
          this.saveAgain = false;
          await this.write();
        } while (this.saveAgain);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'motion stretches not saved; a restart may forget the newest; check the recordings directory is writable');
      } finally {
        this.saveRunning = false;
      }
    })();
  }

  private async write(): Promise<void> {
    const path = join(this.dir, MOTION_LOG_FILE);
    const tmp = `${path}.tmp`;
    const body = JSON.stringify({ stretches: this.stretches.map((s) => [s.fromMs, s.toMs]), open: [...this.opened.values()] });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(body);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
  }
}
