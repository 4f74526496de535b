// A Node readable stream (a socket, a child's stdout, an HTTP response, stdin) as an Observable of
// its chunks, so byte decoders can be applied to it as operators.
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';

/** Options of fromReadable. */
export interface FromReadableOptions {
  /**
   * Read only while subscribed: resumed on subscribe, paused on unsubscribe, so a writer that
   * nobody reads blocks on a full pipe (stdin). Default false: the listener alone sets it flowing.
   */
  pauseWhenUnsubscribed?: boolean;
}

/**
 * The stream's 'data' chunks while subscribed; completes at 'end' (or 'close' without one), errors
 * with its 'error'. Unsubscribing removes the listeners and leaves the stream open.
 */
export function fromReadable(input: Readable, opts: FromReadableOptions = {}): Observable<Buffer> {
  return new Observable<Buffer>((sub) => {
    const onData = (chunk: Buffer): void => sub.next(chunk);
    const onEnd = (): void => sub.complete();
    const onError = (err: Error): void => sub.error(err);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('close', onEnd);
    input.once('error', onError);
    if (opts.pauseWhenUnsubscribed) input.resume();
    return () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.off('error', onError);
      if (opts.pauseWhenUnsubscribed) input.pause();
    };
  });
}
