// Thins a frame stream to at most N frames per second (`/stream.mjpg?fps=N`) for slow links.
// Pure: the caller passes the clock, so it is tested without timers.

const MAX_JITTER_MS = 10;

export class FramePacer {
  private readonly intervalMs: number;
  /**
   * Frames may arrive this much early and still count as on time: capture and timer jitter,
   * a few milliseconds. Not proportional to a long interval, or `?fps=1` would let a frame
   * through a quarter of a second early.
   */
  private readonly slackMs: number;
  private nextDueMs = Number.NEGATIVE_INFINITY;

  constructor(maxFps: number) {
    if (!(Number.isFinite(maxFps) && maxFps > 0)) throw new RangeError(`maxFps must be a positive number, got ${maxFps}`);
    this.intervalMs = 1000 / maxFps;
    this.slackMs = Math.min(this.intervalMs / 4, MAX_JITTER_MS);
  }

  /**
   * Whether a frame arriving at nowMs should be sent. Due times advance by whole intervals, so
   * 30 fps thinned to 20 fps averages 20 fps rather than rounding down to every second frame;
   * after a pause the schedule restarts from now instead of letting a burst through.
   */
  admit(nowMs: number): boolean {
    if (nowMs < this.nextDueMs - this.slackMs) return false;
    const behind = this.nextDueMs < nowMs - this.intervalMs;
    this.nextDueMs = (behind ? nowMs : this.nextDueMs) + this.intervalMs;
    return true;
  }
}

/** Upper bound for `?fps=`: beyond any camera, and keeps the interval arithmetic sane. */
export const MAX_REQUESTED_FPS = 1000;

/** Parses `?fps=N`: undefined when absent, a positive number, or an error message for a 400. */
export function parseFpsParam(raw: string | null): { fps: number | undefined } | { error: string } {
  if (raw === null) return { fps: undefined };
  const trimmed = raw.trim();
  const fps = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(fps > 0 && fps <= MAX_REQUESTED_FPS)) {
    return { error: `fps must be a number above 0 and at most ${MAX_REQUESTED_FPS}, got "${raw.slice(0, 32)}"` };
  }
  return { fps };
}
