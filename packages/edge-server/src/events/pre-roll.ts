// The last few seconds of a camera's frames in memory, bounded by duration and by bytes, so an
// event's clip can start before the event did.
import type { CapturedFrame } from '@edgecam/protocol';

/** A ring of recent frames: the oldest go once they are older than `durationMs` or over `maxBytes`. */
export class PreRollRing {
  private frames: CapturedFrame[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly durationMs: number,
    private readonly maxBytes: number,
  ) {}

  push(frame: CapturedFrame): void {
    this.frames.push(frame);
    this.bytes += frame.jpeg.length;
    const oldestUs = frame.captureTimeUs - this.durationMs * 1000;
    while (this.head < this.frames.length - 1 && (this.frames[this.head]!.captureTimeUs < oldestUs || this.bytes > this.maxBytes)) {
      this.bytes -= this.frames[this.head]!.jpeg.length;
      this.frames[this.head++] = undefined as unknown as CapturedFrame;
    }
    // Compact now and then instead of shifting an array per frame.
    if (this.head > 256 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /** The frames held, oldest first. */
  snapshot(): CapturedFrame[] {
    return this.frames.slice(this.head);
  }

  get byteLength(): number {
    return this.bytes;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
  }
}
