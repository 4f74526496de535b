// Restarts a failing run (an ffmpeg child, an HTTP camera connection) with doubling delays, on
// the one backoff of @edgecam/runtime/rx.
import { Observable, map, merge, timer } from 'rxjs';
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
