// An in-memory camera for the benchmarks: a FrameSource (the shape edgecam-server's capture hub
// consumes, passed as startEdgeServer's `source` option) that cycles through pre-encoded JPEGs.
//   fps > 0: paced like a camera, one frame every 1/fps s on an absolute schedule (a late timer
//            does not shift the following frames; frames more than one period late are skipped,
//            as a camera that was not read drops them);
//   fps = 0: unthrottled, one new frame every turn of the event loop, so the source is never
//            what limits delivery.
// Capture times come from the shared benchmark clock (clock.mjs), stamped when a frame is emitted.
import { Observable } from 'rxjs';

export function createMemorySource({ jpegs, fps, clock, width = 1280, height = 720 }) {
  let seq = 0;
  let lastUs = 0;
  const next = () => {
    seq++;
    // Strictly increasing, as the real sources guarantee.
    lastUs = Math.max(clock(), lastUs + 1);
    return { seq, captureTimeUs: lastUs, jpeg: jpegs[(seq - 1) % jpegs.length] };
  };
  return {
    kind: 'custom',
    spec: fps > 0 ? `memory:${jpegs.length} JPEGs at ${fps} fps` : `memory:${jpegs.length} JPEGs, unthrottled`,
    width,
    height,
    fps,
    /** The newest sequence number handed out. */
    get seq() {
      return seq;
    },
    /** Calls onFrame with each new frame until the returned function is called. */
    start(onFrame) {
      return fps > 0 ? paced(fps, () => onFrame(next())) : unthrottled(() => onFrame(next()));
    },
    capture() {
      return new Observable((sub) => {
        sub.next({ type: 'state', state: 'running' });
        return this.start((frame) => sub.next({ type: 'frame', frame }));
      });
    },
    settled: () => Promise.resolve(),
  };
}

function paced(fps, tick) {
  const periodMs = 1000 / fps;
  let due = performance.now() + periodMs;
  let timer = null;
  const loop = () => {
    const now = performance.now();
    if (now - due > periodMs) due += Math.floor((now - due) / periodMs) * periodMs;
    due += periodMs;
    tick();
    timer = setTimeout(loop, Math.max(0, due - performance.now()));
  };
  timer = setTimeout(loop, periodMs);
  return () => clearTimeout(timer);
}

function unthrottled(tick) {
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    tick();
    setImmediate(loop);
  };
  setImmediate(loop);
  return () => {
    stopped = true;
  };
}
