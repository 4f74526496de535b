// The page at / with several cameras, in headless Chromium: a tile per camera with its state, a
// click shows that camera full size, and its settings form restarts the capture at a new size.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import type { CameraConfig } from '../src/config/camera-config.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { startRealServer } from './http-fixtures/real-server.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

const camera = (name: string, width: number, height: number): CameraConfig => ({
  name,
  source: { kind: 'testsrc' },
  size: { width, height },
  fps: 10,
  quality: 80,
  idleStop: 1,
  alwaysOn: false,
  legacyPort: null,
});

describe.skipIf(noChromium)(titled('the page at / with several cameras, in headless Chromium', noChromium), () => {
  it('shows a tile per camera with its state, a camera full size on a click, and applies its settings', async () => {
    fx.real = await startRealServer({ cameras: [camera('front', 160, 120), { ...camera('side', 192, 144), maxSize: { width: 320, height: 240 } }, camera('back', 128, 96)] });
    const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
    fx.page = page;
    await page.goto(`${fx.real.url}/`, { waitUntil: 'domcontentloaded' });
    await pagePoll<number>(page, `document.getElementById('live').naturalWidth`, (w) => w === 160, 15_000);
    const labels = await pagePoll<string[]>(
      page,
      `[...document.querySelectorAll('#cameras button span')].map((s) => s.textContent)`,
      (l) => l.length === 3,
      15_000,
    );
    expect(labels.map((l) => l.split(' ')[0])).toEqual(['front', 'side', 'back']);
    expect(labels[0]).toMatch(/\(default\)$/);
    await pagePoll<number>(page, `[...document.querySelectorAll('#cameras img')].filter((i) => i.naturalWidth > 0).length`, (n) => n === 3, 15_000);

    await page.click('#cameras button:nth-child(2)');
    await pagePoll<number>(page, `document.getElementById('live').naturalWidth`, (w) => w === 192, 15_000);
    await pagePoll<string>(page, `document.getElementById('set-width').value`, (v) => v === '192', 15_000);

    await page.fill('#set-width', '240');
    await page.fill('#set-height', '176');
    await page.click('#apply');
    await pagePoll<string>(page, `document.getElementById('applied').textContent`, (t) => t === 'applied', 15_000);
    await pagePoll<number>(page, `document.getElementById('live').naturalWidth`, (w) => w === 240, 15_000);
    expect(fx.real.cameras.get('side')?.settings()).toMatchObject({ width: 240, height: 176 });
  });
});
