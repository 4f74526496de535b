// What GET /healthz answers: healthy only while the source is running AND its newest frame is
// recent, because a wedged camera can stay "running" (ffmpeg alive) without delivering frames.
import type { SourceInfo } from '../contracts.js';

/** Never call a source stale sooner than this: covers scheduling hiccups on a busy device. */
export const MIN_STALE_AFTER_MS = 2000;

export interface SourceHealth {
  healthy: boolean;
  state: SourceInfo['state'];
  /** Age of the newest frame, or null before the first one. */
  lastFrameAgeMs: number | null;
  reason: string;
}

/** A frame is recent if it is younger than three frame intervals, and at least MIN_STALE_AFTER_MS. */
export function staleAfterMs(fpsConfigured: number): number {
  return fpsConfigured > 0 ? Math.max(MIN_STALE_AFTER_MS, 3000 / fpsConfigured) : MIN_STALE_AFTER_MS;
}

export function sourceHealth(info: SourceInfo, nowMs: number): SourceHealth {
  const lastFrameAgeMs = info.lastFrameAt === null ? null : Math.max(0, nowMs - info.lastFrameAt);
  const base = { state: info.state, lastFrameAgeMs };
  if (info.state !== 'running') {
    const why = info.state === 'restarting' && info.lastError ? `: ${info.lastError}` : '';
    return { ...base, healthy: false, reason: `source is ${info.state}${why}` };
  }
  if (lastFrameAgeMs === null) return { ...base, healthy: false, reason: 'no frame captured yet' };
  const limit = staleAfterMs(info.fpsConfigured);
  if (lastFrameAgeMs > limit) {
    return { ...base, healthy: false, reason: `no frame for ${lastFrameAgeMs} ms (limit ${Math.round(limit)} ms)` };
  }
  return { ...base, healthy: true, reason: 'source is delivering frames' };
}
