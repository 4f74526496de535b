// The shared capture's lifecycle with a fake source: who starts it, when it stops, what it reports.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Subscription } from 'rxjs';
import { SharedFrameHub } from '../src/camera/frame-hub.js';
import { createServerMetrics } from '../src/metrics.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { ManualSource } from './support/test-source.js';
import { waitUntil } from './support/wait.js';

let jpeg: Buffer;
beforeAll(async () => {
  [jpeg] = (await testPatternJpegs(64, 48, 1)) as [Buffer];
});

const hubs: SharedFrameHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

function hub(source: ManualSource, opts: { idleStopMs?: number; alwaysOn?: boolean; onSourceEnded?: (e: Error) => void } = {}) {
  const metrics = createServerMetrics({ defaultMetrics: false });
  const h = new SharedFrameHub(source, {
    logger: memoryLogger().logger,
    idleStopMs: opts.idleStopMs ?? 100,
    alwaysOn: opts.alwaysOn ?? false,
    metrics,
    onSourceEnded: opts.onSourceEnded,
  });
  hubs.push(h);
  return { h, metrics };
}

describe('SharedFrameHub', () => {
  it('starts one capture for the first consumer and shares it with the next', () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source);
    expect(source.starts).toBe(0);
    expect(h.info().state).toBe('idle');
    const seen: number[][] = [[], []];
    const a = h.frames$.subscribe((f) => seen[0]!.push(f.seq));
    const b = h.frames$.subscribe((f) => seen[1]!.push(f.seq));
    expect(source.starts).toBe(1);
    source.emit();
    source.emit();
    expect(seen).toEqual([[1, 2], [1, 2]]);
    a.unsubscribe();
    b.unsubscribe();
  });

  it('stops the capture idle-stop after the last consumer leaves, not before', () => {
    // Fake timers: on a loaded machine real sleeps of a fraction of the idle time can overrun it.
    // RxJS schedules its timer() with setInterval.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const source = new ManualSource(jpeg);
      const { h } = hub(source, { idleStopMs: 150 });
      let s: Subscription = h.frames$.subscribe();
      s.unsubscribe();
      vi.advanceTimersByTime(100);
      s = h.frames$.subscribe(); // comes back in time: the same capture goes on
      s.unsubscribe();
      vi.advanceTimersByTime(149);
      expect(source.stops).toBe(0);
      vi.advanceTimersByTime(1);
      expect(source.stops).toBe(1);
      expect(source.starts).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is idle after the idle stop, with no newest frame', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source, { idleStopMs: 20 });
    const s = h.frames$.subscribe();
    source.emit();
    expect(h.latest()).toBeDefined();
    s.unsubscribe();
    await waitUntil(() => source.stops === 1, 5000, 'the idle stop');
    expect(h.info().state).toBe('idle');
    expect(h.latest()).toBeUndefined();
  });

  it('captures from the start to close with always-on, consumers or not', async () => {
    const source = new ManualSource(jpeg);
    // Fake timers: well past the idle stop, whatever the load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { h } = hub(source, { alwaysOn: true, idleStopMs: 10 });
    try {
      expect(source.starts).toBe(1);
      h.frames$.subscribe().unsubscribe();
      vi.advanceTimersByTime(1000);
      expect(source.running).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    await h.close();
    expect(source.running).toBe(false);
  });

  it('gives the newest frame from latest() and from snapshot() without waiting', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source, { alwaysOn: true });
    source.emit();
    source.emit();
    expect(h.latest()?.seq).toBe(2);
    expect((await h.snapshot(10)).seq).toBe(2);
  });

  it('starts an idle capture for snapshot() and waits for its first frame', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source, { idleStopMs: 50 });
    const pending = h.snapshot(5000);
    expect(source.starts).toBe(1);
    setTimeout(() => source.emit(), 30);
    expect((await pending).seq).toBe(1);
    await waitUntil(() => source.stops === 1, 2000, 'the capture to stop again');
  });

  it('refuses snapshot() with SOURCE_UNAVAILABLE when no frame comes in time', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source);
    await expect(h.snapshot(50)).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
  });

  it('reports size from the JPEG, measured fps, restarts and the last error', async () => {
    const source = new ManualSource(jpeg);
    const { h, metrics } = hub(source, { alwaysOn: true });
    expect(h.info()).toMatchObject({ width: 320, height: 240, fpsConfigured: 25, framesCaptured: 0, lastFrameAt: null });
    // Virtual time: six frames exactly 40 ms apart are 25 fps, however loaded the machine.
    vi.useFakeTimers({ toFake: ['performance'] });
    let info = h.info();
    try {
      for (let i = 0; i < 6; i++) {
        if (i > 0) vi.advanceTimersByTime(40);
        source.emit();
      }
      info = h.info();
    } finally {
      vi.useRealTimers();
    }
    expect(info).toMatchObject({ width: 64, height: 48, state: 'running', framesCaptured: 6 });
    expect(info.fpsMeasured).toBe(25);
    source.send({ type: 'state', state: 'restarting', error: 'ffmpeg exited with code 1' });
    source.send({ type: 'restart' });
    expect(h.info()).toMatchObject({ state: 'restarting', restarts: 1, lastError: 'ffmpeg exited with code 1' });
    const text = await metrics.text();
    expect(text).toMatch(/edgecam_source_restarts_total 1/);
    expect(text).toMatch(/edgecam_frames_captured_total 6/);
  });

  it('says when the source can never deliver again', () => {
    const source = new ManualSource(jpeg);
    let ended: Error | undefined;
    const { h } = hub(source, { alwaysOn: true, onSourceEnded: (e) => (ended = e) });
    source.end();
    expect(ended).toMatchObject({ code: 'SOURCE_ENDED' });
    expect(h.info()).toMatchObject({ lastError: 'standard input ended' });
  });

  it('keeps consumers subscribed when the source ends, and lets the next consumer start it afresh', () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source);
    let failed = false;
    const a = h.frames$.subscribe({ error: () => (failed = true) });
    source.end();
    expect(failed).toBe(false);
    expect(h.info().state).toBe('restarting');
    const b = h.frames$.subscribe();
    expect(source.starts).toBe(2);
    a.unsubscribe();
    b.unsubscribe();
  });

  it('completes its frames and refuses snapshots once closed', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source);
    let completed = false;
    h.frames$.subscribe({ complete: () => (completed = true) });
    await h.close();
    expect(completed).toBe(true);
    expect(source.running).toBe(false);
    await expect(h.snapshot(10)).rejects.toMatchObject({ code: 'HUB_CLOSED' });
  });
});

