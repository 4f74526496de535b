// /recordings.html in headless Chromium for a camera that records MP4, over segments written
// ahead of time: a <video> plays recording.mp4 across the gap between two segments with the
// slider and time label following it, steps frame by frame, labels the time axis and draws the
// camera's motion events as marks whose snapshot shows on hover. And recording.mp4?from=&to=
// opened on its own plays to its end in Chromium's <video>.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { EventBus } from '../src/camera/event-bus.js';
import { createEventRoutes, eventSnapshotId } from '../src/events/events-route.js';
import type { HttpContext } from '../src/http/routes.js';
import { StreamAdmission } from '../src/http/stream-admission.js';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { testPatternH264, writeMp4Segment } from './recording-fixtures/mp4-helpers.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { motion } from './support/events.js';
import { memoryLogger } from './support/logger.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

// Two segments of pictures 100 ms apart: 4 s from t0, then 2 s after a 6 s gap.
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const t1 = t0 + 10_000;
let root: string;
let server: Server;
let base: string;
/** recording.mp4 requests the server has answered or is answering. */
const mp4Requests: string[] = [];

beforeAll(async () => {
  if (noChromium) return;
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-page-mp4-'));
  const units = await testPatternH264(40, 10);
  await writeMp4Segment(join(root, 'front'), t0, units);
  await writeMp4Segment(join(root, 'front'), t1, units.slice(0, 20));
  const store = new RecordingsStore('front', join(root, 'front'));
  const routes = recordingsRoutes({ store: (name) => (name === 'front' ? store : undefined), cameras: () => ['front'], log: memoryLogger('silent').logger });
  // Two motion events inside the recording (one with a snapshot), one of another camera.
  const bus = new EventBus();
  const [jpeg] = await testPatternJpegs(160, 120, 1);
  bus.publish(motion('front-1', 'start', { startedAt: t0 + 1000, snapshot: { seq: 1, captureTimeUs: (t0 + 1000) * 1000, jpeg: jpeg! } }));
  bus.publish(motion('front-1', 'end', { startedAt: t0 + 1000, endedAt: t0 + 2500 }));
  bus.publish(motion('front-2', 'start', { startedAt: t1 + 500 }));
  bus.publish(motion('door-1', 'start', { camera: 'door', startedAt: t0 + 2000 }));
  const events = createEventRoutes(bus);
  const ctx = { log: pino({ level: 'silent' }), streams: new StreamAdmission(0, 0) } as unknown as HttpContext;
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname.endsWith('/recording.mp4')) mp4Requests.push(u.search);
    if (u.pathname === '/events/recent') return void events.recent(ctx, req, res, u.searchParams);
    if (eventSnapshotId(u.pathname) !== undefined) return void events.snapshot(ctx, req, res, u.searchParams);
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (root) await rm(root, { recursive: true, force: true });
});

/** The slider's value and the time label beside it. */
const POSITION = `(() => { const c = document.querySelector('.cam .controls'); return { value: Number(c.querySelector('input[type=range]').value), label: c.querySelector('span').textContent }; })()`;
const VIDEO = `(() => { const v = document.querySelector('.cam video'); return { time: v.currentTime, ended: v.ended, paused: v.paused, ready: v.readyState, error: v.error && v.error.code }; })()`;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
type VideoState = { time: number; ended: boolean; paused: boolean; ready: number; error: number | null };

async function open(): Promise<Page> {
  const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
  fx.page = page;
  const failed: string[] = [];
  page.on('console', (msg) => void (msg.type() === 'error' && failed.push(msg.text())));
  await page.goto(`${base}/recordings.html`, { waitUntil: 'domcontentloaded' });
  await pagePoll<number>(page, `document.querySelectorAll('.cam video').length`, (n) => n === 1, 15_000);
  // The first picture is loaded before Play.
  await pagePoll<VideoState>(page, VIDEO, (v) => v.ready >= 2 || v.error !== null, 15_000);
  expect(failed).toEqual([]);
  return page;
}

