// Chromium plays a camera's H.264 over WebRTC (WHEP): the <video> decodes pictures at the
// camera's rate, and it picks up again by itself after the server restarts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { H264Routes } from '../src/h264/h264-routes.js';
import { H264_PLAYER_PATH } from '../src/h264/h264-routes.js';
import { h264VideoElement } from '../src/h264/h264-player.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { RecordingRegistry } from './http-fixtures/fake-registry.js';
import { pagePoll, usePageFixture } from './support/browser.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const missing = missingPlayer('chromium');
const fixture = usePageFixture(missing, 'test-output/h264-browser');

const PAGE = `<!doctype html><html><body>
${h264VideoElement('cam', '/cams/front/whep', '/stream.mjpg', 'front')}
<script src="${H264_PLAYER_PATH}"></script></body></html>`;

interface Running {
  port: number;
  viewers(): number;
  close(): Promise<void>;
}

/** A plain http server with only the H.264 routes and a page, over a camera playing a test pattern. */
async function serve(jpegs: Buffer[], port = 0): Promise<Running> {
  const cam = new FakeHub(320, 240, 30);
  const logger = memoryLogger('warn').logger;
  const hub = new H264Hub({ name: 'front', hub: cam, logger }, h264ConfigSchema.parse({ enabled: true, idleStopMs: 200 }), {
    ffmpeg: resolveFfmpeg(),
    fps: 30,
  });
  const routes = new H264Routes({
    hubOf: (name) => (name === 'front' ? hub : undefined),
    registry: new RecordingRegistry(),
    maxClients: 4,
    logger,
    iceAddresses: ['127.0.0.1'],
  });
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (routes.handle(req, res, path)) return;
    res.writeHead(path === '/' ? 200 : 404, { 'Content-Type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cam.play(jpegs, 30);
  return {
    port: (server.address() as AddressInfo).port,
    viewers: () => routes.viewerCount,
    close: async () => {
      cam.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await routes.close();
      await hub.close();
    },
  };
}

const framesDecoded = `document.getElementById('cam').getVideoPlaybackQuality().totalVideoFrames`;

describe.skipIf(missing !== undefined)(titled('H.264 in Chromium over WHEP', missing), () => {
  it('plays, decodes rising frame counts, and recovers after the server restarts', async () => {
    const jpegs = await testPatternJpegs(320, 240, 30);
    let running = await serve(jpegs);
    const page = await fixture.browser.newPage();
    fixture.page = page;
    await page.goto(`http://127.0.0.1:${running.port}/`);
    const first = await pagePoll<number>(page, framesDecoded, (n) => n >= 10, 30_000);
    await pagePoll<number>(page, framesDecoded, (n) => n >= first + 30, 30_000);
    expect(await page.evaluate(`document.getElementById('cam').dataset.state`)).toBe('webrtc');

    const port = running.port;
    await running.close();
    const stalled = await page.evaluate<number>(framesDecoded);
    running = await serve(jpegs, port);
    try {
      await pagePoll<number>(page, framesDecoded, (n) => n >= stalled + 30 || n < stalled, 60_000);
      // A new connection may start a new count: either way pictures are decoded again.
      const again = await page.evaluate<number>(framesDecoded);
      await pagePoll<number>(page, framesDecoded, (n) => n >= again + 30, 30_000);
      // A viewer that goes away without a DELETE is dropped, and with it the encoder.
      await page.close();
      fixture.page = undefined;
      await waitUntil(() => running.viewers() === 0, 60_000, 'the server to drop the closed tab');
    } finally {
      await running.close();
    }
  }, 150_000);
});
