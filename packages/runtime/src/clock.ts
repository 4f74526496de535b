// CapturedFrame.captureTimeUs is microseconds since the Unix epoch. performance.now() is monotonic
// and finer than Date.now(), so consecutive frames never share or reverse a timestamp; timeOrigin
// anchors it to the wall clock once, at start.

// Read once: the getter asks Node's binding on every call, and it runs for every frame.
const TIME_ORIGIN_MS = performance.timeOrigin;

/** Now, as a capture time: microseconds since the Unix epoch, never going backwards. */
export function nowUs(): number {
  return Math.floor((TIME_ORIGIN_MS + performance.now()) * 1000);
}