describe('SharedFrameHub.sourceLoss$', () => {
  it('says why the source is lost when it fails, and null once a frame comes or the capture stops', async () => {
    const source = new ManualSource(jpeg);
    const { h } = hub(source, { idleStopMs: 10 });
    const seen: (string | null)[] = [];
    const watch = h.sourceLoss$.subscribe((r) => seen.push(r));
    const consumer = h.frames$.subscribe();
    source.emit();
    source.send({ type: 'state', state: 'restarting', error: 'ffmpeg exited with code 1: gone' });
    source.send({ type: 'state', state: 'starting' });
    source.send({ type: 'state', state: 'restarting', error: 'ffmpeg exited with code 1: still gone' });
    expect(seen).toEqual([null, 'ffmpeg exited with code 1: gone']);
    source.emit();
    expect(seen).toEqual([null, 'ffmpeg exited with code 1: gone', null]);
    source.send({ type: 'state', state: 'restarting', error: 'again' });
    consumer.unsubscribe();
    await waitUntil(() => !source.running, 5000, 'the capture to stop');
    expect(seen).toEqual([null, 'ffmpeg exited with code 1: gone', null, 'again', null]);
    // A late subscriber gets the current state first.
    const late: (string | null)[] = [];
    h.sourceLoss$.subscribe((r) => late.push(r)).unsubscribe();
    expect(late).toEqual([null]);
    watch.unsubscribe();
  });
});
