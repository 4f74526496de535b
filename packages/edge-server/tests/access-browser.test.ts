// The page with a token, in a real browser (Debian's Chromium, headless, as in
// http-browser.test.ts): opened as /?token=…, or after Basic authentication, its stream and its
// status polling keep working, and no request of the page is refused.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { usePageFixture } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const TOKEN = 'browser-token-5d1e';
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);
let server: TestServer;
let base: string;

beforeAll(async () => {
  if (noChromium) return;
  server = await startTestServer({ httpPort: 0, token: TOKEN, fps: 10 }, { accessTuning: { freeFailures: 1000 } });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/** The page's document, typed as much as these tests use (this package's types have no DOM). */
interface PageElement {
  naturalWidth: number;
  textContent: string | null;
}
declare const document: { getElementById(id: string): PageElement };

/** Opens `path`, waits until the stream shows and /status has been read twice, and lists refused requests. */
async function viewPage(context: BrowserContext, path: string, screenshot: string): Promise<{ refused: string[]; width: number; state: string }> {
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('response', (res) => {
    if (res.status() === 401 || res.status() === 429) refused.push(`${res.status()} ${res.url()}`);
  });
  let statusPolls = 0;
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/status' && res.status() === 200) statusPolls++;
  });
  await page.goto(base + path);
  // Functions, not strings (the page's CSP forbids eval); they run in the page.
  await page.waitForFunction(() => document.getElementById('live').naturalWidth > 0, undefined, { timeout: 15_000 });
  await page.waitForFunction(() => document.getElementById('state').textContent === 'running', undefined, { timeout: 15_000 });
  const deadline = Date.now() + 10_000;
  while (statusPolls < 2 && Date.now() < deadline) await page.waitForTimeout(100);
  await page.screenshot({ path: join(OUTPUT_DIR, screenshot) });
  const width = await page.evaluate(() => document.getElementById('live').naturalWidth);
  const state = (await page.textContent('#state')) ?? '';
  await page.close();
  expect(statusPolls).toBeGreaterThanOrEqual(2);
  return { refused, width, state };
}

describe.skipIf(noChromium)(titled('the page of a server with --token', noChromium), () => {
  it('opened as /?token=, shows the stream and keeps polling /status with the token', async () => {
    const context = await fx.browser.newContext();
    try {
      const r = await viewPage(context, `/?token=${TOKEN}`, 'access-page-query-token.png');
      expect(r).toEqual({ refused: [], width: 160, state: 'running' });
    } finally {
      await context.close();
    }
  });

  it('after Basic authentication (what the browser prompt sends), works without a token in any URL', async () => {
    const context = await fx.browser.newContext({ httpCredentials: { username: 'viewer', password: TOKEN } });
    try {
      const r = await viewPage(context, '/', 'access-page-basic.png');
      // The first request is refused with the challenge; the browser answers it with the credentials.
      expect(r.refused.every((line) => line === `401 ${base}/`)).toBe(true);
      expect(r.width).toBe(160);
      expect(r.state).toBe('running');
    } finally {
      await context.close();
    }
  });
});
