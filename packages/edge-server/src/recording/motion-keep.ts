// keep.mode motion: once a closed segment is older than motionOnlyAfter, what had no motion goes
// (Frigate's retain.mode: motion). A segment without any motion stretch (widened by the rolls)
// is deleted; an MP4 segment with some is cut to them: each kept stretch is written as its own
// segment by the recorder's join (from the keyframe at or before it, no re-encode), then the
// original goes. An AVI segment with motion is kept whole.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Mp4JoinPlan, planMp4Join, writeMp4Join } from '@edgecam/recorder';
import type { MotionLog, MotionStretch } from './motion-log.js';
import type { RecordingEntry, RecordingsStore } from './recordings-store.js';

export interface MotionKeepRules {
  readonly mode: 'all' | 'motion';
  readonly motionOnlyAfter: number;
  readonly preRoll: number;
  readonly postRoll: number;
}

/** Cuts one camera's old footage to its motion; remembers the segments already as cut as they get. */
export class MotionKeep {
  /** Segments found to hold only what is kept (their names; forgotten when they go). */
  private readonly settled = new Set<string>();

  constructor(
    private readonly store: RecordingsStore,
    private readonly motion: MotionLog,
    private readonly rules: MotionKeepRules,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** One pass over the segments; also forgets the stretches older than every segment. */
  async run(): Promise<void> {
    const list = await this.store.list();
    const names = new Set(list.map((e) => e.file));
    for (const f of this.settled) if (!names.has(f)) this.settled.delete(f);
    if (list.length > 0) this.motion.prune(list[0]!.startMs - this.rules.preRoll);
    if (this.rules.mode !== 'motion') return;
    const horizon = this.now() - this.rules.motionOnlyAfter;
    for (const e of list) {
      if (e.recording || e.endMs > horizon || this.settled.has(e.file)) continue;
      await this.keepMotionOf(e).catch((err: unknown) => {
        this.log.warn({ file: e.file, err: (err as Error).message }, 'keep.mode motion could not cut this segment; it is kept whole and tried again at the next retention run');
      });
    }
  }

  private async keepMotionOf(e: RecordingEntry): Promise<void> {
    const kept = this.motion.kept(e.startMs, e.endMs, this.rules.preRoll, this.rules.postRoll);
    if (kept.length === 0) {
      if ((await this.store.remove(e.file)) === 'removed') this.log.info({ file: e.file, reason: 'no-motion' }, 'recording deleted by retention');
      return;
    }
    const whole = kept.length === 1 && kept[0]!.fromMs <= e.startMs && kept[0]!.toMs >= e.endMs;
    if (e.format !== 'mp4' || whole || e.frames === 0) {
      this.settled.add(e.file);
      return;
    }
    const plans = await this.planCuts(e, kept);
    if (plans.reduce((n, p) => n + p.frames, 0) >= e.frames) {
      // The keyframes fall so that nothing can go: the segment already is its motion.
      this.settled.add(e.file);
      return;
    }
    const index = /_(\d+)\.mp4$/.exec(e.file)![1]!;
    const pieces = plans.map((plan) => ({ plan, file: `${plan.startMs}_${index}.mp4` }));
    // A piece named like the original replaces it: written last, once the others have read it.
    pieces.sort((a, b) => Number(a.file === e.file) - Number(b.file === e.file));
    for (const p of pieces) await writeMp4Join(p.plan, join(this.store.dir, p.file));
    if (!pieces.some((p) => p.file === e.file)) await this.store.remove(e.file);
    for (const p of pieces) this.settled.add(p.file);
    this.log.info({ file: e.file, kept: pieces.map((p) => ({ file: p.file, frames: p.plan.frames })), framesBefore: e.frames }, 'recording cut to its motion by retention (keep.mode motion)');
  }

  /** One join plan per kept stretch; stretches whose keyframes make them overlap are planned as one. */
  private async planCuts(e: RecordingEntry, kept: readonly MotionStretch[]): Promise<Mp4JoinPlan[]> {
    const input = [{ path: join(this.store.dir, e.file), startMs: e.startMs }];
    const plans: { plan: Mp4JoinPlan; fromMs: number; toMs: number }[] = [];
    for (const k of kept) {
      const last = plans[plans.length - 1];
      let fromMs = k.fromMs;
      let plan = await planMp4Join(input, { fromMs, toMs: k.toMs });
      if (last && plan.startMs <= last.toMs) {
        plans.pop();
        fromMs = last.fromMs;
        plan = await planMp4Join(input, { fromMs, toMs: k.toMs });
      }
      plans.push({ plan, fromMs, toMs: k.toMs });
    }
    return plans.map((p) => p.plan);
  }
}
