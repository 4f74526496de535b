import { EmptyError, firstValueFrom, Observable, type OperatorFunction } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { ServerConnection } from './connection.js';
import { CliError, ExitCode } from './errors.js';
import { formatSeconds } from './socket-open.js';

/**
 * The first frame from now on, or a CliError: timeout, closed, or whatever broke the connection.
 * `waitMs` is what is left of the `--timeout` (`timeoutMs`, which the error names) when part of
 * it went on connecting.
 */
export async function nextFrame(conn: ServerConnection, timeoutMs: number, waitMs = timeoutMs): Promise<CapturedFrame> {
  try {
    return await firstValueFrom(conn.frames$.pipe(frameTimeout(timeoutMs, waitMs, conn)));
  } catch (err) {
    if (err instanceof EmptyError) throw new CliError(ExitCode.CONNECTION, 'the connection was closed before a frame arrived');
    throw err;
  }
}

/**
 * A timeout for a frame stream: each frame must follow the previous within `ms` (the
 * `--timeout`, which the error names); the first must come within `firstMs`, what is left of it.
 * One timer checks a deadline that each frame moves on: rxjs `timeout` re-arms a timer per
 * frame, about 12 µs a frame in a profile of `record` (a few percent of its per-frame work).
 */
export function frameTimeout(
  ms: number,
  firstMs = ms,
  conn?: Pick<ServerConnection, 'sourceDown'>,
): OperatorFunction<CapturedFrame, CapturedFrame> {
  return (source) =>
    new Observable<CapturedFrame>((subscriber) => {
      let deadline = performance.now() + firstMs;
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        const left = deadline - performance.now();
        if (left > 0) timer = setTimeout(check, left);
        else subscriber.error(noFrameError(ms, conn?.sourceDown));
      };
      timer = setTimeout(check, firstMs);
      const sub = source.subscribe({
        next: (frame) => {
          deadline = performance.now() + ms;
          subscriber.next(frame);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        clearTimeout(timer);
        sub.unsubscribe();
      };
    });
}

/**
 * One `--timeout` shared by several waits (connecting, then the first frame): returns what is
 * left of `timeoutMs` since this call, at least 1 ms, at each call.
 */
export function timeBudget(timeoutMs: number): () => number {
  const started = performance.now();
  return () => Math.max(1, timeoutMs - (performance.now() - started));
}

/** The error for a stream that went quiet for longer than `--timeout`, with the server's reason when it gave one. */
export function noFrameError(ms: number, sourceDown?: string): CliError {
  if (sourceDown !== undefined) {
    return new CliError(
      ExitCode.CONNECTION,
      `no frame arrived within ${formatSeconds(ms)}: the server's camera is down (${sourceDown}); fix the server's source or try again when it is back`,
    );
  }
  return new CliError(ExitCode.CONNECTION, `no frame arrived within ${formatSeconds(ms)} (see --timeout)`);
}
