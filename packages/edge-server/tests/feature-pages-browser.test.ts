// The pages of a server with a recording, motion-detecting, H.264 camera, in headless Chromium:
// /recordings.html shows the camera's timeline, replays and deletes segments, and / plays the H.264 tile, links
// the recordings with the token and shows the camera's latest motion event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageDigestScript, missingPlayer, titled } from '../../../tools/players.mjs';
import type { CameraEvent } from '../src/contracts.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import type { Page } from 'playwright-core';
import { pagePoll, usePageFixture } from './support/browser.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);

const TOKEN = 'pages-test-token-1234';
const dir = mkdtempSync(join(tmpdir(), 'edgecam-pages-'));
const motion = new Subject<CameraEvent>();
let server: RunningEdgeServer | undefined;
let base: string;

beforeAll(async () => {
  if (noChromium) return;
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    [
      `token: ${TOKEN}`,
      'size: 160x120',
      'fps: 10',
      'cameras:',
      '  front:',
      '    source: testsrc',
      '    record:',
      `      dir: ${join(dir, 'rec')}`,
      '      segment: 2s',
      '    motion: {fps: 2, minArea: 1}',
      '    h264: {enabled: true}',
      '  back:',
      '    source: testsrc',
      '',
    ].join('\n'),
  );
  const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
  server = await startEdgeServer(c, {
    logger: memoryLogger('silent').logger,
    features: { recording: { recorder: { checkpointIntervalMs: 200 } }, motionEvents: (cam) => (cam.name === 'front' ? motion : undefined) },
  });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the recordings page until, once it has listed them, `expression` is accepted. */
async function openUntil<T>(page: Page, url: string, expression: string, accept: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await pagePoll<string>(page, `document.getElementById('cams').textContent`, (t) => t !== 'loading…', 15_000);
    const value = await page.evaluate<T>(expression);
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${expression.slice(0, 80)} on ${url}; last value ${JSON.stringify(value)}`);
    await page.waitForTimeout(500);
  }
}

describe.skipIf(noChromium)(titled('the feature pages in headless Chromium', noChromium), () => {
  it('shows the recording camera\'s timeline on /recordings.html?token=… replays it, deletes a finished segment and links back with the token', async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
    fx.page = page;
    // The first segment's frames are listed once the recorder's first checkpoint comes.
    await openUntil<number>(page, `${base}/recordings.html?token=${TOKEN}`, `Number(document.querySelector('.cam tr:nth-child(2) td:nth-child(3)')?.textContent ?? 0)`, (n) => n > 0);
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll('.cam h2')].map((h) => h.textContent)`)).toEqual(['front']);
    expect(await page.evaluate<number>(`document.querySelectorAll('.cam .timeline .seg').length`)).toBeGreaterThan(0);

    const replays: string[] = [];
    page.on('request', (r) => void (r.url().includes('/replay.mjpg') && replays.push(r.url())));
    await page.click('.cam button:has-text("Play")');
    await page.evaluate(`document.querySelector('.cam img').id = 'replay'`);
    await pagePoll<number>(page, `document.getElementById('replay').naturalWidth`, (w) => w === 160, 30_000);
    const first = await pagePoll<string>(page, imageDigestScript('replay'), (d) => d !== '', 30_000);
    await pagePoll<string>(page, imageDigestScript('replay'), (d) => d !== first, 30_000);
    expect(replays.length).toBeGreaterThan(0);
    for (const url of replays) expect(url).toContain(`token=${TOKEN}`);

    // A finished segment is deleted from the page (the DELETE carries the token), and the list reloads without it.
    page.on('dialog', (d) => void d.accept());
    const finished = `[...document.querySelectorAll('.cam tr')].filter((r) => r.querySelector('button:not([disabled])'))`;
    const rows = await openUntil<number>(page, `${base}/recordings.html?token=${TOKEN}`, `${finished}.length`, (n) => n > 0);
    const start = await page.evaluate<string>(`${finished}[0].cells[0].textContent`);
    await page.evaluate(`${finished}[0].querySelector('button').click()`);
    await pagePoll<string[]>(page, `${finished}.map((r) => r.cells[0].textContent)`, (l) => !l.includes(start), 30_000);
    expect(rows).toBeGreaterThan(0);

    // The way back to the live page keeps the token.
    expect(await page.evaluate<string>(`[...document.querySelectorAll('nav a')].find((a) => a.textContent === 'Live').href`)).toBe(`${base}/?token=${TOKEN}`);
  }, 150_000);

  it('plays the H.264 camera in the main view on /?token=…, links the recordings with the token and shows the latest motion event', async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
    fx.page = page;
    await page.goto(`${base}/?token=${TOKEN}`, { waitUntil: 'domcontentloaded' });
    const frames = `document.getElementById('live-video').getVideoPlaybackQuality().totalVideoFrames`;
    const first = await pagePoll<number>(page, frames, (n) => n >= 5, 60_000);
    await pagePoll<number>(page, frames, (n) => n >= first + 10, 30_000);
    expect(await page.evaluate(`document.getElementById('live-video').dataset.state`)).toBe('webrtc');

    const href = await page.evaluate<string>(`[...document.querySelectorAll('nav a')].find((a) => a.textContent === 'Recordings').href`);
    expect(href).toBe(`${base}/recordings.html?token=${TOKEN}`);

    // The detector sees no motion (minArea: 1), so the injected event stays the latest; it is resent
    // each second until shown, as the page's event stream may not be open yet.
    const startedAt = Date.now();
    let sentAt = 0;
    const text = await pagePoll<string>(
      page,
      `(() => { const m = document.getElementById('motion'); return m.hidden ? '' : m.textContent; })()`,
      (t) => {
        if (t === '' && Date.now() - sentAt > 1000) sentAt = Date.now(), motion.next({ id: 'front-7', camera: 'front', type: 'motion', phase: 'start', startedAt, score: 0.42 });
        return t !== '';
      },
      30_000,
    );
    expect(text).toMatch(/^front: motion since .+ \(42%\)$/);
  }, 150_000);
});
