import { describe, expect, it } from 'vitest';
import { concat, defer, of, throwError } from 'rxjs';
import { backoffDelay } from '../src/index.js';
import { retryWithBackoff } from '../src/rx.js';

describe('backoffDelay', () => {
  it('doubles the delay from initialMs up to maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts at one second and stops at thirty by default', () => {
    expect([1, 2, 5, 6, 20].map((n) => backoffDelay(n))).toEqual([1000, 2000, 16_000, 30_000, 30_000]);
  });
});

describe('retryWithBackoff', () => {
  it('resubscribes after errors, restarts the backoff after a value, and passes fatal errors on', async () => {
    const delays: number[] = [];
    let subscriptions = 0;
    const source = defer(() => {
      subscriptions++;
      if (subscriptions === 3) return concat(of(subscriptions), throwError(() => new Error('again')));
      if (subscriptions === 5) return throwError(() => new Error('fatal'));
      return throwError(() => new Error('transient'));
    });
    const seen: number[] = [];
    const err = await new Promise<unknown>((resolve) => {
      source
        .pipe(
          retryWithBackoff({
            initialMs: 1,
            maxMs: 4,
            shouldRetry: (e) => (e as Error).message !== 'fatal',
            onRetry: (_e, _n, ms) => delays.push(ms),
          }),
        )
        .subscribe({ next: (v) => seen.push(v), error: resolve });
    });
    expect((err as Error).message).toBe('fatal');
    expect(seen).toEqual([3]);
    expect(delays).toEqual([1, 2, 1, 2]);
  });
});
