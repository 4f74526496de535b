/**
 * The RxJS side of @edgecam/runtime, apart so that the main entry loads no rxjs (the client's
 * one-shot commands start without it).
 */
import { retry, throwError, timer, type MonoTypeOperatorFunction } from 'rxjs';
import { backoffDelay } from './backoff.js';

export interface BackoffOptions {
  /** The first delay; each further attempt doubles it. Default 1000 ms. */
  initialMs?: number;
  /** The longest delay. Default 30000 ms. */
  maxMs?: number;
  /** Errors for which another attempt cannot help are passed on at once. Default: retry all. */
  shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log the gap. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Resubscribes after an error with doubling delays. A value from the source counts as success and
 * starts the backoff over, so a long healthy run after a failure waits `initialMs` again.
 */
export function retryWithBackoff<T>(opts: BackoffOptions = {}): MonoTypeOperatorFunction<T> {
  return retry({
    resetOnSuccess: true,
    delay: (err: unknown, attempt: number) => {
      if (opts.shouldRetry && !opts.shouldRetry(err)) return throwError(() => err);
      const ms = backoffDelay(attempt, opts.initialMs, opts.maxMs);
      opts.onRetry?.(err, attempt, ms);
      return timer(ms);
    },
  });
}

export { fromReadable, type FromReadableOptions } from './from-readable.js';
