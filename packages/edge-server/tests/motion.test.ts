// Motion detection on a camera: real JPEGs of a scene (a still picture, a box crossing it) through
// the real ffmpeg, from a hub the test feeds by hand.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJpegInfo, type CapturedFrame } from '@edgecam/protocol';
import type { CameraContext, CameraEvent, FrameHub } from '../src/contracts.js';
import { graySize, grayArgs } from '../src/motion/gray-decoder.js';
import { detectorOptions, motionConfigSchema } from '../src/motion/motion-config.js';
import { startMotion, type RunningMotion } from '../src/motion/start-motion.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { memoryLogger } from './support/logger.js';
import { alive } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const SCENE_FPS = 10;

/** 8 s at 10 fps, 320x180: colour bars, a white box crossing from 2 s to 5 s. */
async function sceneJpegs(): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-motion-'));
  try {
    await promisify(execFile)(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', `smptebars=s=320x180:r=${SCENE_FPS}`,
      '-f', 'lavfi', '-i', `color=c=white:s=40x40:r=${SCENE_FPS}`,
      '-filter_complex', "[0][1]overlay=x='-40+(t-2)*120':y=70:enable='between(t,2,5)'",
      '-t', '8', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2', join(dir, '%04d.jpg'),
    ]);
    return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A hub whose frames the test pushes. */
function manualHub() {
  const frames = new Subject<CapturedFrame>();
  let newest: CapturedFrame | undefined;
  const hub: FrameHub = {
    frames$: frames.asObservable(),
    latest: () => newest,
    snapshot: () => (newest ? Promise.resolve(newest) : Promise.reject(new Error('no frame'))),
    info: () => ({ kind: 'custom', spec: 'test', width: 320, height: 180, fpsConfigured: SCENE_FPS, fpsMeasured: 0, state: 'running', restarts: 0, framesCaptured: 0, lastFrameAt: null, lastError: null, noSignal: false }),
  };
  return { hub, push: (f: CapturedFrame) => frames.next((newest = f)), observers: () => frames.observed };
}

let jpegs: Buffer[];
let running: RunningMotion | null = null;

beforeAll(async () => {
  jpegs = await sceneJpegs();
});

afterEach(async () => {
  await running?.close();
  running = null;
});

/** Feeds scene frames first..last (scene time from t0), each once the one before it was analysed. */
async function feed(m: RunningMotion, push: (f: CapturedFrame) => void, from: number, to: number, t0Us: number): Promise<void> {
  const done = () => m.status().analysed + m.status().dropped;
  const base = done();
  for (let i = from; i < to; i++) {
    push({ seq: i + 1, captureTimeUs: t0Us + (i * 1e6) / SCENE_FPS, jpeg: jpegs[i]! });
    // ffmpeg gives a picture out once the next JPEG has begun, so wait for the one before this
    // (the first is dropped while ffmpeg starts).
    if (i > from) await waitUntil(() => done() - base >= i - from, 10_000, `frame ${i - 1} analysed`);
  }
}

function start(overrides: Record<string, unknown> = {}) {
  const { hub, push, observers } = manualHub();
  const { logger, lines } = memoryLogger('info');
  const ctx: CameraContext = { name: 'front', hub, logger };
  const cfg = motionConfigSchema.parse({ fps: SCENE_FPS, width: 80, ...overrides });
  const m = startMotion(ctx, cfg);
  running = m;
  const events: CameraEvent[] = [];
  let completed = false;
  m.events$.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
  return { m, push, events, lines, observers, completed: () => completed };
}

describe('startMotion', () => {
  it('reports a box crossing the picture as one event with a snapshot, and ends it', async () => {
    const { m, push, events } = start();
    const t0 = 1_700_000_000_000_000;
    await feed(m, push, 0, jpegs.length, t0);
    expect(events.map((e) => e.phase).filter((p) => p !== 'update')).toEqual(['start', 'end']);
    const first = events[0]!;
    const last = events.at(-1)!;
    expect(first).toMatchObject({ camera: 'front', type: 'motion', id: `front-${first.startedAt}` });
    expect(first.startedAt).toBeGreaterThanOrEqual(t0 / 1000 + 2000);
    expect(first.startedAt).toBeLessThan(t0 / 1000 + 3000);
    expect(last.endedAt).toBeGreaterThan(t0 / 1000 + 4000);
    expect(last.endedAt).toBeLessThanOrEqual(t0 / 1000 + 5100);
    expect(last.score).toBeGreaterThan(0.01);
    // The snapshot is the full-size JPEG of a frame with the box in it.
    expect(readJpegInfo(last.snapshot!.jpeg)).toEqual({ width: 320, height: 180 });
    const seq = last.snapshot!.seq;
    expect(seq).toBeGreaterThan(20);
    expect(seq).toBeLessThanOrEqual(50);
    expect(m.status()).toMatchObject({ state: 'running', width: 80, height: 46, event: null, warmingUp: false });
  });

  it('ends the event going on and kills ffmpeg when closed, and stops watching the camera', async () => {
    const { m, push, events, observers, completed } = start();
    await feed(m, push, 0, 40, 1_700_000_000_000_000);
    expect(events[0]?.phase).toBe('start');
    expect(m.status().event?.id).toBe(events[0]!.id);
    const pid = m.status().ffmpegPid!;
    expect(alive(pid)).toBe(true);
    await m.close();
    expect(events.at(-1)).toMatchObject({ phase: 'end', id: events[0]!.id });
    expect(completed()).toBe(true);
    expect(alive(pid)).toBe(false);
    expect(observers()).toBe(false);
    expect(m.status().state).toBe('closed');
  });

  it('sees nothing under a mask', async () => {
    const { m, push, events } = start({ masks: [{ rect: [0, 0.3, 1, 0.7] }] });
    await feed(m, push, 0, jpegs.length, 1_700_000_000_000_000);
    expect(events).toEqual([]);
  });
});

describe('the gray picture', () => {
  it('is decoded at the smallest -lowres that still covers the analysed width', () => {
    expect(graySize(1280, 720, 160)).toEqual({ width: 160, height: 90, lowres: 3 });
    expect(graySize(640, 480, 160)).toEqual({ width: 160, height: 120, lowres: 2 });
    expect(graySize(320, 180, 80)).toEqual({ width: 80, height: 46, lowres: 1 });
    expect(graySize(100, 100, 160)).toEqual({ width: 100, height: 100, lowres: 0 });
    expect(grayArgs({ width: 160, height: 90, lowres: 3 }).join(' ')).toContain('-f mjpeg -lowres 3 -i pipe:0');
  });
});

describe('motionConfigSchema', () => {
  it('fills in defaults and refuses unknown keys and bad masks', () => {
    expect(motionConfigSchema.parse({})).toMatchObject({ fps: 5, width: 160, threshold: 25, hold: 2, warmUp: 2, masks: [] });
    expect(detectorOptions(motionConfigSchema.parse({ warmUp: '500ms', background: 10 }))).toMatchObject({ warmUpMs: 500, backgroundMs: 10_000 });
    expect(motionConfigSchema.safeParse({ treshold: 20 }).success).toBe(false);
    expect(motionConfigSchema.safeParse({ masks: [{ rect: [0.5, 0, 0.2, 1] }] }).success).toBe(false);
    expect(motionConfigSchema.safeParse({ masks: [{ polygon: [[0, 0], [1, 1], [0, 1]] }] }).success).toBe(true);
  });
});
