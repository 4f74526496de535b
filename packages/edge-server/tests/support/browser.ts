// Debian's Chromium, headless, driven by playwright-core, for the page tests (npm test installs
// it; tools/players.mjs says when it is missing and how to launch it).
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { CHROMIUM_LAUNCH } from '../../../../tools/players.mjs';
import type { RunningHttpServer } from '../http-fixtures/harness.js';
import type { RealHttpServer } from '../http-fixtures/real-server.js';

/** A fresh headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch(CHROMIUM_LAUNCH);
}

/** What a page test holds: set `page`, `running` and `real` in a test and they are closed after it. */
export interface PageFixture {
  browser: Browser;
  page: Page | undefined;
  running: RunningHttpServer | undefined;
  real: RealHttpServer | undefined;
}

/**
 * Registers the hooks of a page test file: Chromium launched once (unless `missing`, the reason it
 * is not installed) and `outputDir` made for screenshots, the test's page and servers closed after
 * each test, Chromium after all.
 */
export function usePageFixture(missing: string | undefined, outputDir: string): PageFixture {
  const fixture = { page: undefined, running: undefined, real: undefined } as PageFixture;
  beforeAll(async () => {
    if (missing) return;
    fixture.browser = await launchChromium();
    await mkdir(outputDir, { recursive: true });
  }, 60_000);
  afterEach(async () => {
    await fixture.page?.close();
    fixture.page = undefined;
    await fixture.running?.close();
    fixture.running = undefined;
    await fixture.real?.close();
    fixture.real = undefined;
  });
  afterAll(async () => {
    await fixture.browser?.close();
  });
  return fixture;
}

/**
 * Evaluates `expression` in the page until `accept` holds. Polled from here rather than with
 * waitForFunction, whose polling evaluates strings in a way the page's CSP (rightly) refuses.
 */
export async function pagePoll<T>(p: Page, expression: string, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await p.evaluate<T>(expression);
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression.slice(0, 80)}; last value ${JSON.stringify(value)}`);
    await p.waitForTimeout(50);
  }
}
