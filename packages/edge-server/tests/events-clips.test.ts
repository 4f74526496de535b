import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '@edgecam/recorder';
import type { CameraEvent } from '../src/contracts.js';
import type { BusEvent } from '../src/camera/event-bus.js';
import { startEventOutputs } from '../src/events/event-outputs.js';
import { eventsConfigSchema } from '../src/events/events-config.js';
import { PreRollRing } from '../src/events/pre-roll.js';
import { manualHub, motion } from './support/events.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

let jpeg: Buffer;
let dir: string;
beforeAll(async () => {
  [jpeg] = (await testPatternJpegs(32, 24, 1)) as [Buffer];
  dir = mkdtempSync(join(tmpdir(), 'edgecam-clips-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frameAt = (ms: number, seq = ms) => ({ seq, captureTimeUs: ms * 1000, jpeg });

describe('PreRollRing', () => {
  it('keeps the frames of the last duration', () => {
    const ring = new PreRollRing(500, 1 << 20);
    for (let t = 0; t <= 2000; t += 100) ring.push(frameAt(t));
    expect(ring.snapshot().map((f) => f.captureTimeUs / 1000)).toEqual([1500, 1600, 1700, 1800, 1900, 2000]);
  });

  it('keeps no more than its bytes, but always the newest frame', () => {
    const ring = new PreRollRing(60_000, jpeg.length * 3);
    for (let t = 0; t < 1000; t += 100) ring.push(frameAt(t));
    expect(ring.snapshot().length).toBe(3);
    expect(ring.byteLength).toBe(jpeg.length * 3);
    const tiny = new PreRollRing(60_000, 1);
    tiny.push(frameAt(0));
    tiny.push(frameAt(100));
    expect(tiny.snapshot().map((f) => f.seq)).toEqual([100]);
  });
});

describe('event clips', () => {
  it('records pre-roll, event and post-roll into an AVI named by the event id, listed in its JSON', async () => {
    const hub = manualHub();
    const log = memoryLogger();
    const events$ = new Subject<CameraEvent>();
    const outputs = startEventOutputs({
      config: eventsConfigSchema.parse({ clips: { dir, preRoll: '500ms', postRoll: '300ms' } }),
      cameras: [{ name: 'front', hub, logger: log.logger }],
      events: { front: events$ },
      logger: log.logger,
      serverName: 'garage',
      version: 'test',
    });
    const seen: BusEvent[] = [];
    outputs.bus.events$.subscribe((b) => seen.push(b));
    try {
      let t = 0;
      for (; t < 2000; t += 100) hub.push(frameAt(t)); // 1400..1900 stay in the 500 ms pre-roll
      events$.next(motion('front-1', 'start'));
      for (let i = 0; i < 5; i++, t += 100) hub.push(frameAt(t));
      events$.next(motion('front-1', 'end'));
      for (let i = 0; i < 3; i++, t += 100) hub.push(frameAt(t)); // within the post-roll
      await waitUntil(() => log.lines.some((l) => l.msg === 'event clip written'), 10_000, 'the clip to be written');
      expect(seen.map((b) => outputs.bus.json(b).clip)).toEqual(['front-1.avi', 'front-1.avi']);
      const avi = await inspect(join(dir, 'front-1.avi'));
      expect(avi.frames).toBe(6 + 5 + 3);
      expect(avi.problems).toEqual([]);
    } finally {
      await outputs.close();
    }
  });

  it('puts an event that starts during the post-roll into the same clip', async () => {
    const hub = manualHub();
    const log = memoryLogger();
    const events$ = new Subject<CameraEvent>();
    const outputs = startEventOutputs({
      config: eventsConfigSchema.parse({ clips: { dir, preRoll: '0s', postRoll: '60s' } }),
      cameras: [{ name: 'front', hub, logger: log.logger }],
      events: { front: events$ },
      logger: log.logger,
      serverName: 'garage',
      version: 'test',
    });
    const seen: BusEvent[] = [];
    outputs.bus.events$.subscribe((b) => seen.push(b));
    events$.next(motion('a', 'start'));
    hub.push(frameAt(0));
    events$.next(motion('a', 'end'));
    events$.next(motion('b', 'start'));
    hub.push(frameAt(100));
    events$.next(motion('b', 'end'));
    // close() ends the post-roll early and waits for the file.
    await outputs.close();
    expect(seen.map((b) => b.clip)).toEqual(['a.avi', 'a.avi', 'a.avi', 'a.avi']);
    expect((await inspect(join(dir, 'a.avi'))).frames).toBe(2);
  });
});
