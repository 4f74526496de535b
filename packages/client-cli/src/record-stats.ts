import type { CapturedFrame } from '@edgecam/protocol';

/** The window the live fps and kbit/s are measured over. */
const RECENT_MS = 2000;

export interface StatsSnapshot {
  /** Since the first frame. */
  elapsedMs: number;
  frames: number;
  /** JPEG bytes received. */
  bytes: number;
  /** Frames per second over the last two seconds (first to last frame at the end). */
  fps: number;
  kbitPerSecond: number;
  /** Frames the server skipped (v2 sequence gaps) plus frames we could not write in time. */
  dropped: number;
  /** Frames the recorder refused (not a whole JPEG, another size). */
  rejected: number;
}

/** Counts a recording's frames for the live line and the summary. */
export class RecordStats {
  frames = 0;
  bytes = 0;
  dropped = 0;
  rejected = 0;
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private lastSeq: number | undefined;
  // Arrival times and sizes of recent frames, oldest first (a ring would be faster; 60 fps x 2 s is small).
  private recent: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Counts a frame. With `sequenced` (v2), a jump in sequence numbers counts the frames in
   * between as dropped by the server.
   */
  frame(f: CapturedFrame, sequenced: boolean): void {
    const at = this.now();
    this.firstAt ??= at;
    this.lastAt = at;
    this.frames++;
    this.bytes += f.jpeg.length;
    if (sequenced) {
      if (this.lastSeq !== undefined && f.seq > this.lastSeq + 1) this.dropped += f.seq - this.lastSeq - 1;
      this.lastSeq = f.seq;
    }
    this.recent.push({ at, bytes: f.jpeg.length });
    while (this.recent.length > 0 && this.recent[0]!.at <= at - RECENT_MS) this.recent.shift();
  }

  /** A new connection starts its own sequence numbers. */
  resetSequence(): void {
    this.lastSeq = undefined;
  }

  get started(): boolean {
    return this.firstAt !== undefined;
  }

  snapshot(final = false): StatsSnapshot {
    const now = this.now();
    const elapsedMs = this.firstAt === undefined ? 0 : (final ? (this.lastAt ?? now) : now) - this.firstAt;
    let fps = 0;
    let kbit = 0;
    if (final) {
      // Intervals between the first and last frame: n frames span n-1 of them.
      fps = this.frames > 1 && elapsedMs > 0 ? ((this.frames - 1) * 1000) / elapsedMs : 0;
      kbit = elapsedMs > 0 ? (this.bytes * 8) / elapsedMs : 0;
    } else if (this.firstAt !== undefined) {
      // Frames of the last RECENT_MS up to now, so the rate falls to 0 while nothing arrives.
      while (this.recent.length > 0 && this.recent[0]!.at <= now - RECENT_MS) this.recent.shift();
      const span = Math.min(RECENT_MS, now - this.firstAt);
      const bytes = this.recent.reduce((n, r) => n + r.bytes, 0);
      fps = span > 0 ? (this.recent.length * 1000) / span : 0;
      kbit = span > 0 ? (bytes * 8) / span : 0;
    }
    return {
      elapsedMs,
      frames: this.frames,
      bytes: this.bytes,
      fps,
      kbitPerSecond: kbit,
      dropped: this.dropped,
      rejected: this.rejected,
    };
  }
}

/** `12:34` or `1:02:03`. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}

/** `912 B`, `14.2 kB`, `3.5 MB`, `1.07 GB` (decimal, as file managers show). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** The live line: elapsed, frames, fps, kbit/s, dropped, file size. */
export function progressLine(s: StatsSnapshot, fileBytes: number): string {
  return [
    formatElapsed(s.elapsedMs),
    `${s.frames} frames`,
    `${s.fps.toFixed(1)} fps`,
    `${Math.round(s.kbitPerSecond)} kbit/s`,
    `${s.dropped} dropped`,
    formatBytes(fileBytes),
  ].join('  ');
}
