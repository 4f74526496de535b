// Supervising a run (an ffmpeg child, an HTTP camera connection): restarted with doubling delays,
// on the one backoff of @edgecam/runtime/rx, and failed when it stops delivering.
import { Observable, map, merge, timer, type MonoTypeOperatorFunction } from 'rxjs';
import { retryWithBackoff } from '@edgecam/runtime/rx';

/** Options of restartWithBackoff. */
export interface RestartPolicy {
  /** The first delay; each further failure doubles it. Default 1000 ms. */
  initialMs?: number;
  /** The longest delay. Default 30000 ms. */
  maxMs?: number;
  /** A run that lived this long counts as healthy: the next failure waits initialMs again. Default 10 s. */
  stableAfterMs?: number;
  /** Called before each wait with the failure and the delay. */
  onRetry?: (err: unknown, delayMs: number) => void;
}

/**
 * Resubscribes to a run that errors, with doubling delays. A run that lived stableAfterMs emits
 * once, which retryWithBackoff takes as success, so the backoff starts over. The timer is merged
 * first so that a run dying exactly at stableAfterMs still counts as healthy.
 */
export function restartWithBackoff(policy: RestartPolicy = {}): (run$: Observable<never>) => Observable<'healthy'> {
  const stableAfterMs = policy.stableAfterMs ?? 10_000;
  return (run$) =>
    merge(timer(stableAfterMs).pipe(map(() => 'healthy' as const)), run$).pipe(
      retryWithBackoff({
        initialMs: policy.initialMs,
        maxMs: policy.maxMs,
        onRetry: (err, _attempt, delayMs) => policy.onRetry?.(err, delayMs),
      }),
    );
}

/**
 * Errors with stalled(silentS, sawValue) when no value has come for timeoutMs, counted from the
 * subscription (so connecting counts too); 0: never. silentS is the silence in seconds, to a
 * tenth. One interval checks a few times per timeout, so a value costs a clock read, not a timer.
 */
export function failWhenSilent<T>(timeoutMs: number, stalled: (silentS: number, sawValue: boolean) => Error): MonoTypeOperatorFunction<T> {
  if (timeoutMs <= 0) return (source$) => source$;
  return (source$) =>
    new Observable<T>((sub) => {
      let lastAt = performance.now();
      let sawValue = false;
      const watch = setInterval(
        () => {
          const silentMs = performance.now() - lastAt;
          if (silentMs >= timeoutMs) sub.error(stalled(Math.round(silentMs / 100) / 10, sawValue));
        },
        Math.max(50, Math.min(1000, timeoutMs / 4)),
      );
      watch.unref();
      const inner = source$.subscribe({
        next: (value) => {
          lastAt = performance.now();
          sawValue = true;
          sub.next(value);
        },
        error: (err: unknown) => sub.error(err),
        complete: () => sub.complete(),
      });
      return () => {
        clearInterval(watch);
        inner.unsubscribe();
      };
    });
}
