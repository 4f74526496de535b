// A server from a config file with two cameras, one of which records, detects motion and offers
// H.264: every feature is reachable over HTTP with the token, and /status and /metrics show them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraEvent } from '../src/contracts.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const TOKEN = 'features-test-token-1234';
const dir = mkdtempSync(join(tmpdir(), 'edgecam-features-'));
const extra = new Subject<CameraEvent>();
let server: RunningEdgeServer;
let base: string;

const url = (path: string, token = true) => `${base}${path}${token ? `${path.includes('?') ? '&' : '?'}token=${TOKEN}` : ''}`;

/** Polls `read` until it returns something, or fails after `ms`. */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await read().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads a streaming body until `done` says it has what it needs, then cancels it. */
async function readUntil(res: Response, done: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  while (!done(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += Buffer.from(value).toString('latin1');
  }
  await reader.cancel();
  return text;
}

beforeAll(async () => {
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(
    file,
    [
      `token: ${TOKEN}`,
      'size: 160x120',
      'fps: 10',
      'cameras:',
      '  front:',
      '    source: testsrc',
      '    record:',
      `      dir: ${join(dir, 'rec')}`,
      '      segment: 1m',
      '    motion: {fps: 2}',
      '    h264: {enabled: true}',
      '  back:',
      '    source: testsrc',
      '',
    ].join('\n'),
  );
  const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
  server = await startEdgeServer(c, {
    logger: memoryLogger('silent').logger,
    features: { recording: { recorder: { checkpointIntervalMs: 200 } }, motionEvents: (cam) => (cam.name === 'front' ? extra : undefined) },
  });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a server with recording, motion and H.264 configured', () => {
  it('lists a segment of the recording camera once frames flow, and replays it as MJPEG', async () => {
    expect((await fetch(url('/recordings', false))).status).toBe(401);
    const file = await eventually(async () => {
      const list = (await (await fetch(url('/recordings'))).json()) as { cameras: string[]; recordings: { camera: string; file: string; frames: number }[] };
      expect(list.cameras).toEqual(['front']);
      return list.recordings.find((r) => r.camera === 'front' && r.frames > 0)?.file;
    }, 'a recorded segment');
    const replay = await eventually(async () => {
      const res = await fetch(url('/cams/front/replay.mjpg?from=0&speed=16'));
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    }, 'a replay');
    expect(replay.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace/);
    const body = await readUntil(replay, (t) => t.includes('\xff\xd9'));
    expect(body).toContain('\xff\xd8');
    // DELETE reaches the recordings: refused without the token, and the live segment is kept.
    expect((await fetch(url(`/recordings/front/${file}`, false), { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url(`/recordings/front/${file}`), { method: 'DELETE' })).status).toBe(409);
  });

  it('lists a replay viewer in /status while it watches', async () => {
    const replay = await fetch(url('/cams/front/replay.mjpg?from=0'));
    expect(replay.status).toBe(200);
    const status = (await (await fetch(url('/status'))).json()) as { clients: { camera?: string; mode: string }[] };
    expect(status.clients).toEqual(expect.arrayContaining([expect.objectContaining({ camera: 'front', mode: 'streaming' })]));
    await replay.body?.cancel();
  });

  it('delivers the camera\'s motion events over /events', async () => {
    expect((await fetch(url('/events', false))).status).toBe(401);
    const res = await fetch(url('/events?camera=front'));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readUntil(res, (t) => t.includes('event: start'));
    setTimeout(() => extra.next({ id: 'front-1', camera: 'front', type: 'motion', phase: 'start', startedAt: Date.now(), score: 0.5 }), 100);
    const text = await reading;
    expect(text).toMatch(/event: start\ndata: \{"id":"front-1","camera":"front","type":"motion","phase":"start"/);
  });

  it('answers a WHEP offer for the H.264 camera with 201 when it carries the token', async () => {
    const h264 = new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' });
    const pc = new RTCPeerConnection({ codecs: { video: [h264] } });
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription!.sdp;
      const post = (path: string) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
      expect((await post(url('/cams/front/whep', false))).status).toBe(401);
      expect((await post(url('/cams/back/whep'))).status).toBe(404);
      const res = await post(url('/cams/front/whep'));
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toMatch(/^\/cams\/front\/whep\/[0-9a-f-]{36}$/);
      expect(await res.text()).toMatch(/^v=0/);
    } finally {
      await pc.close();
    }
  });

  it('shows each feature under its camera in /status, in /metrics, and on the page', async () => {
    const status = (await (await fetch(url('/status'))).json()) as { cameras: Record<string, unknown>[] };
    const [front, back] = status.cameras;
    expect(front).toMatchObject({ name: 'front', recording: { camera: 'front' }, motion: { state: expect.any(String) }, h264: { encoder: 'libx264' } });
    expect(back).toMatchObject({ name: 'back' });
    expect(back).not.toHaveProperty('recording');
    expect(back).not.toHaveProperty('h264');
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/^edgecam_recording_frames_written\{camera="front"\} \d+$/m);
    expect(metrics).toMatch(/^edgecam_motion_events\{camera="front"\} \d+$/m);
    expect(metrics).toMatch(/^edgecam_h264_frames_encoded\{camera="front"\} \d+$/m);
    const page = await (await fetch(url('/'))).text();
    // The page plays front's H.264, not back's (WHEP, then stream.mp4, with the page's token: index-page-transports-browser.test.ts).
    expect(page).toContain('<meta name="edgecam-video" content="[&#34;front&#34;]">');
    expect(page).toContain(`href="recordings.html?token=${TOKEN}"`);
    expect(page).toContain('id="motion"');
  });

  it('stops every feature on close and leaves no ffmpeg running', async () => {
    const front = server.features.get('front')!;
    const pid = await eventually(async () => front.motion?.status().ffmpegPid ?? undefined, 'the motion ffmpeg');
    await server.close();
    expect(front.status()).toMatchObject({ recording: { state: 'closed' }, motion: { state: 'closed', ffmpegPid: null }, h264: { running: false } });
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('ffmpeg for the features', () => {
  it('is resolved for an HTTP camera (which needs none itself) when it offers H.264', async () => {
    const file = join(dir, 'http.yaml');
    writeFileSync(file, ['cameras:', '  net:', '    source: http://127.0.0.1:9/stream.mjpg', '    h264: {enabled: true}', ''].join('\n'));
    const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--no-http']);
    const fake = { path: '/nonexistent/ffmpeg', via: 'EDGECAM_FFMPEG' } as const;
    const s = await startEdgeServer(c, { logger: memoryLogger('silent').logger, ffmpeg: fake as never });
    try {
      expect(s.ffmpeg).toBe(fake);
      expect(s.features.get('net')?.h264).toBeDefined();
    } finally {
      await s.close();
    }
  });
});
