// An in-memory FrameSource (StartOptions.source) that emits the given JPEGs in turn at a fixed
// rate while subscribed: a camera that costs no CPU, for tests about peers rather than capture.
import { Observable } from 'rxjs';
import type { FrameSource, SourceEvent } from '../../src/index.js';

export class PacedSource implements FrameSource {
  readonly kind = 'custom' as const;
  readonly spec = 'memory:paced';
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Frames emitted since construction. */
  emitted = 0;
  private seq = 0;
  private lastTimeUs = 0;
  private readonly frames: Buffer[];
  private readonly catchUp: boolean;

  /**
   * catchUp (default true): a late timer emits the frames it owes at once, so the rate over time
   * is exact; false: one frame per tick, so a loaded event loop slows the source instead of
   * bursting (a burst makes newest-frame-wins skip frames, which a rate test would misread).
   */
  constructor(frames: Buffer[], opts: { fps: number; width: number; height: number; catchUp?: boolean }) {
    this.frames = frames;
    this.catchUp = opts.catchUp ?? true;
    this.fps = opts.fps;
    this.width = opts.width;
    this.height = opts.height;
  }

  capture(): Observable<SourceEvent> {
    return new Observable<SourceEvent>((sub) => {
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
          this.lastTimeUs = Math.max(Date.now() * 1000, this.lastTimeUs + 1);
          sub.next({ type: 'frame', frame: { seq: this.seq, captureTimeUs: this.lastTimeUs, jpeg } });
        }
      }, this.catchUp ? Math.max(1, Math.floor(1000 / this.fps / 2)) : 1000 / this.fps);
      return () => clearInterval(timer);
    });
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }
}
