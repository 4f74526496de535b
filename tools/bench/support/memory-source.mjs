// An in-memory camera for the benchmarks: a FrameSource (the shape edgecam-server's capture hub
// consumes, passed as startEdgeServer's `source` option) that cycles through pre-encoded JPEGs.
//   fps > 0: paced like a camera, one frame every 1/fps s on an absolute schedule (a late timer
//            does not shift the following frames; frames more than one period late are skipped,
//            as a camera that was not read drops them);
//   fps = 0: unthrottled, a camera that always has a fresh frame when the server wants one: the
//            next frame is emitted on the event-loop turn after the previous one was taken for
//            sending (its `jpeg` was read, which the server's encoder does), so one frame always
//            waits in a session's slot and the source is never what limits delivery. Emitting
//            every turn regardless would spin a core on frames that are only dropped, which is
//            not a cost of delivery (a real camera gives 30 to 240 frames a second). If nobody
//            takes a frame for 1 ms (no client, or a new client waiting for its first frame),
//            the next one comes anyway.
// Capture times come from the shared benchmark clock (clock.mjs), stamped when a frame is emitted.
import { Observable } from 'rxjs';

export function createMemorySource({ jpegs, fps, clock, width = 1280, height = 720 }) {
  let seq = 0;
  let lastUs = 0;
  const stamp = () => {
    seq++;
    // Strictly increasing, as the real sources guarantee.
    lastUs = Math.max(clock(), lastUs + 1);
    return lastUs;
  };
  const next = () => {
    const captureTimeUs = stamp();
    return { seq, captureTimeUs, jpeg: jpegs[(seq - 1) % jpegs.length] };
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
      if (fps > 0) return paced(fps, () => onFrame(next()));
      return onDemand((onTaken) => {
        const captureTimeUs = stamp();
        onFrame(new TakenFrame(seq, captureTimeUs, jpegs[(seq - 1) % jpegs.length], onTaken));
      });
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

/** A frame that reports the first read of its JPEG (one class, so every frame has one shape). */
class TakenFrame {
  #jpeg;
  #onTaken;
  constructor(seq, captureTimeUs, jpeg, onTaken) {
    this.seq = seq;
    this.captureTimeUs = captureTimeUs;
    this.#jpeg = jpeg;
    this.#onTaken = onTaken;
  }
  get jpeg() {
    const onTaken = this.#onTaken;
    if (onTaken) {
      this.#onTaken = null;
      onTaken();
    }
    return this.#jpeg;
  }
}

const UNTAKEN_MS = 1;

function onDemand(emit) {
  let stopped = false;
  let immediate = null;
  let emittedAt = 0;
  let generation = 0;
  const fire = () => {
    immediate = null;
    if (stopped) return;
    const mine = ++generation;
    emittedAt = performance.now();
    emit(() => {
      if (mine === generation && !stopped && immediate === null) immediate = setImmediate(fire);
    });
  };
  // One watchdog instead of a timer per frame: a timer per frame would cost more than the frame.
  const watchdog = setInterval(() => {
    if (immediate === null && performance.now() - emittedAt >= UNTAKEN_MS) fire();
  }, UNTAKEN_MS);
  immediate = setImmediate(fire);
  return () => {
    stopped = true;
    clearInterval(watchdog);
    if (immediate) clearImmediate(immediate);
  };
}
