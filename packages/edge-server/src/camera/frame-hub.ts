// The one capture every consumer shares. The first consumer (a streaming TCP client, an HTTP
// viewer, a pending snapshot) starts the source; `idleStop` after the last one leaves it stops,
// so an idle device spends no CPU. That lifecycle is RxJS's share() with a delayed reset; frames
// fan out through its Subject, so a slow consumer never holds anyone up (each session decides for
// itself what to skip).
// A frame's way: a FrameSource's capture() (sources/ffmpeg/ffmpeg-source.ts, sources/stdin-source.ts)
// -> here -> frames$ to each ClientSession (tcp/client-session.ts) or HTTP viewer (http/mjpeg-viewer.ts).
import { BehaviorSubject, Observable, Subject, distinctUntilChanged, firstValueFrom, map, merge, share, takeUntil, timeout, timer, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import { readJpegInfo, type CapturedFrame } from '@edgecam/protocol';
import type { FrameHub, SourceInfo, SourceState } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import type { EdgeServerMetrics } from '../metrics.js';
import type { FrameSource, SourceEvent } from '../sources/source.js';

/** Options of SharedFrameHub. */
export interface FrameHubOptions {
  logger: Logger;
  /** How long the capture keeps running after the last consumer leaves. */
  idleStopMs: number;
  /** Capture from start to close, consumers or not. */
  alwaysOn: boolean;
  /** Counts frames and restarts (EdgeServerMetrics, or one camera's CameraMetrics). */
  metrics?: Pick<EdgeServerMetrics, 'frameCaptured' | 'sourceRestarted'>;
  /** latest() ignores frames older than this (a source that stalled or is restarting). */
  staleAfterMs?: number;
  /** The source can never deliver again (stdin closed). */
  onSourceEnded?: (err: Error) => void;
}

// Arrival times kept for the measured fps.
const FPS_SAMPLES = 512;
const FPS_WINDOW_MS = 3000;

/** A source replaced while running (new settings), and the gap in frames it caused. */
export interface SourceChange {
  /** Wall-clock ms of the replacement. */
  at: number;
  from: { spec: string; width: number; height: number; fps: number };
  to: { spec: string; width: number; height: number; fps: number };
  /** Ms between the last frame of the old source and the first of the new; null until that frame (or when no capture ran). */
  gapMs: number | null;
}

/** The FrameHub over one FrameSource. */
export class SharedFrameHub implements FrameHub {
  readonly frames$: Observable<CapturedFrame>;
  private source: FrameSource;
  /** Sources replaced by replaceSource(), until their processes have exited. */
  private readonly retired = new Set<Promise<void>>();
  /** While a capture runs: stops the current source's capture and starts the (new) current one. */
  private switchCapture: (() => void) | null = null;
  /** After a replacement: added to the new source's sequence numbers, so they keep increasing. */
  private seqOffset = 0;
  private lastSeq = 0;
  /** The newest replaceSource(), and the gap it caused once its first frame has come. */
  private change: SourceChange | null = null;
  /** performance.now() of the last frame before a replacement, until the first frame after it. */
  private gapFrom: number | null = null;
  private readonly opts: FrameHubOptions;
  private readonly log: Logger;
  private readonly staleAfterMs: number;
  private consumers = 0;
  /** A capture is running (between 'capture starting' and its stop or failure). */
  private capturing = false;
  /** alwaysOn: a subscription that keeps the shared capture from ever going idle. */
  private keepAlive: Subscription | null = null;
  private readonly closing = new Subject<void>();
  private closed = false;
  private newest: CapturedFrame | undefined;
  private newestAt = 0;
  private readonly arrivals = new Float64Array(FPS_SAMPLES);
  private arrivalCount = 0;
  private measureSize = false;
  private state: SourceState = 'idle';
  private restarts = 0;
  private framesCaptured = 0;
  private lastFrameAt: number | null = null;
  private lastError: string | null = null;
  /** The source reported a failure and no frame came since: the camera is lost for now. */
  private failing = false;
  private readonly failed = new Subject<void>();
  private readonly loss = new BehaviorSubject<string | null>(null);
  /**
   * Why the source is lost (it failed and no frame came since), or null while it is not: the
   * current value on subscribe, then each change. A new loss is a new value after a null.
   */
  readonly sourceLoss$: Observable<string | null> = this.loss.pipe(distinctUntilChanged());
  private width: number;
  private height: number;

  constructor(source: FrameSource, opts: FrameHubOptions) {
    this.source = source;
    this.opts = opts;
    this.log = opts.logger.child({ component: 'capture' });
    this.staleAfterMs = opts.staleAfterMs ?? Math.max(3000, 5000 / source.fps);
    this.width = source.width;
    this.height = source.height;
    // One capture for everyone: started by the first subscriber, kept through gaps shorter than
    // idleStopMs, stopped after that; an error or the end lets the next subscriber start afresh.
    const shared$ = this.capture().pipe(
      takeUntil(this.closing),
      share({
        connector: () => new Subject<CapturedFrame>(),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: () => timer(opts.idleStopMs),
      }),
    );
    this.frames$ = new Observable<CapturedFrame>((sub) => {
      if (this.closed) {
        sub.complete();
        return;
      }
      this.consumers++;
      // A source failure is reported through info() and snapshot(), not to every consumer.
      const inner = shared$.subscribe({ next: (f) => sub.next(f), complete: () => sub.complete(), error: () => {} });
      return () => {
        this.consumers--;
        inner.unsubscribe();
      };
    });
    if (opts.alwaysOn) this.keepAlive = shared$.subscribe({ error: () => {} });
  }

  /** Consumers right now (frames$ subscriptions, including pending snapshots). */
  get consumerCount(): number {
    return this.consumers;
  }

  latest(): CapturedFrame | undefined {
    if (!this.newest || performance.now() - this.newestAt > this.staleAfterMs) return undefined;
    return this.newest;
  }

  async snapshot(timeoutMs: number): Promise<CapturedFrame> {
    const now = this.latest();
    if (now) return now;
    if (this.closed) throw new EdgeServerError('HUB_CLOSED', 'the capture is shut down');
    // A source that fails while we wait will not deliver before its next restart: say so now
    // instead of holding the caller for the whole timeout.
    const failure$ = this.failed.pipe(
      map((): CapturedFrame => {
        throw new EdgeServerError('SOURCE_UNAVAILABLE', `${this.source.spec} failed: ${this.lastError ?? 'unknown error'}`);
      }),
    );
    try {
      return await firstValueFrom(merge(this.frames$, failure$).pipe(timeout({ first: timeoutMs })));
    } catch (err) {
      if (err instanceof EdgeServerError) throw err;
      if ((err as Error).name === 'TimeoutError') {
        const why = this.lastError ? `: ${this.lastError}` : '';
        throw new EdgeServerError('SOURCE_UNAVAILABLE', `no frame from ${this.source.spec} within ${timeoutMs} ms${why}`);
      }
      throw new EdgeServerError('HUB_CLOSED', 'the capture was shut down while waiting for a frame');
    }
  }

  info(): SourceInfo {
    return {
      kind: this.source.kind,
      spec: this.source.spec,
      width: this.width,
      height: this.height,
      fpsConfigured: this.source.fps,
      fpsMeasured: this.measuredFps(),
      state: this.state,
      restarts: this.restarts,
      framesCaptured: this.framesCaptured,
      lastFrameAt: this.lastFrameAt,
      lastError: this.lastError,
      noSignal: this.noSignal(),
    };
  }

  private noSignal(): boolean {
    if (!this.capturing) return false;
    return this.failing || (this.newest !== undefined && this.latest() === undefined);
  }

  /** Stops the capture for good and waits until its processes have exited. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.next();
    this.keepAlive?.unsubscribe();
    this.keepAlive = null;
    this.failed.complete();
    this.loss.complete();
    await Promise.all([this.source.settled(), ...this.retired]);
  }

  /** The source's frames while subscribed, with the hub's bookkeeping of its lifecycle. */
  private capture(): Observable<CapturedFrame> {
    return new Observable<CapturedFrame>((sub) => {
      this.captureStarting();
      const start = () =>
        this.source.capture().subscribe({
          next: (event) => {
            if (event.type === 'frame') sub.next(this.onFrame(event.frame));
            else this.onEvent(event);
          },
          error: (err: Error) => {
            this.captureFailed(err);
            sub.error(err);
          },
        });
      let events = start();
      this.switchCapture = () => {
        events.unsubscribe();
        events = start();
      };
      return () => {
        this.switchCapture = null;
        events.unsubscribe();
        this.captureStopped(this.closed ? 'server closing' : `idle for ${this.opts.idleStopMs} ms`);
      };
    });
  }

  private captureStarting(): void {
    this.log.info({ source: this.source.spec, consumers: this.consumers }, 'capture starting');
    this.capturing = true;
    this.measureSize = true;
    this.arrivalCount = 0;
    // A new capture starts clean; an error from an earlier one would read as a lost camera.
    this.setFailing(false);
    this.lastError = null;
  }

  private captureFailed(err: Error): void {
    this.capturing = false;
    this.state = 'restarting';
    this.lastError = err.message;
    this.setFailing(true);
    this.failed.next();
    this.log.error({ err: err.message }, 'capture source ended');
    this.opts.onSourceEnded?.(err);
  }

  private captureStopped(why: string): void {
    if (!this.capturing) return;
    this.capturing = false;
    this.state = 'idle';
    this.newest = undefined;
    this.setFailing(false);
    this.log.info({ why }, 'capture stopped');
  }

  private onEvent(event: Exclude<SourceEvent, { type: 'frame' }>): void {
    switch (event.type) {
      case 'state':
        this.state = event.state;
        if (event.error !== undefined) this.lastError = event.error;
        if (event.state === 'restarting' && !this.failing) {
          this.setFailing(true);
          this.failed.next();
        }
        return;
      case 'restart':
        this.restarts++;
        this.opts.metrics?.sourceRestarted();
        return;
    }
  }

  /** The one place `failing` changes, so sourceLoss$ follows it. */
  private setFailing(failing: boolean): void {
    this.failing = failing;
    this.loss.next(failing ? (this.lastError ?? 'the source failed') : null);
  }

  private onFrame(arrived: CapturedFrame): CapturedFrame {
    const frame = this.seqOffset === 0 ? arrived : { seq: arrived.seq + this.seqOffset, captureTimeUs: arrived.captureTimeUs, jpeg: arrived.jpeg };
    this.lastSeq = frame.seq;
    const now = performance.now();
    if (this.gapFrom !== null) this.firstFrameAfterChange(now);
    this.newest = frame;
    this.newestAt = now;
    this.lastFrameAt = Date.now();
    this.framesCaptured++;
    this.lastError = null;
    if (this.failing) this.setFailing(false);
    this.arrivals[this.arrivalCount % FPS_SAMPLES] = now;
    this.arrivalCount++;
    if (this.measureSize) {
      this.measureSize = false;
      try {
        const { width, height } = readJpegInfo(frame.jpeg);
        this.width = width;
        this.height = height;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not read the frame size from the JPEG');
      }
    }
    this.opts.metrics?.frameCaptured();
    return frame;
  }

  private firstFrameAfterChange(now: number): void {
    if (this.change && this.gapFrom !== null) this.change.gapMs = Math.round(now - this.gapFrom);
    this.gapFrom = null;
    this.log.info({ gapMs: this.change?.gapMs }, 'first frame with the new settings');
  }

  /**
   * Captures from `next` from now on. A running capture restarts on it while consumers stay
   * subscribed to frames$ (they see a gap, which change() reports); an idle one starts on it next time.
   */
  replaceSource(next: FrameSource): void {
    if (this.closed) return;
    const old = this.source;
    const describe = (s: FrameSource) => ({ spec: s.spec, width: s.width, height: s.height, fps: s.fps });
    this.change = { at: Date.now(), from: describe(old), to: describe(next), gapMs: null };
    this.source = next;
    // The new source numbers its frames from 1 again; clients expect them to keep increasing.
    this.seqOffset = this.lastSeq;
    this.width = next.width;
    this.height = next.height;
    const settled = old.settled();
    this.retired.add(settled);
    void settled.finally(() => this.retired.delete(settled));
    if (this.switchCapture) {
      this.gapFrom = this.newest ? this.newestAt : performance.now();
      this.measureSize = true;
      this.arrivalCount = 0;
      this.log.info({ from: this.change.from, to: this.change.to }, 'capture restarting with new settings');
      this.switchCapture();
    }
  }

  /** The newest replaceSource(), with the gap it caused; null before any. */
  lastChange(): SourceChange | null {
    return this.change === null ? null : { ...this.change };
  }

  private measuredFps(): number {
    const n = Math.min(this.arrivalCount, FPS_SAMPLES);
    if (n < 2) return 0;
    const now = performance.now();
    const newest = this.arrivals[(this.arrivalCount - 1) % FPS_SAMPLES] as number;
    if (now - newest > FPS_WINDOW_MS) return 0;
    let oldest = newest;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const t = this.arrivals[i] as number;
      if (t >= now - FPS_WINDOW_MS) {
        count++;
        if (t < oldest) oldest = t;
      }
    }
    if (count < 2 || newest === oldest) return 0;
    return Math.round(((count - 1) * 1000 * 10) / (newest - oldest)) / 10;
  }
}
