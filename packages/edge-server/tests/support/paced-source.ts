// An in-memory FrameSource (StartOptions.source) that emits the given JPEGs in turn at a fixed
// rate while subscribed: a camera that costs no CPU, for tests about peers rather than capture.
import type { Subscriber } from 'rxjs';
import type { SourceEvent } from '../../src/index.js';
import { TestSource } from './test-source.js';

export interface PacedSourceOptions {
  fps: number;
  width: number;
  height: number;
  /** As the hub reports it; default 'memory:paced'. */
  spec?: string;
  /**
   * catchUp (default true): a late timer emits the frames it owes at once, so the rate over time
   * is exact; false: one frame per tick, so a loaded event loop slows the source instead of
   * bursting (a burst makes newest-frame-wins skip frames, which a rate test would misread).
   */
  catchUp?: boolean;
  /** Capture time of frame `seq`; default the wall clock, strictly increasing. */
  captureTimeUs?: (seq: number) => number;
}

export class PacedSource extends TestSource {
  /** Frames emitted since construction. */
  emitted = 0;
  private seq = 0;
  private lastTimeUs = 0;
  private readonly catchUp: boolean;
  private readonly captureTimeUsOf: ((seq: number) => number) | undefined;

  constructor(
    private readonly frames: Buffer[],
    opts: PacedSourceOptions,
  ) {
    super({ kind: 'custom', spec: opts.spec ?? 'memory:paced', width: opts.width, height: opts.height, fps: opts.fps });
    this.catchUp = opts.catchUp ?? true;
    this.captureTimeUsOf = opts.captureTimeUs;
  }

  protected run(sub: Subscriber<SourceEvent>): () => void {
    sub.next({ type: 'state', state: 'running' });
    const startedAt = performance.now();
    let sent = 0;
    // Paced against the clock, not by counting ticks, so a late timer catches up.
    const timer = setInterval(() => {
      const due = this.catchUp ? Math.floor(((performance.now() - startedAt) * this.fps) / 1000) : sent + 1;
      while (sent < due) {
        sent++;
        this.seq++;
        this.emitted++;
        const jpeg = this.frames[(this.seq - 1) % this.frames.length] as Buffer;
        sub.next({ type: 'frame', frame: { seq: this.seq, captureTimeUs: this.stamp(this.seq), jpeg } });
      }
    }, this.catchUp ? Math.max(1, Math.floor(1000 / this.fps / 2)) : 1000 / this.fps);
    return () => clearInterval(timer);
  }

  private stamp(seq: number): number {
    if (this.captureTimeUsOf !== undefined) return this.captureTimeUsOf(seq);
    this.lastTimeUs = Math.max(Date.now() * 1000, this.lastTimeUs + 1);
    return this.lastTimeUs;
  }
}
