// Every endpoint against the real capture: ffmpeg's test pattern through the shared FrameHub,
// the real client registry and the Prometheus metrics, as `edgecam-server` runs them.
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { FFMPEG } from './http-fixtures/jpeg-frames.js';
import { BROWSER_UA, FFMPEG_UA, MultipartReader, RawHttpClient } from './http-fixtures/raw-http.js';
import { startRealServer, type RealHttpServer } from './http-fixtures/real-server.js';

let server: RealHttpServer | undefined;
const clients: RawHttpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function start(overrides: Parameters<typeof startRealServer>[0] = {}): Promise<RealHttpServer> {
  server = await startRealServer(overrides);
  return server;
}

async function watch(port: number, path = '/stream.mjpg', userAgent = FFMPEG_UA) {
  const client = await RawHttpClient.open(port, path, { headers: { 'User-Agent': userAgent } });
  clients.push(client);
  const head = await client.head();
  const boundary = /boundary=(\S+)$/.exec(head.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no boundary in the stream content type');
  const reader = new MultipartReader(boundary);
  let fed = 0;
  /** Feeds what arrived since the last call and returns every part so far. */
  const parts = () => {
    const body = client.body();
    reader.push(body.subarray(fed));
    fed = body.length;
    return reader.parts;
  };
  return { client, parts };
}

function ffmpeg(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // SIGKILL on timeout: an ffmpeg child must never outlive the test.
    execFile(FFMPEG, args, { timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

type Status = {
  server: string;
  version: string;
  uptime: number;
  source: { kind: string; width: number; height: number; state: string; fpsMeasured: number; framesCaptured: number };
  clients: Array<{ protocol: string; mode: string; framesSent: number; dropped: number; address: string }>;
};

describe('the HTTP side on a real testsrc capture', () => {
  for (const [who, ua] of [['a player', FFMPEG_UA], ['a browser', BROWSER_UA]] as const) {
    it(`streams whole JPEGs of the configured size to ${who}, part by part`, async () => {
      const { httpPort } = await start();
      const viewer = await watch(httpPort, '/stream.mjpg', ua);
      await viewer.client.until(() => viewer.parts().length >= 10, 15_000, 'ten parts');
      for (const part of viewer.parts()) {
        expect(part.headers.get('content-type')).toBe('image/jpeg');
        if (ua === FFMPEG_UA) expect(Number(part.headers.get('content-length'))).toBe(part.body.length);
        expect(isWholeJpeg(part.body)).toBe(true);
        expect(readJpegInfo(part.body)).toEqual({ width: 320, height: 240 });
      }
    });
  }

  it('is read by `ffmpeg -i URL -frames:v 30 -f null -` without an error', async () => {
    const { url } = await start();
    const result = await ffmpeg(['-v', 'error', '-i', `${url}/stream.mjpg`, '-frames:v', '30', '-f', 'null', '-']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('gives ffmpeg frames of the configured size', async () => {
    const { url } = await start({ size: { width: 240, height: 180 } });
    const result = await ffmpeg(['-v', 'error', '-i', `${url}/stream.mjpg`, '-frames:v', '10', '-f', 'framemd5', '-']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/#dimensions 0: 240x180/);
    expect(result.stdout.split('\n').filter((l) => /^0,/.test(l))).toHaveLength(10);
  });

  it('thins the stream with ?fps', async () => {
    const { httpPort } = await start({ fps: 20 });
    // Every part counted was admitted after the request was sent and before it was counted: an
    // upper bound on the time the pacer had, which a loaded machine only lengthens.
    const requested = performance.now();
    const viewer = await watch(httpPort, '/stream.mjpg?fps=5');
    await viewer.client.until(() => viewer.parts().length >= 1, 15_000, 'the first part');
    await viewer.client.until(() => viewer.parts().length >= 11, 30_000, 'ten more parts');
    const got = viewer.parts().length;
    const seconds = (performance.now() - requested) / 1000;
    expect(got).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
  });

  it('starts the idle capture for a snapshot and returns a JPEG of the configured size', async () => {
    const { url, hub } = await start();
    expect(hub.info().state).toBe('idle');
    const res = await fetch(`${url}/snapshot.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toContain('no-store');
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(jpeg.length);
    expect(readJpegInfo(jpeg)).toEqual({ width: 320, height: 240 });
  });

  it('reports the source, the viewers and the server in /status', async () => {
    const { url, httpPort } = await start();
    const viewer = await watch(httpPort);
    await viewer.client.until(() => viewer.parts().length >= 5, 15_000, 'five parts');
    // The measured rate needs a couple of frames' history; poll until it shows.
    let status: Status | undefined;
    const deadline = Date.now() + 10_000;
    do {
      status = (await (await fetch(`${url}/status`)).json()) as Status;
      if (status.source.fpsMeasured > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect(status).toMatchObject({
      server: 'edgecam-server',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      source: { kind: 'testsrc', width: 320, height: 240, state: 'running' },
    });
    // The value itself is checked against known arrival times in frame-hub.test.ts.
    expect(status!.source.fpsMeasured).toBeGreaterThan(0);
    expect(status!.source.framesCaptured).toBeGreaterThanOrEqual(5);
    expect(status!.uptime).toBeGreaterThan(0);
    expect(status!.clients).toEqual([
      expect.objectContaining({ protocol: 'http', mode: 'streaming', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
    ]);
    expect(status!.clients[0]!.framesSent).toBeGreaterThanOrEqual(5);
  });

  it('counts the http viewer’s frames, bytes and latency in /metrics', async () => {
    const { url, httpPort } = await start();
    const viewer = await watch(httpPort);
    await viewer.client.until(() => viewer.parts().length >= 5, 15_000, 'five parts');
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('edgecam_frames_captured_total')).toBeGreaterThanOrEqual(5);
    expect(value('edgecam_frames_sent_total{protocol="http"}')).toBeGreaterThanOrEqual(5);
    expect(value('edgecam_bytes_sent_total{protocol="http"}')).toBeGreaterThan(5 * 1000);
    expect(value('edgecam_clients{protocol="http"}')).toBe(1);
    expect(value('edgecam_capture_to_send_seconds_count{protocol="http"}')).toBeGreaterThanOrEqual(5);
  });

  it('is unhealthy while idle, healthy while frames flow, and unhealthy again after the idle stop', async () => {
    const { url, httpPort } = await start({ idleStop: 1 });
    const idle = await fetch(`${url}/healthz`);
    expect(idle.status).toBe(503);
    expect(await idle.json()).toMatchObject({ ok: false, state: 'idle' });

    const viewer = await watch(httpPort);
    await viewer.client.until(() => viewer.parts().length >= 2, 15_000, 'two parts');
    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ ok: true, state: 'running' });

    viewer.client.close();
    const deadline = Date.now() + 10_000;
    let after = await fetch(`${url}/healthz`);
    while (after.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      after = await fetch(`${url}/healthz`);
    }
    expect(after.status).toBe(503);
    expect(await after.json()).toMatchObject({ ok: false, state: 'idle' });
  });
});
