// A FrameHub the test drives by hand, for the tests that need exact control over which frame
// arrives when (byte order, newest-frame-wins, stalls). It honours the contract: subscribing
// counts as a consumer, frames are not replayed, latest() gives the newest.
import { Observable, Subject } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { FrameHub, SourceInfo } from '../../src/contracts.js';

export class FakeHub implements FrameHub {
  readonly frames$: Observable<CapturedFrame>;
  subscribers = 0;
  /** Subscriptions ever made: proves a viewer subscribed, and unsubscribed (subscribers back to 0). */
  subscriptions = 0;
  private readonly subject = new Subject<CapturedFrame>();
  private newest: CapturedFrame | undefined;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  infoOverride: Partial<SourceInfo> = {};

  constructor(readonly width = 320, readonly height = 240, readonly fps = 30) {
    this.frames$ = new Observable<CapturedFrame>((subscriber) => {
      this.subscribers += 1;
      this.subscriptions += 1;
      const sub = this.subject.subscribe(subscriber);
      return () => {
        sub.unsubscribe();
        this.subscribers -= 1;
      };
    });
  }

  /** Publishes one frame now, as the capture would. */
  emit(jpeg: Buffer): CapturedFrame {
    this.seq += 1;
    const frame: CapturedFrame = { seq: this.seq, captureTimeUs: Date.now() * 1000, jpeg };
    this.newest = frame;
    this.subject.next(frame);
    return frame;
  }

  /** Emits `jpegs` round-robin at `fps` until stop(), like a running capture. */
  play(jpegs: Buffer[], fps = this.fps): void {
    this.stop();
    let i = 0;
    this.timer = setInterval(() => {
      this.emit(jpegs[i % jpegs.length]!);
      i += 1;
    }, 1000 / fps);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): CapturedFrame | undefined {
    return this.newest;
  }

  snapshot(timeoutMs: number): Promise<CapturedFrame> {
    if (this.newest) return Promise.resolve(this.newest);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(Object.assign(new Error(`no frame within ${timeoutMs} ms`), { code: 'SOURCE_UNAVAILABLE' }));
      }, timeoutMs);
      const sub = this.frames$.subscribe((frame) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(frame);
      });
    });
  }

  info(): SourceInfo {
    return {
      kind: 'testsrc',
      spec: 'testsrc',
      width: this.width,
      height: this.height,
      fpsConfigured: this.fps,
      fpsMeasured: 0,
      state: this.subscribers > 0 ? 'running' : 'idle',
      restarts: 0,
      framesCaptured: this.seq,
      lastFrameAt: this.newest ? this.newest.captureTimeUs / 1000 : null,
      lastError: null,
      noSignal: false,
      ...this.infoOverride,
    };
  }
}
