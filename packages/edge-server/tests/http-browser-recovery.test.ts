// The page at / heals by itself, in headless Chromium (as in http-browser.test.ts): Chromium
// fires no event when a multipart stream ends, so after a server restart the page must notice
// the frozen picture and reconnect. It says why the camera is down, offers fullscreen, and
// none of its requests fail.
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { imageDigestScript, missingPlayer, titled } from '../../../tools/players.mjs';
import { pagePoll, usePageFixture } from './support/browser.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer } from './http-fixtures/harness.js';
import { waitUntil } from './support/wait.js';
import { solidJpeg } from './http-fixtures/jpeg-frames.js';
import { startRealServer } from './http-fixtures/real-server.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

/** A loopback port that is free now, so a server can be started on it twice. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A digest of the pixels the <img> shows now ('' while it shows nothing). */
const PIXEL_DIGEST = imageDigestScript('live');

/** The notice over the picture: its text, or null while it is hidden. */
const NOTICE = `(() => { const n = document.getElementById('notice'); return n.hidden ? null : n.textContent; })()`;

/** Waits until the picture has shown `count` different images none of which is in `besides`. */
async function newPictures(p: Page, count: number, besides: Set<string>, timeoutMs: number): Promise<Set<string>> {
  const seen = new Set<string>();
  await pagePoll<string>(
    p,
    PIXEL_DIGEST,
    (digest) => {
      if (digest !== '' && !besides.has(digest)) seen.add(digest);
      return seen.size >= count;
    },
    timeoutMs,
  );
  return seen;
}

/** Opens the page and records every request that failed or was answered with an error. */
async function openPage(url: string): Promise<{ page: Page; failed: string[] }> {
  const page = await fx.browser.newPage({ viewport: { width: 390, height: 844 } });
  fx.page = page;
  const failed: string[] = [];
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
  });
  page.on('requestfailed', (req) => failed.push(`failed ${req.url()}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') failed.push(`console: ${msg.text()}`);
  });
  await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
  await pagePoll<number>(page, `document.getElementById('live').naturalWidth`, (w) => w > 0, 15_000);
  return { page, failed };
}

describe.skipIf(noChromium)(titled('the page at / heals in headless Chromium', noChromium), () => {
  it('shows new frames again, by itself, after the server restarts on the same port', async () => {
    const port = await freePort();
    fx.real = await startRealServer({ httpPort: port, fps: 10 });
    const { page: p, failed } = await openPage(fx.real.url);
    const before = await newPictures(p, 3, new Set(), 15_000);
    // The status figures load too, and nothing the page asked for failed (the favicon included).
    await pagePoll<string>(p, `document.getElementById('state').textContent`, (t) => t === 'running', 10_000);
    expect(failed).toEqual([]);

    await fx.real.close();
    fx.real = undefined;
    expect(await pagePoll<string | null>(p, NOTICE, (t) => t !== null, 15_000)).toMatch(/^Server unreachable since \d\d:\d\d:\d\d, retrying/);
    const frozen = await p.evaluate<string>(PIXEL_DIGEST);

    fx.real = await startRealServer({ httpPort: port, fps: 10 });
    // Three pictures the old server never sent: the stream was reopened, and it moves.
    await newPictures(p, 3, new Set([...before, frozen]), 30_000);
    await pagePoll<string | null>(p, NOTICE, (t) => t === null, 10_000);
    await pagePoll<string>(p, `document.getElementById('state').textContent`, (t) => t === 'running', 10_000);
    await p.screenshot({ path: join(OUTPUT_DIR, 'http-browser-after-restart.png') });
  }, 90_000);

  it('reopens a stream that stopped while the server kept running', async () => {
    const hub = new FakeHub(320, 240, 10);
    hub.play([await solidJpeg('red'), await solidJpeg('blue')], 10);
    const registry = new RecordingRegistry();
    fx.running = await startHttpServer({ hub, registry, metrics: new FixedMetrics() });
    const { page: p } = await openPage(fx.running.url);
    await waitUntil(() => hub.subscribers === 1, 5_000, 'the page to subscribe');
    // Cut only the stream's connection, found by the address the registry has for the viewer.
    const viewer = registry.list().find((c) => c.mode === 'streaming')!;
    const stream = [...fx.running.sockets].find((s) => `${s.remoteAddress}:${s.remotePort}` === viewer.address)!;
    stream.destroy();
    await waitUntil(() => hub.subscriptions >= 2 && hub.subscribers === 1, 30_000, 'the page to open the stream again');
    await newPictures(p, 2, new Set(), 10_000);
    hub.stop();
  }, 60_000);

  it('says why the camera is down, with the control characters of the source error made visible', async () => {
    const hub = new FakeHub(320, 240, 10);
    hub.emit(await solidJpeg('red'));
    fx.running = await startHttpServer({ hub, registry: new RecordingRegistry(), metrics: new FixedMetrics() });
    const { page: p } = await openPage(fx.running.url);
    hub.infoOverride = { state: 'restarting', noSignal: true, lastError: 'ffmpeg exited 1: /dev/video0:\u001b[31m busy\nretry' };
    const text = await pagePoll<string | null>(p, NOTICE, (t) => t !== null, 10_000);
    expect(text).toBe('Camera down: ffmpeg exited 1: /dev/video0:\\u001b[31m busy\\u000aretry; the server keeps retrying');
    expect(await p.textContent('#state')).toBe('restarting');
    await p.screenshot({ path: join(OUTPUT_DIR, 'http-browser-camera-down.png') });

    hub.infoOverride = {};
    await pagePoll<string | null>(p, NOTICE, (t) => t === null, 10_000);
  });

  it('puts the picture in fullscreen with its button, and takes it out again', async () => {
    const hub = new FakeHub(320, 240, 10);
    hub.emit(await solidJpeg('blue'));
    fx.running = await startHttpServer({ hub, registry: new RecordingRegistry(), metrics: new FixedMetrics() });
    const { page: p } = await openPage(fx.running.url);
    const fullscreenId = `document.fullscreenElement ? document.fullscreenElement.id : null`;
    await p.click('#fullscreen');
    await pagePoll<string | null>(p, fullscreenId, (id) => id === 'frame', 5_000);
    await pagePoll<string>(p, `document.getElementById('fullscreen').textContent`, (t) => t === 'Exit fullscreen', 5_000);
    await p.click('#fullscreen');
    await pagePoll<string | null>(p, fullscreenId, (id) => id === null, 5_000);
    await pagePoll<string>(p, `document.getElementById('fullscreen').textContent`, (t) => t === 'Fullscreen', 5_000);
  });
});
