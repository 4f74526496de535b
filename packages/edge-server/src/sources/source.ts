// What every capture source provides to the FrameHub: a cold observable that runs the capture
// while subscribed and stops it on unsubscribe.
import { Observable, type OperatorFunction } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { SourceKind } from '../contracts.js';
import type { ArrivedJpeg } from './split-frames.js';

/** What a capture reports: frames and its state. */
export type SourceEvent =
  | { type: 'frame'; frame: CapturedFrame }
  /** starting: a process is being launched; running: frames flow; restarting: it died and waits to retry. */
  | { type: 'state'; state: 'starting' | 'running' | 'restarting'; error?: string }
  /** The capture was started again after a failure. */
  | { type: 'restart' };

/** A capture the FrameHub can start and stop. */
export interface FrameSource {
  readonly kind: SourceKind;
  /** As given on the command line, e.g. `v4l2:/dev/video0`. */
  readonly spec: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /**
   * Runs the capture while subscribed. Sequence numbers keep increasing across subscriptions and
   * restarts. Errors (EdgeServerError SOURCE_ENDED) only when no further frame can ever come.
   */
  capture(): Observable<SourceEvent>;
  /** Resolves once no process of this source is alive (after unsubscribing). */
  settled(): Promise<void>;
}

/** Hands out increasing sequence numbers and strictly increasing capture times for one source. */
export class FrameStamper {
  private seq = 0;
  private lastTimeUs = 0;
  /** Frames dropped because they did not start with a JPEG SOI. */
  invalid = 0;

  stamp(jpeg: Buffer, captureTimeUs: number): CapturedFrame | undefined {
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
      this.invalid++;
      return undefined;
    }
    this.seq++;
    // Frames completed by one chunk share its arrival time; keep capture times strictly
    // increasing so a client can order and time them without ties.
    this.lastTimeUs = Math.max(captureTimeUs, this.lastTimeUs + 1);
    return { seq: this.seq, captureTimeUs: this.lastTimeUs, jpeg };
  }
}

/** JPEGs to CapturedFrames through the source's stamper; a part that is no JPEG is skipped (onInvalid). */
export function stampFrames(stamper: FrameStamper, onInvalid?: () => void): OperatorFunction<ArrivedJpeg, CapturedFrame> {
  return (jpegs$) =>
    new Observable<CapturedFrame>((sub) =>
      jpegs$.subscribe({
        next: ({ jpeg, arrivalUs }) => {
          const frame = stamper.stamp(jpeg, arrivalUs);
          if (frame) sub.next(frame);
          else onInvalid?.();
        },
        error: (err: unknown) => sub.error(err),
        complete: () => sub.complete(),
      }),
    );
}
