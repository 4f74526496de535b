// The WHEP endpoints' answers to requests that are not a good offer, on a plain http server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { H264Routes, H264_PLAYER_PATH } from '../src/h264/h264-routes.js';
import { H264_PLAYER_SCRIPT } from '../src/h264/h264-player.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { RecordingRegistry } from './http-fixtures/fake-registry.js';
import { memoryLogger } from './support/logger.js';

let server: Server | undefined;
let hub: H264Hub | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await hub?.close();
  server = hub = undefined;
});

async function serve(encoder = 'libx264', maxClients = 0): Promise<string> {
  const logger = memoryLogger('warn').logger;
  const h = new H264Hub({ name: 'front', hub: new FakeHub(), logger }, h264ConfigSchema.parse({ enabled: true, encoder }), { ffmpeg: resolveFfmpeg() });
  hub = h;
  const routes = new H264Routes({ hubOf: (n) => (n === 'front' ? h : undefined), registry: new RecordingRegistry(), maxClients, logger });
  server = createServer((req, res) => {
    if (!routes.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(418).end();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const offer = (base: string, path = '/cams/front/whep', body = 'v=0\r\n', type = 'application/sdp'): Promise<Response> =>
  fetch(base + path, { method: 'POST', headers: { 'Content-Type': type }, body });

describe('the WHEP endpoints', () => {
  it('serves the player script', async () => {
    const res = await fetch((await serve()) + H264_PLAYER_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toBe(H264_PLAYER_SCRIPT);
  });

  it('answers 404 for a camera without H.264, naming the fix', async () => {
    const res = await offer(await serve(), '/cams/back/whep');
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/camera \\?"back\\?" has no H\.264 output; enable h264/);
  });

  it('refuses an offer that is not application/sdp, and other methods', async () => {
    const base = await serve();
    expect((await offer(base, '/cams/front/whep', '{}', 'application/json')).status).toBe(400);
    const get = await fetch(base + '/cams/front/whep');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(base + '/cams/front/whep/00000000-0000-0000-0000-000000000000', { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 400 for an offer without H.264 video', async () => {
    const res = await offer(await serve());
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/must receive video in H\.264/);
  });

  it('answers 503 naming h264.encoder and the encoders there are when the encoder is missing', async () => {
    const sdp = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n';
    const res = await offer(await serve('h264_nonesuch'), '/cams/front/whep', sdp);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/h264\.encoder \\?"h264_nonesuch\\?" is not in .*libx264/);
  });
});
