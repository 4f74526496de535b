// FrameSources for tests: the description a hub reads, counted captures, and no process to wait for.
import { Observable, type Subscriber } from 'rxjs';
import { EdgeServerError } from '../../src/errors.js';
import type { FrameSource, SourceEvent } from '../../src/index.js';
import type { SourceKind } from '../../src/contracts.js';

export interface SourceDescription {
  kind: SourceKind;
  spec: string;
  width: number;
  height: number;
  fps: number;
}

/** A FrameSource whose capture counts its starts and stops; subclasses say what a capture emits. */
export abstract class TestSource implements FrameSource {
  readonly kind: SourceKind;
  readonly spec: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Captures subscribed to, and unsubscribed from, so far. */
  starts = 0;
  stops = 0;

  protected constructor(d: SourceDescription) {
    this.kind = d.kind;
    this.spec = d.spec;
    this.width = d.width;
    this.height = d.height;
    this.fps = d.fps;
  }

  capture(): Observable<SourceEvent> {
    return new Observable<SourceEvent>((sub) => {
      this.starts++;
      const stop = this.run(sub);
      return () => {
        this.stops++;
        stop();
      };
    });
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  /** Starts one capture into `sub`; returns what stops it. */
  protected abstract run(sub: Subscriber<SourceEvent>): () => void;
}

/** A 320x240 testsrc that emits only when the test says so: emit(), send(), end(). */
export class ManualSource extends TestSource {
  private sub: Subscriber<SourceEvent> | null = null;
  private seq = 0;

  constructor(private readonly jpeg: Buffer) {
    super({ kind: 'testsrc', spec: 'testsrc', width: 320, height: 240, fps: 25 });
  }

  protected run(sub: Subscriber<SourceEvent>): () => void {
    this.sub = sub;
    sub.next({ type: 'state', state: 'starting' });
    return () => {
      this.sub = null;
    };
  }

  get running(): boolean {
    return this.sub !== null;
  }

  /** Reports running and emits the next frame; returns its seq. */
  emit(): number {
    this.seq++;
    this.sub?.next({ type: 'state', state: 'running' });
    this.sub?.next({ type: 'frame', frame: { seq: this.seq, captureTimeUs: Date.now() * 1000, jpeg: this.jpeg } });
    return this.seq;
  }

  send(e: SourceEvent): void {
    this.sub?.next(e);
  }

  /** Ends the capture for good, as stdin's end does. */
  end(): void {
    this.sub?.error(new EdgeServerError('SOURCE_ENDED', 'standard input ended'));
  }
}
