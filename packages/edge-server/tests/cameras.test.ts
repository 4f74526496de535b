// Several cameras from one config file: each reachable over HTTP (/cams/NAME/*), by v2 HELLO and
// on its own legacy port; unknown names refused; settings changed while viewers watch.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_MAGIC, encodeHello, readJpegInfo } from '@edgecam/protocol';
import { parseCommandLine, type ServerConfig } from '../src/config/config.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { FFMPEG_UA, MultipartReader, RawHttpClient } from './http-fixtures/raw-http.js';
import { LegacyClient, V2Client, openSocket } from './support/clients.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const run = promisify(execFile);
const seedScript = fileURLToPath(new URL('./seed_client.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgecam-cameras-'));
const log = memoryLogger('info');
let server: RunningEdgeServer;
let url: string;
let sidePort: number;

/** A port free right now, for a camera's legacyPort (which cannot be 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  sidePort = await freePort();
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    [
      'host: 127.0.0.1',
      'port: 0',
      'httpPort: 0',
      'fps: 15',
      'idleStop: 1',
      'size: 160x120',
      'default: front',
      'cameras:',
      '  side:',
      '    size: 192x144',
      // Room to grow: the settings test below restarts it at 240x176.
      '    maxSize: 320x240',
      `    legacyPort: ${sidePort}`,
      '  front:',
      '    source: testsrc',
      '  back:',
      '    size: 128x96',
      '    fps: 10',
      '',
    ].join('\n'),
  );
  const parsed = parseCommandLine(['--config', file], {});
  if (!('config' in parsed)) throw new Error(parsed.output);
  const config: ServerConfig = parsed.config;
  server = await startEdgeServer(config, { logger: log.logger, statsIntervalMs: 0 });
  url = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const SIZES = { front: { width: 160, height: 120 }, side: { width: 192, height: 144 }, back: { width: 128, height: 96 } };

/** Opens an MJPEG stream and returns its parts so far on each call. */
async function watch(path: string) {
  const client = await RawHttpClient.open(server.httpPort!, path, { headers: { 'User-Agent': FFMPEG_UA } });
  const head = await client.head();
  const boundary = /boundary=(\S+)$/.exec(head.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no boundary in the stream content type');
  const reader = new MultipartReader(boundary);
  let fed = 0;
  const parts = () => {
    const body = client.body();
    reader.push(body.subarray(fed));
    fed = body.length;
    return reader.parts;
  };
  return { client, parts };
}

async function v2(camera?: string): Promise<V2Client> {
  const c = new V2Client(await openSocket(server.tcpPort));
  c.write(V2_MAGIC);
  c.write(encodeHello({ client: 'vitest', ...(camera !== undefined ? { camera } : {}) }));
  return c;
}

describe('several cameras', () => {
  it('lists every camera in /status, the default first, keeping `source` for the default', async () => {
    const status = (await (await fetch(`${url}/status`)).json()) as { source: { width: number }; cameras: { name: string; default: boolean }[] };
    expect(status.cameras.map((c) => c.name)).toEqual(['front', 'side', 'back']);
    expect(status.cameras[0]).toMatchObject({ name: 'front', default: true });
    expect(status.source.width).toBe(160);
    expect([...server.cameras.names()]).toEqual(['front', 'side', 'back']);
    expect(server.hub).toBe(server.cameras.default.hub);
  });

  it.each(Object.entries(SIZES))('serves %s on /cams/NAME/snapshot.jpg, stream.mjpg and status at its own size', async (name, size) => {
    const snap = await fetch(`${url}/cams/${name}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(readJpegInfo(Buffer.from(await snap.arrayBuffer()))).toEqual(size);
    const viewer = await watch(`/cams/${name}/stream.mjpg`);
    await viewer.client.until(() => viewer.parts().length >= 2, 15_000, 'two parts');
    expect(readJpegInfo(viewer.parts()[0]!.body)).toEqual(size);
    const status = (await (await fetch(`${url}/cams/${name}/status`)).json()) as { camera: { name: string }; clients: { camera: string }[] };
    expect(status.camera.name).toBe(name);
    expect(status.clients.length).toBeGreaterThanOrEqual(1);
    expect(status.clients.every((c) => c.camera === name)).toBe(true);
    viewer.client.close();
  });

  it('serves the default camera on the root paths', async () => {
    const snap = await fetch(`${url}/snapshot?x=1`);
    expect(readJpegInfo(Buffer.from(await snap.arrayBuffer()))).toEqual(SIZES.front);
  });

  it('answers an unknown camera with 404 naming the cameras, and a name no camera could have with 400', async () => {
    const res = await fetch(`${url}/cams/nope/snapshot.jpg`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNKNOWN_CAMERA');
    expect(body.error.message).toBe('no camera "nope"; the cameras are: front, side, back');
    expect((await fetch(`${url}/cams/nope%0a/snapshot.jpg`)).status).toBe(400);
  });

  it('gives a v2 client the camera its HELLO names, and WELCOME says which and lists them', async () => {
    const c = await v2('back');
    const [w] = await c.waitFor('welcome');
    expect(w!.welcome).toMatchObject({ camera: 'back', cameras: ['front', 'side', 'back'], width: 128, height: 96 });
    c.command('0');
    const [f] = await c.waitFor('frame');
    expect(readJpegInfo(f!.jpeg)).toEqual(SIZES.back);
    c.close();
    const d = await v2();
    const [dw] = await d.waitFor('welcome');
    expect(dw!.welcome).toMatchObject({ camera: 'front' });
    d.close();
  });

  it('refuses a HELLO naming an unknown camera with UNKNOWN_CAMERA, then closes', async () => {
    const c = await v2('garage\u0007');
    const [e] = await c.waitFor('error');
    expect(e!.error).toMatchObject({ code: 'UNKNOWN_CAMERA', message: 'no camera "garage\\u0007"; this server has: front, side, back' });
    await c.waitClosed();
  });

  it("serves a camera alone on its legacyPort, to the seed's client and to v2", async () => {
    expect(server.legacyPorts).toEqual({ side: sidePort });
    const { stdout } = await run('python3', [seedScript, '127.0.0.1', String(sidePort), '5'], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toMatchObject({ stream_frames: 5, closed_by_server: true });
    const legacy = await LegacyClient.connect(sidePort);
    legacy.write('01');
    const [frame] = await legacy.waitForFrames(1);
    expect(readJpegInfo(frame!)).toEqual(SIZES.side);
    legacy.close();
    const other = new V2Client(await openSocket(sidePort));
    other.write(V2_MAGIC);
    other.write(encodeHello({ client: 'vitest', camera: 'front' }));
    const [e] = await other.waitFor('error');
    expect(e!.error).toMatchObject({ code: 'UNKNOWN_CAMERA', message: 'no camera "front"; this server has: side' });
  });

  it('labels the per-camera series with the camera in /metrics', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of Object.keys(SIZES)) expect(text).toMatch(new RegExp(`^edgecam_camera_frames_captured_total\\{camera="${name}"\\} [1-9]`, 'm'));
    expect(text).toMatch(/^edgecam_camera_frames_sent_total\{camera="back"\} [1-9]/m);
  });

  it('says which camera in the log lines', () => {
    const lines = log.lines;
    expect(lines.some((l) => l.camera === 'side' && l.msg === 'capture starting')).toBe(true);
    expect(lines.some((l) => l.camera === 'back' && l.msg === 'client connected')).toBe(true);
  });
});

describe('PUT /cams/NAME/settings', () => {
  it('restarts the capture at the new size while an HTTP and a TCP viewer keep watching', async () => {
    const viewer = await watch('/cams/side/stream.mjpg');
    const tcp = await v2('side');
    await tcp.waitFor('welcome');
    tcp.command('3');
    await tcp.waitFor('frame', 2, 15_000);
    await viewer.client.until(() => viewer.parts().length >= 2, 15_000, 'two parts');

    const res = await fetch(`${url}/cams/side/settings`, { method: 'PUT', body: JSON.stringify({ width: 240, height: 176, fps: 12 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ camera: 'side', settings: { width: 240, height: 176, fps: 12 } });

    const resized = (jpeg: Buffer) => readJpegInfo(jpeg).width === 240;
    await viewer.client.until(() => viewer.parts().some((p) => resized(p.body)), 15_000, 'an HTTP part at the new size');
    await waitUntil(() => tcp.of('frame').some((f) => resized(Buffer.from(f.jpeg))), 15_000, 'a TCP frame at the new size');
    expect(readJpegInfo(viewer.parts().find((p) => resized(p.body))!.body)).toEqual({ width: 240, height: 176 });
    expect(tcp.ended).toBe(false);
    const seqs = tcp.of('frame').map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const status = (await (await fetch(`${url}/cams/side/status`)).json()) as { camera: { lastChange: { gapMs: number | null; to: { width: number } } } };
    expect(status.camera.lastChange).toMatchObject({ to: { width: 240 } });
    expect(status.camera.lastChange.gapMs).toBeGreaterThanOrEqual(0);
    viewer.client.close();
    tcp.close();
  });

  it('refuses bad settings with a 400 that names the setting', async () => {
    const put = (body: string) => fetch(`${url}/cams/back/settings`, { method: 'PUT', body });
    const bad = await put('{"width": 5}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^width is out of range/);
    const unknown = await put('{"colour": "red"}');
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/^colour is no setting/);
    expect((await put('not json')).status).toBe(400);
    expect((await fetch(`${url}/cams/back/settings`)).status).toBe(405);
  });

  it('changes the default camera with PUT /settings', async () => {
    const res = await fetch(`${url}/settings`, { method: 'PUT', body: '{"quality": 60}' });
    expect(res.status).toBe(200);
    expect(server.cameras.default.settings().quality).toBe(60);
  });
});
