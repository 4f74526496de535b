// The page at / while its server is away, in headless Chromium: the figures it can no longer
// confirm show as unknown (not their last values), it says since when the server has been
// unreachable, the camera tiles and the latest motion event say they are stale, and all of it
// comes back when the server does (same port, as after a restart).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import type { CameraEvent } from '../src/contracts.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);
const dir = mkdtempSync(join(tmpdir(), 'edgecam-unreachable-'));
let server: RunningEdgeServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port that is free now, so a server can be started on it twice. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Two test-pattern cameras (so the page shows tiles), the first detecting motion; its events are the test's. */
function start(httpPort: number, motion: Subject<CameraEvent>): Promise<RunningEdgeServer> {
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    ['size: 160x120', 'fps: 10', 'cameras:', '  front:', '    source: testsrc', '    motion: {fps: 1, minArea: 1}', '  back:', '    source: testsrc', ''].join('\n'),
  );
  const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', String(httpPort)]);
  return startEdgeServer(c, { logger: memoryLogger('silent').logger, statsIntervalMs: 0, features: { motionEvents: (cam) => (cam.name === 'front' ? motion : undefined) } });
}

interface Cards {
  resolution: string;
  fps: string;
  viewers: string;
  dropped: string;
  state: string;
}
/** The page's figures, by the id of each card. */
const CARDS = `Object.fromEntries(['resolution', 'fps', 'viewers', 'dropped', 'state'].map((id) => [id, document.getElementById(id).textContent]))`;
const NOTICE = `(() => { const n = document.getElementById('notice'); return n.hidden ? null : n.textContent; })()`;
const TILES = `[...document.querySelectorAll('#cameras button span')].map((s) => s.textContent)`;
const MOTION = `(() => { const m = document.getElementById('motion'); return m.hidden ? '' : m.textContent; })()`;

describe.skipIf(noChromium)(titled('the page at / while the server is away, in headless Chromium', noChromium), () => {
  it('shows its figures as unknown and since when the server is unreachable, and fills them in again when it is back', async () => {
    const port = await freePort();
    const motion = new Subject<CameraEvent>();
    server = await start(port, motion);
    const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
    fx.page = page;
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'domcontentloaded' });

    // Live figures first: the page watches the stream, so it counts itself a viewer.
    const live = await pagePoll<Cards>(page, CARDS, (c) => c.state === 'running' && c.viewers.startsWith('1 ') && c.fps.endsWith(' / 10'), 30_000);
    expect(live.resolution).toBe('160\u00d7120');
    await pagePoll<string[]>(page, TILES, (t) => t.length === 2 && t.every((l) => l.includes('running')), 15_000);
    // A motion event, resent until the page's event stream has shown it.
    let sentAt = 0;
    await pagePoll<string>(
      page,
      MOTION,
      (t) => {
        if (t === '' && Date.now() - sentAt > 1000) sentAt = Date.now(), motion.next({ id: 'front-1', camera: 'front', type: 'motion', phase: 'start', startedAt: Date.now(), score: 0.3 });
        return t !== '';
      },
      30_000,
    );
    expect(await page.evaluate<string>(MOTION)).toMatch(/^front: motion since .+ \(30%\)$/);

    await server.close();
    server = undefined;
    const cards = await pagePoll<Cards>(page, CARDS, (c) => c.state === 'unreachable', 15_000);
    expect(cards).toEqual({ resolution: '\u2014', fps: '\u2014', viewers: '\u2014', dropped: '\u2014', state: 'unreachable' });
    const away = await page.evaluate<string | null>(NOTICE);
    expect(away).toMatch(/^Server unreachable since \d\d:\d\d:\d\d, retrying\u2026$/);
    expect(await page.evaluate(TILES)).toEqual(['front \u00b7 unknown', 'back \u00b7 unknown']);
    expect(await pagePoll<string>(page, MOTION, (t) => t.includes('last known'), 15_000)).toMatch(/^front: motion since .+ \(30%\) \(last known: the event stream is down, reconnecting\u2026\)$/);
    // It keeps the time it first failed while it retries.
    const since = away!.slice(0, 'Server unreachable since 00:00:00'.length);
    await page.waitForTimeout(2_000);
    expect(await page.evaluate<string | null>(NOTICE)).toContain(since);
    await page.screenshot({ path: join(OUTPUT_DIR, 'http-browser-unreachable.png') });

    server = await start(port, motion);
    await pagePoll<string | null>(page, NOTICE, (t) => t === null, 30_000);
    await pagePoll<Cards>(page, CARDS, (c) => c.state === 'running' && c.resolution === '160\u00d7120' && c.fps.endsWith(' / 10') && c.dropped !== '\u2014', 30_000);
    await pagePoll<string[]>(page, TILES, (t) => t.every((l) => !l.includes('unknown')), 15_000);
    await pagePoll<string>(page, MOTION, (t) => !t.includes('last known'), 30_000);
    expect(await page.evaluate<boolean>(`document.body.classList.contains('unreachable')`)).toBe(false);
  }, 150_000);
});
