// An http(s) MJPEG camera sends the size it chooses: /status shows that size, not the configured
// one, once its frames come (a 160x90 upstream under a camera configured 640x480).
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

const running: TestServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('the settings of an http camera', { timeout: 60_000 }, () => {
  it('show the size its frames have, once they come', async () => {
    const upstream = await startTestServer({ httpPort: 0, size: { width: 160, height: 90 } });
    running.push(upstream);
    const gateway = await startTestServer({
      httpPort: 0,
      size: { width: 640, height: 480 },
      source: { kind: 'http', url: `http://127.0.0.1:${upstream.httpPort}/stream.mjpg`, insecure: false },
    });
    running.push(gateway);
    const base = `http://127.0.0.1:${gateway.httpPort}`;
    // A snapshot waits for the first frame (and starts the capture for it).
    expect((await fetch(`${base}/snapshot.jpg`)).status).toBe(200);
    const status = (await (await fetch(`${base}/status`)).json()) as { cameras: { settings: { width: number; height: number } }[] };
    expect(status.cameras[0]!.settings).toMatchObject({ width: 160, height: 90 });
  });
});
