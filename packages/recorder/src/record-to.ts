/**
 * recordTo(): the recorder as an RxJS sink. Frames in, file events out.
 *
 * An Observable cannot be slowed down, so frames that arrive while the write queue is at its
 * bound are refused (a 'rejected' event with QUEUE_FULL) rather than buffered without limit.
 * The output completes once every file is closed after the source completes; it errors after
 * the 'closed' events if the source errors or a write error ends the recording (the 'error' event
 * of the plain API is delivered as that error, not as a value). Unsubscribing early also closes
 * the files, silently.
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { type Recorder, type RecorderEvent, type RecorderFrame, type RecorderOptions, createRecorder } from './recorder.js';

export interface RecordToOptions extends RecorderOptions {
  /** File name pattern (see createRecorder). */
  readonly path: string;
}

export function recordTo(options: RecordToOptions): OperatorFunction<RecorderFrame | Uint8Array, RecorderEvent> {
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
      const recorder: Recorder = createRecorder(options.path, {
        ...options,
        onEvent: (event) => {
          options.onEvent?.(event);
          if (event.type === 'error') finish(event.error);
          else subscriber.next(event);
        },
      });
      sourceSub = source.subscribe({
        next: (frame) => {
          // Refusals arrive as 'rejected' events, a write error as the 'error' event.
          recorder.write(frame).catch(() => undefined);
        },
        error: (err: unknown) => finish(err),
        complete: () => finish(),
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
