// /recordings.html in headless Chromium, over segments written ahead of time: before Play it
// shows the recording's first frame (never a broken image), and while it plays the slider and
// the time label follow the frame on screen, up to the last one.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageDigestScript, missingPlayer, titled } from '../../../tools/players.mjs';
import pino from 'pino';
import { EventBus } from '../src/camera/event-bus.js';
import { createEventRoutes } from '../src/events/events-route.js';
import type { HttpContext } from '../src/http/routes.js';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { writeSegment } from './recording-fixtures/recording-helpers.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

// Two segments at 10 fps: 4 s from t0, then 2 s after a gap.
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const t1 = t0 + 10_000;
const LAST_FRAME = t1 + 1900;
let root: string;
let server: Server;
let base: string;
/** Replay responses the server has open now. */
let replaysOpen = 0;

beforeAll(async () => {
  if (noChromium) return;
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-page-'));
  const jpegs = await testPatternJpegs(160, 120, 40);
  await writeSegment(join(root, 'front'), t0, jpegs);
  await writeSegment(join(root, 'front'), t1, jpegs.slice(0, 20));
  // Motion from 1 s to 2.5 s into the first segment, as a camera with motion: lists it.
  const motion = [{ fromMs: t0 + 1000, toMs: t0 + 2500 }];
  const store = new RecordingsStore('front', join(root, 'front'), undefined, (from, to) => motion.filter((m) => m.toMs > from && m.fromMs < to));
  const routes = recordingsRoutes({ store: (name) => (name === 'front' ? store : undefined), cameras: () => ['front'], log: memoryLogger('silent').logger });
  // The page asks for the camera's recent events (none here), as a server always answers.
  const events = createEventRoutes(new EventBus());
  const ctx = { log: pino({ level: 'silent' }) } as unknown as HttpContext;
  server = createServer((req, res) => {
    if (req.url?.startsWith('/events/recent')) return void events.recent(ctx, req, res, new URLSearchParams(req.url.split('?')[1]));
    if (req.url?.includes('/replay.mjpg')) {
      replaysOpen++;
      res.once('close', () => replaysOpen--);
    }
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

/** Images on the page that show as broken: shown, yet without a decoded picture. */
const BROKEN = `[...document.querySelectorAll('.cam img')].filter((i) => !i.hidden && !(i.complete && i.naturalWidth > 0)).length`;
/** The slider's value and the time label beside it. */
const POSITION = `(() => { const c = document.querySelector('.cam .controls'); return { value: Number(c.querySelector('input[type=range]').value), label: c.querySelector('span').textContent }; })()`;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

async function open(): Promise<Page> {
  const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
  fx.page = page;
  const failed: string[] = [];
  page.on('console', (msg) => void (msg.type() === 'error' && failed.push(msg.text())));
  await page.goto(`${base}/recordings.html`, { waitUntil: 'domcontentloaded' });
  await pagePoll<number>(page, `document.querySelectorAll('.cam .timeline').length`, (n) => n === 1, 15_000);
  expect(failed).toEqual([]);
  return page;
}

describe.skipIf(noChromium)(titled('/recordings.html in headless Chromium', noChromium), () => {
  it('shows the first recorded frame before Play, and never a broken image', async () => {
    const page = await open();
    expect(await page.evaluate<number>(BROKEN)).toBe(0);
    await page.evaluate(`document.querySelector('.cam img').id = 'replay'`);
    await pagePoll<number>(page, `document.getElementById('replay').hidden ? 0 : document.getElementById('replay').naturalWidth`, (w) => w === 160, 15_000);
    expect(await page.evaluate<string>(imageDigestScript('replay'))).not.toBe('');
    expect(await page.evaluate<number>(BROKEN)).toBe(0);
    expect(await page.evaluate(POSITION)).toEqual({ value: t0, label: iso(t0) });
    // One frame, and the replay it came from is let go.
    await waitUntil(() => replaysOpen === 0, 10_000, 'the preview to close its replay');
    await page.screenshot({ path: join(OUTPUT_DIR, 'recordings-page-before-play.png') });
  });

  it('draws the stretches with motion the listing gives on the timeline', async () => {
    const page = await open();
    const bands = await page.evaluate<{ left: string; width: string; title: string }[]>(
      `[...document.querySelectorAll('.cam .timeline .motion')].map((b) => ({ left: b.style.left, width: b.style.width, title: b.title }))`,
    );
    // The timeline spans t0 to the end of the second segment (t1 + 2 s): 12 s.
    expect(bands).toHaveLength(1);
    expect(parseFloat(bands[0]!.left)).toBeCloseTo((1000 / 12_000) * 100, 1);
    expect(parseFloat(bands[0]!.width)).toBeCloseTo((1500 / 12_000) * 100, 1);
    expect(bands[0]!.title).toBe(`motion ${iso(t0 + 1000)} to ${iso(t0 + 2500)}`);
  });

  it('moves the slider and the time label with the frames it plays, to the last one, and keeps it on Stop', async () => {
    const page = await open();
    await page.click('.cam button:has-text("Play")');
    // Each second of recording the label moves on, and the slider with it, to the same frame.
    const seen: { value: number; label: string }[] = [];
    await pagePoll<{ value: number; label: string }>(
      page,
      POSITION,
      (p) => {
        if (seen.at(-1)?.label !== p.label) seen.push(p);
        return seen.length >= 4;
      },
      30_000,
    );
    for (const p of seen) expect(p.label).toBe(iso(p.value));
    const values = seen.map((p) => p.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
    expect(await page.evaluate<number>(BROKEN)).toBe(0);
    // Over the gap and on to the end of the second segment, where it stays.
    expect(await pagePoll(page, POSITION, (p: { value: number }) => p.value === LAST_FRAME, 30_000)).toEqual({ value: LAST_FRAME, label: iso(LAST_FRAME) });
    await pagePoll<string>(page, `document.querySelector('.cam .note').textContent`, (t) => t === 'end of the recording', 10_000);
    // Stop keeps the frame on screen rather than an empty image.
    await page.click('.cam button:has-text("Stop")');
    expect(await page.evaluate<number>(BROKEN)).toBe(0);
    expect(await page.evaluate<number>(`document.querySelector('.cam img').naturalWidth`)).toBe(160);
  }, 90_000);
});
