// The capture of a network camera that is one connection at a time (http://, tcp://, edgecam://):
// its state events around the connection's frames, the connection made anew with the shared
// backoff when it fails, and failed when it falls silent (connecting counts).
import { Observable, defer, ignoreElements, tap } from 'rxjs';
import type { Logger } from 'pino';
import type { CapturedFrame } from '@edgecam/protocol';
import { failWhenSilent, restartWithBackoff } from './restart-with-backoff.js';
import type { SourceEvent } from './source.js';

/** What one connection reports besides failing: a frame, the peer saying its own camera is lost, or a sign of life. */
export type LinkEvent = { type: 'frame'; frame: CapturedFrame } | { type: 'lost'; reason: string } | { type: 'alive' };

/** The reconnection settings tests may change (the names the ffmpeg supervisor uses). */
export interface ConnectionTuning {
  /** The first reconnect delay; it doubles after each failure. Default 1000 ms. */
  initialBackoffMs?: number;
  /** The longest reconnect delay. Default 30000 ms. */
  maxBackoffMs?: number;
  /** A connection that lived this long counts as healthy: the backoff starts over. Default 10 s. */
  stableAfterMs?: number;
  /** Nothing from the camera for this long (connecting included) drops the connection and reconnects. Default 10 s. */
  stallTimeoutMs?: number;
}

/** Options of supervisedCapture. */
export interface SupervisedCaptureOptions {
  /** One connection: its events while it lasts; errors with the reason (a sentence) when it fails or ends. */
  connect: () => Observable<LinkEvent>;
  /** The sentence for a connection that fell silent; sawValue: anything had come before. */
  stalled: (silentS: number, sawValue: boolean) => Error;
  log: Logger;
  tuning?: ConnectionTuning;
}

/** The SourceEvents of a capture that keeps one connection up while subscribed. */
export function supervisedCapture(o: SupervisedCaptureOptions): Observable<SourceEvent> {
  return new Observable<SourceEvent>((sub) => {
    let launches = 0;
    sub.next({ type: 'state', state: 'starting' });
    const runs = defer(() => {
      if (launches++ > 0) {
        sub.next({ type: 'restart' });
        sub.next({ type: 'state', state: 'starting' });
      }
      let flowing = false;
      return o.connect().pipe(
        // One clock for every way a camera can hang: connecting, answering, or sending nothing.
        failWhenSilent(o.tuning?.stallTimeoutMs ?? 10_000, o.stalled),
        tap((event) => {
          if (event.type === 'frame') {
            if (!flowing) {
              flowing = true;
              sub.next({ type: 'state', state: 'running' });
            }
            sub.next(event);
          } else if (event.type === 'lost') {
            // The connection stays; frames that come again end the loss.
            flowing = false;
            sub.next({ type: 'state', state: 'restarting', error: event.reason });
          }
        }),
        ignoreElements(),
      );
    })
      .pipe(
        restartWithBackoff({
          initialMs: o.tuning?.initialBackoffMs,
          maxMs: o.tuning?.maxBackoffMs,
          stableAfterMs: o.tuning?.stableAfterMs,
          onRetry: (err, delayMs) => {
            const reason = (err as Error).message;
            o.log.warn({ restartInMs: delayMs, code: (err as { code?: unknown }).code }, `${reason}; reconnecting in ${delayMs} ms`);
            sub.next({ type: 'state', state: 'restarting', error: reason });
          },
        }),
      )
      .subscribe();
    return () => runs.unsubscribe();
  });
}
