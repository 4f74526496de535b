// Event clips of a camera that records MP4 are MP4 too: the same H.264 joined from its recording
// over the pre-roll, the event and the post-roll (no second encode, no frames held), named in
// the event, and ffprobe plays them; /recordings lists the event's stretch in the segment holding
// it; a camera recording AVI keeps its AVI clips.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import type { CameraEvent } from '../src/contracts.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { ffprobeFrames } from './recording-fixtures/mp4-helpers.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const noFfprobe = missingPlayer('ffprobe');
const dir = mkdtempSync(join(tmpdir(), 'edgecam-clips-mp4-'));
const extra = new Subject<CameraEvent>();
let server: RunningEdgeServer;

/** Polls `read` until it gives something; the deadline is the only clock. */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await read().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    [
      'size: 160x120',
      'fps: 10',
      'cameras:',
      '  front:',
      '    source: testsrc',
      `    record: {dir: ${join(dir, 'rec')}, format: mp4, segment: 2s}`,
      // Masked whole: only the test's scripted events happen.
      '    motion: {fps: 2, masks: [{rect: [0, 0, 1, 1]}]}',
      '    h264: {enabled: true, keyframeIntervalS: 0.5}',
      '  back:',
      '    source: testsrc',
      `    record: {dir: ${join(dir, 'rec')}}`,
      '    motion: {fps: 2, masks: [{rect: [0, 0, 1, 1]}]}',
      `events: {clips: {dir: ${join(dir, 'clips')}, preRoll: 1s, postRoll: 1s}}`,
      '',
    ].join('\n'),
  );
  const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
  server = await startEdgeServer(c, {
    logger: memoryLogger('silent').logger,
    features: { recording: { recorder: { checkpointIntervalMs: 200 } }, motionEvents: (cam) => (cam.name === 'front' ? extra : undefined) },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('event clips of a camera recording MP4', () => {
  it.skipIf(noFfprobe)(titled('are MP4 joined from the recording over the rolls and the event, and ffprobe plays them', noFfprobe), async () => {
    const store = server.features.get('front')!.recording!.store;
    // Recording for a while, so the pre-roll is on disk.
    const first = await eventually(async () => (await store.list()).find((e) => e.frames > 0), 'the recording to start');
    const startedAt = first.startMs + 1000;
    await eventually(async () => ((await store.list()).some((e) => e.endMs > startedAt + 500) ? true : undefined), 'the event stretch to be recorded');
    const published = firstValueFrom(server.bus.events$.pipe(filter((b) => b.event.id === 'front-clip' && b.event.phase === 'end')));
    extra.next({ id: 'front-clip', camera: 'front', type: 'motion', phase: 'start', startedAt, score: 0.4 });
    extra.next({ id: 'front-clip', camera: 'front', type: 'motion', phase: 'end', startedAt, endedAt: startedAt + 500, score: 0.4 });
    expect((await published).clip).toBe('front-clip.mp4');
    const path = join(dir, 'clips', 'front-clip.mp4');
    const probed = await eventually(async () => (existsSync(path) ? ffprobeFrames(path) : undefined), 'the clip to be written');
    // 1 s pre-roll (from the keyframe before it), 0.5 s of event, 1 s post-roll, at 10 fps.
    expect(probed).toMatchObject({ errors: '', width: 160, height: 120 });
    expect(probed.frames).toBeGreaterThanOrEqual(20);
    expect(probed.frames).toBeLessThanOrEqual(35);

    // GET /recordings gives the segment holding the event its motion stretch, for the timeline.
    const listed = (await (await fetch(`http://127.0.0.1:${server.httpPort}/recordings?camera=front`)).json()) as { recordings: Array<{ startMs: number; endMs: number; motion?: unknown[] }> };
    const holding = listed.recordings.find((e) => e.startMs <= startedAt && e.endMs >= startedAt + 500);
    expect(holding?.motion).toEqual([{ from: new Date(startedAt).toISOString(), to: new Date(startedAt + 500).toISOString(), fromMs: startedAt, toMs: startedAt + 500 }]);
  }, 120_000);

  it('stay AVI for a camera recording AVI', () => {
    const back = server.bus.publish({ id: 'back-clip', camera: 'back', type: 'motion', phase: 'start', startedAt: Date.now(), score: 0.4 });
    expect(back.clip).toBe('back-clip.avi');
    server.bus.publish({ id: 'back-clip', camera: 'back', type: 'motion', phase: 'end', startedAt: Date.now(), endedAt: Date.now(), score: 0.4 });
  });
});
