import { Observable, concatMap, timer } from 'rxjs';
import { retryWithBackoff } from '@edgecam/runtime/rx';
import type { ConnectOptions, ServerConnection } from './connection.js';
import { connect } from './negotiate.js';

/** The first wait after a lost connection; each failed attempt doubles it, up to the maximum. */
export const RECONNECT_FIRST_MS = 500;
/** The longest wait between two reconnect attempts. */
export const RECONNECT_MAX_MS = 10_000;

/**
 * connect() as a stream of one connection. Unsubscribing (Ctrl-C while a far host does not
 * answer) returns at once; a connection that arrives after that is closed.
 */
export function connection$(opts: ConnectOptions): Observable<ServerConnection> {
  return new Observable<ServerConnection>((subscriber) => {
    let wanted = true;
    connect(opts).then(
      (conn) => {
        if (!wanted) {
          void conn.close();
          return;
        }
        subscriber.next(conn);
        subscriber.complete();
      },
      (err: unknown) => subscriber.error(err),
    );
    return () => {
      wanted = false;
    };
  });
}

/**
 * A new connection after one was lost: waits RECONNECT_FIRST_MS, then tries, doubling the wait
 * after each failure (reported to `onFailure` with the next wait) up to RECONNECT_MAX_MS.
 */
export function reconnect$(opts: ConnectOptions, onFailure: (err: unknown, retryInMs: number) => void): Observable<ServerConnection> {
  return timer(RECONNECT_FIRST_MS).pipe(
    concatMap(() =>
      connection$(opts).pipe(
        retryWithBackoff({ initialMs: 2 * RECONNECT_FIRST_MS, maxMs: RECONNECT_MAX_MS, onRetry: (err, _attempt, ms) => onFailure(err, ms) }),
      ),
    ),
  );
}
