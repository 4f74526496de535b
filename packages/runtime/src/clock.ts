// CapturedFrame.captureTimeUs is microseconds since the Unix epoch. performance.now() is monotonic
// and finer than Date.now(), so consecutive frames never share or reverse a timestamp; timeOrigin
// anchors it to the wall clock once, at start.

/** Now, as a capture time: microseconds since the Unix epoch, never going backwards. */
export function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
