// Debian's Chromium, headless, driven by playwright-core, for the page tests (npm test installs
// it; tools/players.mjs says when it is missing). The flags keep it off a network this machine
// does not have: without them it retries Google's hosts at every start.
import { chromium, type Browser } from 'playwright-core';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, timeout: 30_000 });
}
