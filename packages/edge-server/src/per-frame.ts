// Work that depends only on the frame, done once per frame however many clients get it. Every
// client of one protocol is sent the same header bytes for a frame (length, sequence number,
// capture time, part headers): with 50 viewers, encoding them per client would allocate 50
// identical buffers per frame. Frames are shared, immutable objects, so the result is kept in a
// WeakMap keyed by the frame and goes away with it.
import type { CapturedFrame } from '@edgecam/protocol';

/** `compute` wrapped so that it runs once per frame object; callers must not mutate the result. */
export function oncePerFrame<T>(compute: (frame: CapturedFrame) => T): (frame: CapturedFrame) => T {
  const done = new WeakMap<CapturedFrame, T>();
  return (frame) => {
    let value = done.get(frame);
    if (value === undefined) {
      value = compute(frame);
      done.set(frame, value);
    }
    return value;
  };
}
