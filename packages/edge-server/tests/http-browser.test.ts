// A real browser: Debian's Chromium, headless, driven by playwright-core. It must be installed
// (`apt-get install chromium`; npm test does it when it can). Without it the suite is skipped with
// the reason, and CI counts that skip as a failure.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { pagePoll, usePageFixture } from './support/browser.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer } from './http-fixtures/harness.js';
import { waitUntil } from './support/wait.js';
import { solidJpeg } from './http-fixtures/jpeg-frames.js';
import { startRealServer } from './http-fixtures/real-server.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const WIDTH = 320;
const HEIGHT = 240;

const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

/** Page-side expression: the live <img> drawn onto a canvas, then `body` run on its 2D context. */
function onLiveImage(body: string): string {
  return `(() => {
  const img = document.getElementById('live');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  ${body}
})()`;
}

/** A digest of the pixels the <img> shows now. */
const PIXEL_DIGEST = onLiveImage(`const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 4) hash = (Math.imul(hash, 31) + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
  return String(hash);`);

/** The [r, g, b] of the centre pixel of what the <img> shows now. */
const CENTRE_PIXEL = onLiveImage(`const d = ctx.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
  return [d[0], d[1], d[2]];`);

async function openPage(url: string): Promise<Page> {
  const page = await fx.browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
  fx.page = page;
  await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
  await pagePoll<number>(page, `document.getElementById('live').naturalWidth`, (w) => w > 0, 15_000);
  return page;
}

describe.skipIf(noChromium)(titled('the page at / in headless Chromium', noChromium), () => {
  it('shows the live test pattern at the configured width, with changing pixels and the status figures', async () => {
    fx.real = await startRealServer({ size: { width: WIDTH, height: HEIGHT }, fps: 20 });
    const p = await openPage(fx.real.url);
    expect(await p.evaluate(`document.getElementById('live').naturalWidth`)).toBe(WIDTH);
    expect(await p.evaluate(`document.getElementById('live').naturalHeight`)).toBe(HEIGHT);

    const digests = new Set<string>();
    for (let i = 0; i < 5; i++) {
      digests.add(await p.evaluate<string>(PIXEL_DIGEST));
      await p.waitForTimeout(250);
    }
    // The test pattern moves every frame; a frozen image would give one digest.
    expect(digests.size).toBeGreaterThanOrEqual(3);

    await pagePoll<string>(p, `document.getElementById('resolution').textContent`, (t) => t === `${WIDTH}\u00d7${HEIGHT}`, 5_000);
    // Measured fps appears once the hub has a few frames of history.
    const fps = await pagePoll<string>(p, `document.getElementById('fps').textContent`, (t) => parseFloat(t) > 0, 10_000);
    expect(fps).toMatch(/^\d+\.\d \/ 20$/);
    expect(await p.textContent('#viewers')).toMatch(/^1 \(1 http\)$/);
    expect(await p.textContent('#dropped')).toBe('0');
    expect(await p.textContent('#state')).toBe('running');
    await p.screenshot({ path: join(OUTPUT_DIR, 'http-browser-page.png'), fullPage: true });
  });

  it('shows the newest frame as soon as it arrives, not one frame late', async () => {
    const hub = new FakeHub(WIDTH, HEIGHT, 30);
    const [red, blue] = [await solidJpeg('red'), await solidJpeg('blue')];
    hub.emit(red); // the page opens on red, sent from latest()
    fx.running = await startHttpServer({ hub, registry: new RecordingRegistry(), metrics: new FixedMetrics() });
    const p = await openPage(fx.running.url);
    await waitUntil(() => hub.subscribers === 1, 5_000, 'the page to subscribe');
    // The first frame drawn (the view is shown once the page has read /status).
    const [r] = await pagePoll<number[]>(p, CENTRE_PIXEL, ([red]) => red! > 200, 5_000);
    expect(r).toBeGreaterThan(200);

    // One more frame, then the source goes quiet: a browser that waits for the next part's
    // headers before showing a part would stay on red.
    hub.emit(blue);
    const [r2, , b2] = await pagePoll<number[]>(p, CENTRE_PIXEL, ([, , b]) => b! > 200, 5_000);
    expect(b2).toBeGreaterThan(200);
    expect(r2).toBeLessThan(60);
    await p.locator('#live').screenshot({ path: join(OUTPUT_DIR, 'http-browser-newest-frame.png') });
  });
});
