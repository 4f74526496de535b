// The `edgecam view` page in headless Chromium (npm test installs it; without it this suite is
// skipped with the reason): it heals like the server's own page. Chromium fires no event when a
// multipart stream ends, so after `edgecam view` restarts the page must notice and reopen it.
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_LAUNCH, imageDigestScript, missingPlayer, titled } from '../../../tools/players.mjs';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { spawnCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const noChromium = missingPlayer('chromium');
const cleanups = cleanupsAfterEach();
let browser: Browser | undefined;

beforeAll(async () => {
  if (!noChromium) browser = await chromium.launch(CHROMIUM_LAUNCH);
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** A loopback port that is free now, so `edgecam view` can be started on it twice. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A digest of what the <img> shows now ('' while it shows nothing). */
function picture(page: Page): Promise<string> {
  return page.evaluate(imageDigestScript('stream')) as Promise<string>;
}

/** Waits until the picture has changed `times` times: the stream is live. */
async function seeFramesMove(page: Page, times: number, what: string): Promise<void> {
  let last = await picture(page);
  let changes = 0;
  await waitFor(
    async () => {
      const now = await picture(page);
      if (now !== '' && now !== last) changes++;
      last = now;
      return changes >= times;
    },
    what,
    30_000,
  );
}

describe.skipIf(noChromium)(titled('the edgecam view page in headless Chromium', noChromium), () => {
  it('reopens the stream by itself after edgecam view restarts, and offers fullscreen on and off', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const port = await freePort();
    const start = async () => {
      const run = spawnCli(['--port', String(seed.port), 'view', '--listen', `127.0.0.1:${port}`], { cwd: tempDir(), killAfterMs: 120_000 });
      cleanups.push(async () => void run.child.kill('SIGKILL'));
      await run.waitForOutput(/open http:\/\/127\.0\.0\.1:\d+\//);
      return run;
    };
    const first = await start();
    const page = await browser!.newPage();
    cleanups.push(() => page.close());
    const failed: string[] = [];
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/stream.mjpg') && !r.url().includes('/stats.json')) failed.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await seeFramesMove(page, 3, 'the first frames');

    first.child.kill('SIGINT');
    await first.done;
    await waitFor(async () => /has stopped/.test((await page.textContent('#stats')) ?? ''), 'the page to say the viewer stopped', 30_000);

    await start();
    await seeFramesMove(page, 3, 'frames again after the restart');
    expect(await page.getAttribute('#stream', 'src')).toMatch(/advance_headers=1&t=\d+/);

    await page.click('#fullscreen');
    await waitFor(async () => (await page.evaluate('document.fullscreenElement !== null')) === true, 'fullscreen', 10_000);
    // The picture fills the screen, so the button is hidden: a double click leaves fullscreen.
    await page.dblclick('#stream');
    await waitFor(async () => (await page.evaluate('document.fullscreenElement === null')) === true, 'leaving fullscreen', 10_000);
    expect(failed).toEqual([]);
  }, 120_000);
});
