// edgecam as the gateway in front of the seed's camera module: a config file whose camera is
// `tcp://` to a server that behaves as the seed's does (tests/support/fake_seed_server.py, killed
// and started again under the gateway), recording, serving MJPEG and WebRTC, and detecting motion
// from it; a second camera on a second module is connected only while someone watches it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceInfo } from '../src/contracts.js';
import type { H264Instance } from '../src/h264/h264-feature.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { config } from './support/config.js';
import { startFakeSeed, type FakeSeed } from './support/fake-seed.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const FPS = 10;
const dir = mkdtempSync(join(tmpdir(), 'edgecam-gateway-'));
let scene: Buffer[];
let module: FakeSeed;
let spare: FakeSeed;
let server: RunningEdgeServer;
let base: string;

/** 8 s at 10 fps, 320x180: colour bars, a white box crossing from 2 s to 5 s (the module's camera, looped). */
async function sceneJpegs(): Promise<Buffer[]> {
  const out = mkdtempSync(join(tmpdir(), 'edgecam-scene-'));
  try {
    await promisify(execFile)(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', `smptebars=s=320x180:r=${FPS}`,
      '-f', 'lavfi', '-i', `color=c=white:s=40x40:r=${FPS}`,
      '-filter_complex', "[0][1]overlay=x='-40+(t-2)*120':y=70:enable='between(t,2,5)'",
      '-t', '8', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2', join(out, '%04d.jpg'),
    ]);
    return readdirSync(out).sort().map((f) => readFileSync(join(out, f)));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const json = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;
const camera = async (name: string) =>
  (await json<{ cameras: Array<{ name: string; source: SourceInfo; settings: { width: number; height: number } }> }>('/status')).cameras.find((c) => c.name === name)!;

/** Polls `read` until it gives something, or fails after `ms`. */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = performance.now() + ms;
  for (;;) {
    const got = await read().catch(() => undefined);
    if (got !== undefined) return got;
    if (performance.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads a streaming body until `done` says it has what it needs, then cancels it. */
async function readUntil(res: Response, done: (bytes: Buffer) => boolean): Promise<Buffer> {
  const reader = res.body!.getReader();
  const parts: Buffer[] = [];
  while (!done(Buffer.concat(parts))) {
    const { value, done: end } = await reader.read();
    if (end) break;
    parts.push(Buffer.from(value));
  }
  await reader.cancel();
  return Buffer.concat(parts);
}

beforeAll(async () => {
  scene = await sceneJpegs();
  module = await startFakeSeed({ jpegs: scene, fps: FPS });
  spare = await startFakeSeed({ jpegs: scene.slice(0, 10), fps: FPS });
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    [
      // Not the module's size: a network camera sends the size it chooses, and /status says so.
      'size: 640x480',
      `fps: ${FPS}`,
      'idleStop: 1',
      'cameras:',
      '  module:',
      `    source: tcp://127.0.0.1:${module.port}`,
      '    record:',
      `      dir: ${join(dir, 'rec')}`,
      '      segment: 1m',
      '    motion: {fps: 5}',
      '    h264: {enabled: true}',
      '  spare:',
      `    source: tcp://127.0.0.1:${spare.port}`,
      '',
    ].join('\n'),
  );
  server = await startEdgeServer(config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']), {
    logger: memoryLogger('silent').logger,
    supervisor: { initialBackoffMs: 200, maxBackoffMs: 1000 },
    features: { recording: { recorder: { checkpointIntervalMs: 200 } } },
  });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await module?.close();
  await spare?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a gateway in front of the seed’s camera server', () => {
  it('names the module in /status and shows the rate it measures', async () => {
    const status = await eventually(async () => {
      const c = await camera('module');
      return c.source.state === 'running' && c.source.fpsMeasured > 0 ? c : undefined;
    }, 'the module running');
    expect(status.source).toMatchObject({ kind: 'tcp', spec: `tcp://127.0.0.1:${module.port}`, width: 320, height: 180, lastError: null });
    expect(status.settings).toMatchObject({ width: 320, height: 180 });
  });

  it('serves the module’s own JPEGs as MJPEG over HTTP', async () => {
    const res = await fetch(`${base}/cams/module/stream.mjpg`);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace/);
    const body = await readUntil(res, (b) => b.indexOf(Buffer.from([0xff, 0xd9])) > 0);
    const start = body.indexOf(Buffer.from([0xff, 0xd8]));
    const jpeg = body.subarray(start, body.indexOf(Buffer.from([0xff, 0xd9]), start) + 2);
    expect(scene.some((s) => s.equals(jpeg))).toBe(true);
  });

  it('records it', async () => {
    const listed = await eventually(async () => {
      const list = await json<{ recordings: Array<{ camera: string; frames: number }> }>('/recordings');
      return list.recordings.find((r) => r.camera === 'module' && r.frames > 5);
    }, 'a recorded segment with frames');
    expect(listed.frames).toBeGreaterThan(5);
  });

  it('sees the box cross the picture as a motion event', async () => {
    const res = await fetch(`${base}/events?camera=module`);
    const text = (await readUntil(res, (b) => b.toString('latin1').includes('event: start'))).toString('latin1');
    expect(text).toMatch(/event: start\ndata: \{"id":"module-\d+","camera":"module","type":"motion","phase":"start"/);
  });

  it('plays it as H.264 over WebRTC', async () => {
    // The server's own WHEP route: a viewer over loopback is offered a loopback candidate.
    const h264 = server.features.get('module')!.h264 as H264Instance;
    const pc = new RTCPeerConnection({
      codecs: { video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })] },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
    });
    let location: string | null = null;
    try {
      let packets = 0;
      pc.addTransceiver('video', { direction: 'recvonly' }).onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => packets++));
      await pc.setLocalDescription(await pc.createOffer());
      const answer = await fetch(`${base}/cams/module/whep`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp });
      expect(answer.status).toBe(201);
      location = answer.headers.get('location');
      await pc.setRemoteDescription({ type: 'answer', sdp: await answer.text() });
      await waitUntil(() => packets >= 30, 30_000, () => `30 RTP packets (have ${packets})`);
      expect(h264.status().units).toBeGreaterThan(0);
    } finally {
      await pc.close();
      if (location) await fetch(`${base}${location}`, { method: 'DELETE' });
    }
  });

  it('connects the second module only while someone watches it, and lets it go with q', async () => {
    expect(spare.log.filter((l) => l.startsWith('connected by'))).toEqual([]);
    const res = await fetch(`${base}/cams/spare/stream.mjpg`);
    await readUntil(res, (b) => b.indexOf(Buffer.from([0xff, 0xd9])) > 0);
    expect(spare.log.filter((l) => l.startsWith('connected by'))).toHaveLength(1);
    // idleStop: 1 s after the viewer leaves, the capture stops and the connection goes.
    await waitUntil(() => spare.log.includes('connection closed'), 15_000, 'the idle connection to close');
    expect(spare.commands()).toEqual(['3', 'q']);
  });

  it('names the module’s loss in /status and /healthz, and picks it up again once it is back', async () => {
    const before = (await camera('module')).source.framesCaptured;
    await module.kill();
    const lost = await eventually(async () => {
      const c = await camera('module');
      return c.source.lastError !== null ? c : undefined;
    }, 'the loss in /status');
    expect(lost.source.lastError).toMatch(new RegExp(`^127\\.0\\.0\\.1:${module.port} closed the connection|^could not connect to 127\\.0\\.0\\.1:${module.port}: connection refused`));
    // /healthz is the default camera's, the module's.
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reason: string }).reason).toMatch(/^source is (restarting|starting)/);
    await module.restart();
    await eventually(async () => {
      const c = await camera('module');
      return c.source.state === 'running' && c.source.framesCaptured > before + 5 ? c : undefined;
    }, 'frames from the restarted module');
    expect(module.runLog().filter((l) => l.startsWith('received command: '))).toEqual(["received command: '3'"]);
  });

  it('never made either module write Unknown command, and never sent it 2', () => {
    for (const seed of [module, spare]) {
      expect(seed.log.filter((l) => l.startsWith('Unknown command'))).toEqual([]);
      expect(seed.commands().every((c) => c === '3' || c === 'q')).toBe(true);
    }
  });
});
