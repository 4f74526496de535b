/**
 * recordTo(): the recorder as an RxJS sink. Frames in, file events out.
 *
 * An Observable cannot be slowed down by its subscriber. Without `onBackpressure`, frames that
 * arrive while the write queue is at its bound are refused (a 'rejected' event with QUEUE_FULL)
 * rather than buffered without limit. With it, recordTo keeps every frame: it tells the producer
 * to stop (`onBackpressure(true)`) when the queue is full, holds what still arrives, and says
 * `onBackpressure(false)` once all of that is in the queue; a source that ends meanwhile has its
 * held frames written before the files close. The output completes once every file is closed after the source completes; it errors after
 * the 'closed' events if the source errors or a write error ends the recording (the 'error' event
 * of the plain API is delivered as that error, not as a value). Unsubscribing early also closes
 * the files, silently.
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { type H264Frame, type RecorderEvent, type RecorderFrame, type RecorderOptions, createFileRecorder } from './recorder.js';

export interface RecordToOptions extends RecorderOptions {
  /** File name pattern (see createRecorder). */
  readonly path: string;
  /**
   * Backpressure for a source that can stop (a socket that can pause): called with true when the
   * write queue is full, false when it has room for what was held. Given this, no frame is
   * refused with QUEUE_FULL; the source must stop between true and false, or memory grows.
   */
  readonly onBackpressure?: (full: boolean) => void;
}

export function recordTo(options: RecordToOptions): OperatorFunction<RecorderFrame | H264Frame | Uint8Array, RecorderEvent> {
  return (source) =>
    new Observable<RecorderEvent>((subscriber) => {
      let finished = false;
      let sourceSub: Subscription | undefined;
      let stopSource = false;
      const finish = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        if (sourceSub) sourceSub.unsubscribe();
        else stopSource = true;
        recorder.close().then(
          (summary) => {
            const e = err ?? summary.error;
            if (e !== undefined) subscriber.error(e);
            else subscriber.complete();
          },
          (e: unknown) => subscriber.error(e),
        );
      };
      const recorder = createFileRecorder(options.path, {
        ...options,
        onEvent: (event) => {
          options.onEvent?.(event);
          if (event.type === 'error') finish(event.error);
          else subscriber.next(event);
        },
      });
      const onBackpressure = options.onBackpressure;
      // With backpressure: frames wait here, in order, while the queue is full.
      const held: Array<RecorderFrame | H264Frame | Uint8Array> = [];
      let waiting = false;
      let full = false;
      let ended: { err: unknown } | undefined;
      // Per frame this is a plain call (no promise, no microtask): frames come 30 times a second
      // and each layer costs, since V8 seldom optimizes code that runs that rarely.
      const pump = (): void => {
        if (waiting || finished) return;
        while (held.length > 0) {
          // Refusals arrive as 'rejected' events, a write error as the 'error' event.
          if (recorder.put(held.shift()!) !== false) continue;
          if (finished) return;
          waiting = true;
          if (!full) {
            full = true;
            onBackpressure!(true);
          }
          const next = (): void => {
            waiting = false;
            pump();
          };
          recorder.room().then(next, next);
          return;
        }
        if (full) {
          full = false;
          onBackpressure!(false);
        }
        if (ended !== undefined) finish(ended.err);
      };
      const end = (err?: unknown): void => {
        if (onBackpressure === undefined || (held.length === 0 && !waiting)) finish(err);
        else ended = { err };
      };
      sourceSub = source.subscribe({
        next: (frame) => {
          if (onBackpressure !== undefined) {
            held.push(frame);
            pump();
            return;
          }
          recorder.put(frame);
        },
        error: (err: unknown) => end(err),
        complete: () => end(),
      });
      if (stopSource) sourceSub.unsubscribe();
      return () => {
        sourceSub?.unsubscribe();
        if (!finished) {
          finished = true;
          void recorder.close();
        }
      };
    });
}