describe.skipIf(noChromium)(titled('/recordings.html with an MP4 camera in headless Chromium', noChromium), () => {
  it('plays recording.mp4 in a <video> across the gap to the end, the slider and label following', async () => {
    const page = await open();
    expect(await page.evaluate<VideoState>(VIDEO)).toMatchObject({ error: null, paused: true });
    expect(mp4Requests.at(-1)).toBe(`?from=${t0}&to=${t1 + 2000}`);
    await page.click('.cam button:has-text("Play")');
    const seen: { value: number; label: string }[] = [];
    await pagePoll<{ value: number; label: string }>(
      page,
      POSITION,
      (p) => {
        if (seen.at(-1)?.label !== p.label) seen.push(p);
        return p.value > t0 + 2000;
      },
      30_000,
    );
    for (const p of seen) expect(p.label).toBe(iso(p.value));
    const values = seen.map((p) => p.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    // On over the gap (the joined file closes it) into the second segment, and to the end.
    await pagePoll<{ value: number }>(page, POSITION, (p) => p.value > t1, 30_000);
    const end = await pagePoll<VideoState>(page, VIDEO, (v) => v.ended, 30_000);
    expect(end.time).toBeGreaterThan(5.5);
    await pagePoll<string>(page, `document.querySelector('.cam .note').textContent`, (t) => t === 'end of the recording', 10_000);
    await page.screenshot({ path: join(OUTPUT_DIR, 'recordings-page-mp4-ended.png') });
    // Play at the end plays it again from the start.
    await page.click('.cam button:has-text("Play")');
    await pagePoll<VideoState>(page, VIDEO, (v) => !v.paused && !v.ended && v.time < 3, 15_000);
    await pagePoll<{ value: number }>(page, POSITION, (p) => p.value < t0 + 3000, 15_000);
  }, 90_000);

  it('seeks where the timeline is clicked, takes the speed, and steps one frame at a time', async () => {
    const page = await open();
    // A click on the timeline at the second segment plays from there.
    const box = (await page.locator('.cam .timeline').boundingBox())!;
    const span = t1 + 2000 - t0;
    await page.mouse.click(box.x + (box.width * (t1 + 500 - t0)) / span, box.y + box.height - 3);
    await pagePoll<VideoState>(page, VIDEO, (v) => v.time >= 4.4 && !v.paused, 15_000);
    // The speed asked for is the video's rate.
    await page.selectOption('.cam .controls select', '4');
    expect(await page.evaluate<number>(`document.querySelector('.cam video').playbackRate`)).toBe(4);
    await page.click('.cam button:has-text("Pause")');
    const paused = await pagePoll<VideoState>(page, VIDEO, (v) => v.paused, 10_000);
    await page.click('.cam button:has-text("Frame ▶")');
    const stepped = await pagePoll<VideoState>(page, VIDEO, (v) => v.time > paused.time, 10_000);
    expect(stepped.time - paused.time).toBeCloseTo(0.1, 2);
    await page.click('.cam button:has-text("◀ Frame")');
    await pagePoll<VideoState>(page, VIDEO, (v) => Math.abs(v.time - paused.time) < 0.001, 10_000);
    // The slider comes to the wall time of the picture on screen (once it is seeked): past the gap.
    const expected = t1 + (paused.time - 4) * 1000;
    const at = await pagePoll<{ value: number; label: string }>(page, POSITION, (p) => Math.abs(p.value - expected) < 5, 10_000);
    expect(at.label).toBe(iso(at.value));
  }, 60_000);

  it('labels the axis and draws the camera\'s motion events as marks, with the snapshot on hover', async () => {
    const page = await open();
    const ticks = await page.evaluate<string[]>(`[...document.querySelectorAll('.cam .axis .tick')].map((t) => t.textContent)`);
    // 12 s of recording: a tick every 2 s, as HH:MM:SS in UTC.
    expect(ticks).toEqual(['12:00:00', '12:00:02', '12:00:04', '12:00:06', '12:00:08', '12:00:10', '12:00:12']);
    const marks = await pagePoll<string[]>(page, `[...document.querySelectorAll('.cam .timeline .mark')].map((m) => m.dataset.event)`, (m) => m.length === 2, 10_000);
    expect(marks).toEqual(['front-1', 'front-2']);
    await page.hover('.cam .mark[data-event="front-1"]');
    await pagePoll<number>(page, `(() => { const p = document.getElementById('peek'); return p.hidden ? 0 : p.naturalWidth; })()`, (w) => w === 160, 10_000);
    await page.screenshot({ path: join(OUTPUT_DIR, 'recordings-page-mp4-marks.png') });
    // A click on a mark plays from the event's start.
    await page.click('.cam .mark[data-event="front-2"]');
    await pagePoll<VideoState>(page, VIDEO, (v) => v.time >= 4.5 && !v.paused, 15_000);
  }, 60_000);
});

describe.skipIf(noChromium)(titled('recording.mp4?from=&to= opened in headless Chromium', noChromium), () => {
  it('plays in the <video> Chromium makes for it, to its end', async () => {
    const page = await fx.browser.newPage();
    fx.page = page;
    await page.goto(`${base}/cams/front/recording.mp4?from=${new Date(t0 + 1500).toISOString()}&to=${t1 + 900}`);
    await pagePoll<number>(page, `document.querySelectorAll('video').length`, (n) => n === 1, 15_000);
    await page.evaluate(`(() => { const v = document.querySelector('video'); v.muted = true; return v.play().then(() => true, () => false); })()`);
    const times: number[] = [];
    const end = await pagePoll<{ time: number; ended: boolean; duration: number }>(
      page,
      `(() => { const v = document.querySelector('video'); return { time: v.currentTime, ended: v.ended, duration: v.duration }; })()`,
      (v) => (times.push(v.time), v.ended),
      30_000,
    );
    // From the keyframe at 1 s: 3 s of the first segment, 1 s of the second.
    expect(end.duration).toBeCloseTo(4, 1);
    expect(end.time).toBeCloseTo(end.duration, 1);
    expect(times.some((t) => t > 0 && t < end.duration)).toBe(true);
  }, 60_000);
});
