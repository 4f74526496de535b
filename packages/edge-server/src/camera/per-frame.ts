// Work that depends only on the frame, done once per frame however many clients get it. Every
// client of one protocol is sent the same header bytes for a frame (length, sequence number,
// capture time, part headers): with 50 viewers, encoding them per client would allocate 50
// identical buffers per frame. Clients are sent the newest frame or, behind a busy socket, the
// one before it, so the results for the two newest frames are kept: plain references, where a
// WeakMap entry per frame cost more than the header it saved with a single client.
import type { CapturedFrame } from '@edgecam/protocol';

/**
 * `compute` wrapped so that it runs once per frame object while that frame is among the two
 * newest it was given (an older one is computed again, to equal bytes); callers must not mutate
 * the result.
 */
export function oncePerFrame<T>(compute: (frame: CapturedFrame) => T): (frame: CapturedFrame) => T {
  let newest: CapturedFrame | null = null;
  let newestValue: T | undefined;
  let previous: CapturedFrame | null = null;
  let previousValue: T | undefined;
  return (frame) => {
    if (frame === newest) return newestValue as T;
    if (frame === previous) return previousValue as T;
    const value = compute(frame);
    if (newest === null || frame.seq >= newest.seq) {
      previous = newest;
      previousValue = newestValue;
      newest = frame;
      newestValue = value;
    }
    return value;
  };
}
