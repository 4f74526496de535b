// What /healthz decides from SourceInfo: running and a recent frame, nothing else.
import { describe, expect, it } from 'vitest';
import type { SourceInfo } from '../src/contracts.js';
import { MIN_STALE_AFTER_MS, sourceHealth, staleAfterMs } from '../src/http/source-health.js';

const NOW = 1_700_000_000_000;

function info(over: Partial<SourceInfo>): SourceInfo {
  return {
    kind: 'testsrc',
    spec: 'testsrc',
    width: 640,
    height: 480,
    fpsConfigured: 30,
    fpsMeasured: 30,
    state: 'running',
    restarts: 0,
    framesCaptured: 100,
    lastFrameAt: NOW - 20,
    lastError: null,
    noSignal: false,
    ...over,
  };
}

describe('sourceHealth', () => {
  it('is healthy while running with a recent frame', () => {
    expect(sourceHealth(info({}), NOW)).toMatchObject({ healthy: true, state: 'running', lastFrameAgeMs: 20 });
  });

  it.each(['idle', 'starting', 'restarting'] as const)('is unhealthy while %s', (state) => {
    expect(sourceHealth(info({ state }), NOW)).toMatchObject({ healthy: false, state, reason: `source is ${state}` });
  });

  it('says why a restarting source failed', () => {
    const health = sourceHealth(info({ state: 'restarting', lastError: 'No such device' }), NOW);
    expect(health.reason).toBe('source is restarting: No such device');
  });

  it('is unhealthy when running but no frame ever came', () => {
    expect(sourceHealth(info({ lastFrameAt: null }), NOW)).toMatchObject({ healthy: false, lastFrameAgeMs: null, reason: 'no frame captured yet' });
  });

  it('is unhealthy once the newest frame is older than the stale limit', () => {
    expect(sourceHealth(info({ lastFrameAt: NOW - MIN_STALE_AFTER_MS }), NOW).healthy).toBe(true);
    expect(sourceHealth(info({ lastFrameAt: NOW - MIN_STALE_AFTER_MS - 1 }), NOW)).toMatchObject({
      healthy: false,
      reason: `no frame for ${MIN_STALE_AFTER_MS + 1} ms (limit ${MIN_STALE_AFTER_MS} ms)`,
    });
  });

  it('allows three frame intervals for slow sources', () => {
    expect(staleAfterMs(30)).toBe(MIN_STALE_AFTER_MS);
    expect(staleAfterMs(0.5)).toBe(6000);
    expect(sourceHealth(info({ fpsConfigured: 0.5, lastFrameAt: NOW - 5000 }), NOW).healthy).toBe(true);
  });
});
