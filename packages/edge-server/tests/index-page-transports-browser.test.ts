// The viewer page spends bits like a camera app, in headless Chromium against a real server with
// an H.264 camera (front, the default, recording MP4) and one without (back), counting the
// requests the page makes: front's views play H.264 over WebRTC and pull no MJPEG; with WebRTC
// unavailable they play stream.mp4; back still plays MJPEG; each view says its transport and
// bitrate. And recording.mp4 answers through the server's router, at the root for the default
// camera and under /cams/NAME/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';
import { sleep } from './support/wait.js';

const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');
const noChromium = missingPlayer('chromium');
const fx = usePageFixture(noChromium, OUTPUT_DIR);
const dir = mkdtempSync(join(tmpdir(), 'edgecam-transports-'));
let server: RunningEdgeServer | undefined;
let base: string;

beforeAll(async () => {
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    [
      'size: 160x120',
      'fps: 10',
      'cameras:',
      '  front:',
      '    source: testsrc',
      '    h264: {enabled: true, keyframeIntervalS: 0.5}',
      `    record: {dir: ${join(dir, 'rec')}, segment: 1s, format: mp4}`,
      '  back:',
      '    source: testsrc',
      '',
    ].join('\n'),
  );
  const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
  server = await startEdgeServer(c, { logger: memoryLogger('silent').logger, statsIntervalMs: 0 });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens `/`, recording the URL of every request the page makes. */
async function open(init?: string): Promise<{ page: Page; requests: string[] }> {
  const page = await fx.browser.newPage({ viewport: { width: 1024, height: 900 } });
  fx.page = page;
  const requests: string[] = [];
  page.on('request', (r) => void requests.push(new URL(r.url()).pathname));
  if (init) await page.addInitScript(init);
  await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
  return { page, requests };
}

const MAIN = `(() => { const v = document.getElementById('live-video'); return { state: v.dataset.state, hidden: v.hidden, frames: v.getVideoPlaybackQuality().totalVideoFrames, transport: document.getElementById('transport').textContent }; })()`;
type Main = { state: string; hidden: boolean; frames: number; transport: string };
const TILES = `[...document.querySelectorAll('#cameras button')].map((b) => ({ video: !!b.querySelector('video'), frames: b.querySelector('video') ? b.querySelector('video').getVideoPlaybackQuality().totalVideoFrames : 0, img: !!b.querySelector('img'), transport: b.querySelector('.transport') ? b.querySelector('.transport').textContent : '' }))`;
type Tile = { video: boolean; frames: number; img: boolean; transport: string };
const isMjpeg = (path: string): boolean => path.endsWith('/stream.mjpg') || path === '/stream.mjpg';

describe.skipIf(noChromium)(titled('the viewer page\'s transports in headless Chromium', noChromium), () => {
  it('plays the H.264 camera over WebRTC in the main view only (its tile shows snapshots meanwhile), pulling no MJPEG, and says so with the bitrate', async () => {
    const { page, requests } = await open();
    const first = await pagePoll<Main>(page, MAIN, (m) => m.state === 'webrtc' && m.frames >= 5, 60_000);
    expect(first.hidden).toBe(false);
    await pagePoll<Main>(page, MAIN, (m) => m.frames >= first.frames + 10, 30_000);
    const main = await pagePoll<Main>(page, MAIN, (m) => /^WebRTC · \d+ kbit\/s$/.test(m.transport) && Number(m.transport.split(' ')[2]) > 0, 15_000);
    expect(main.transport).toMatch(/^WebRTC · [1-9]\d* kbit\/s$/);
    // The tiles show snapshots: front's because the main view plays it (one stream per camera, not
    // two), back's because it has no H.264.
    const tiles = await pagePoll<Tile[]>(page, TILES, (t) => t.length === 2, 60_000);
    expect(tiles.map((t) => [t.video, t.img])).toEqual([[false, true], [false, true]]);
    await page.screenshot({ path: join(OUTPUT_DIR, 'index-page-webrtc.png') });
    expect(requests.filter(isMjpeg)).toEqual([]);
    expect(requests.filter((r) => r === '/cams/front/whep')).toHaveLength(1);
  }, 120_000);

  it('plays stream.mp4 where the browser has no WebRTC, still pulling no MJPEG', async () => {
    const { page, requests } = await open('delete window.RTCPeerConnection;');
    const first = await pagePoll<Main>(page, MAIN, (m) => m.state === 'mp4' && m.frames >= 5, 60_000);
    await pagePoll<Main>(page, MAIN, (m) => m.frames >= first.frames + 10, 30_000);
    const main = await pagePoll<Main>(page, MAIN, (m) => /^MP4 · [1-9]\d* kbit\/s$/.test(m.transport), 15_000);
    expect(main.hidden).toBe(false);
    expect(requests).toContain('/cams/front/stream.mp4');
    expect(requests.filter((r) => r.endsWith('/whep'))).toEqual([]);
    expect(requests.filter(isMjpeg)).toEqual([]);
  }, 120_000);

  it('plays MJPEG for the camera without H.264, and says so; the H.264 camera then plays in its tile', async () => {
    const { page, requests } = await open();
    await pagePoll<Main>(page, MAIN, (m) => m.state === 'webrtc', 60_000);
    await pagePoll<number>(page, `document.querySelectorAll('#cameras button').length`, (n) => n === 2, 15_000);
    await page.click('#cameras button:nth-child(2)');
    await pagePoll<number>(page, `(() => { const i = document.getElementById('live'); return i.hidden ? 0 : i.naturalWidth; })()`, (w) => w === 160, 30_000);
    expect(await page.evaluate<boolean>(`document.getElementById('live-video').hidden`)).toBe(true);
    await pagePoll<string>(page, `document.getElementById('transport').textContent`, (t) => /^MJPEG · [1-9]\d* kbit\/s$/.test(t), 30_000);
    expect(requests.filter(isMjpeg)).toEqual(['/cams/back/stream.mjpg']);
    // front is no longer the main view: its tile plays its H.264.
    const tiles = await pagePoll<Tile[]>(page, TILES, (t) => t.length === 2 && t[0]!.frames > 0 && t[0]!.transport.startsWith('WebRTC'), 60_000);
    expect(tiles.map((t) => [t.video, t.img])).toEqual([[true, false], [false, true]]);
    expect(requests.filter(isMjpeg)).toEqual(['/cams/back/stream.mjpg']);
  }, 120_000);
});

describe('GET recording.mp4 through the server', () => {
  it('serves the default camera at the root and each camera under /cams/NAME/, and 404 for one that does not record', async () => {
    // The recorder's first segment closes at the first keyframe after a second.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { recordings } = (await (await fetch(`${base}/recordings?camera=front`)).json()) as { recordings: Array<{ recording: boolean; frames: number }> };
      if (recordings.some((e) => !e.recording && e.frames > 0)) break;
      if (Date.now() > deadline) throw new Error(`no closed MP4 segment of front within 60 s: ${JSON.stringify(recordings)}`);
      await sleep(200);
    }
    const root = await fetch(`${base}/recording.mp4`, { method: 'HEAD' });
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('video/mp4');
    const named = await fetch(`${base}/cams/front/recording.mp4`, { headers: { Range: 'bytes=4-7' } });
    expect(named.status).toBe(206);
    expect(Buffer.from(await named.arrayBuffer()).toString('latin1')).toBe('ftyp');
    const back = await fetch(`${base}/cams/back/recording.mp4`);
    expect(back.status).toBe(404);
    expect(await back.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('"back" does not record') } });
  }, 90_000);
});
