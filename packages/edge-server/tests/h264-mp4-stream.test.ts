// GET /cams/NAME/stream.mp4 (and /stream.mp4 for the default camera): the camera's H.264 as live
// fragmented MP4 from a keyframe, which ffmpeg reads frames from and Chromium's <video> plays;
// a camera without H.264 gets 404 with the fix; it takes an MP4 stream slot; and a viewer that
// stops reading is skipped to keyframes (nothing more is queued for it) until it is dropped.
import { writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectMp4 } from '@edgecam/recorder';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { MP4_STREAM_PATH } from '../src/h264/h264-routes.js';
import { Mp4Viewer } from '../src/h264/mp4-viewer.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { RecordingRegistry } from './http-fixtures/fake-registry.js';
import { launchChromium, pagePoll } from './support/browser.js';
import { config } from './support/config.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';
import { runFfmpeg } from './recording-fixtures/mp4-helpers.js';

const noChromium = missingPlayer('chromium');
const noVlc = missingPlayer('vlc');
let dir: string;
let server: RunningEdgeServer;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgecam-mp4-stream-'));
  await chmod(dir, 0o777); // VLC runs as nobody when the tests run as root, and writes here
  const file = join(dir, 'edgecam.yaml');
  writeFileSync(file, [
    'size: 320x240',
    'fps: 15',
    'maxClients: 2',
    'cameras:',
    '  front:',
    '    source: testsrc',
    '    h264: {enabled: true, keyframeIntervalS: 0.5, idleStopMs: 500}',
    '  back:',
    '    source: testsrc',
    '',
  ].join('\n'));
  server = await startEdgeServer(config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']), { logger: memoryLogger('warn').logger, statsIntervalMs: 0 });
  base = `http://127.0.0.1:${server.httpPort}`;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The first `bytes` or more of a stream, read then abandoned. */
async function firstBytes(url: string, bytes: number): Promise<{ status: number; type: string | null; body: Buffer }> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  const chunks: Buffer[] = [];
  let n = 0;
  const reader = res.body!.getReader();
  while (n < bytes) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    n += value.length;
  }
  ac.abort();
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.concat(chunks) };
}

describe('GET stream.mp4', () => {
  it('starts with the init segment and a keyframe, the camera at its size, at /cams/NAME/ and at the root', async () => {
    for (const path of ['/cams/front/stream.mp4', MP4_STREAM_PATH]) {
      const r = await firstBytes(base + path, 200_000);
      expect(r).toMatchObject({ status: 200, type: 'video/mp4' });
      const file = join(dir, 'start.mp4');
      await writeFile(file, r.body);
      const info = await inspectMp4(file);
      expect(info).toMatchObject({ width: 320, height: 240 });
      expect(info.frames).toBeGreaterThan(5);
      expect(info.fragments[0]!.keyframe).toBe(true);
      // One picture per fragment: nothing waits for the rest of its GOP.
      expect(info.fragments.every((f) => f.frames === 1)).toBe(true);
    }
  }, 60_000);

  it('is read by ffmpeg frame after frame', async () => {
    const r = await runFfmpeg(['-v', 'error', '-i', `${base}/cams/front/stream.mp4`, '-frames:v', '40', '-f', 'framemd5', '-'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(40);
  }, 90_000);

  it('answers 404 naming the fix for a camera without H.264, and HEAD with the headers', async () => {
    const res = await fetch(`${base}/cams/back/stream.mp4`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/camera \\?"back\\?" has no H\.264 output; enable h264 for it in the config/);
    const head = await fetch(`${base}/stream.mp4`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('video/mp4');
  });

  it('counts each viewer in the MP4 stream slots (--max-clients)', async () => {
    const held = [new AbortController(), new AbortController()];
    try {
      for (const ac of held) expect((await fetch(`${base}/stream.mp4`, { signal: ac.signal })).status).toBe(200);
      const third = await fetch(`${base}/stream.mp4`);
      expect(third.status).toBe(503);
      expect(await third.text()).toMatch(/this server has 2 MP4 streams open, the most it takes \(--max-clients\)/);
    } finally {
      for (const ac of held) ac.abort();
    }
  });
});

describe.skipIf(noChromium)(titled("Chromium's <video> on stream.mp4", noChromium), () => {
  it('plays live: pictures are decoded and its clock advances', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/status`);
      await page.evaluate(`(() => {
        const v = document.createElement('video');
        v.id = 'live'; v.muted = true; v.src = '/stream.mp4';
        document.body.append(v);
        v.play().catch(() => {});
      })()`);
      const state = `(() => { const v = document.getElementById('live'); return { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, error: v.error && v.error.message }; })()`;
      const first = await pagePoll<{ t: number; frames: number; error: string | null }>(page, state, (s) => s.error !== null || s.frames >= 15, 45_000);
      expect(first.error).toBeNull();
      const later = await pagePoll<{ t: number; frames: number; error: string | null }>(page, state, (s) => s.error !== null || (s.t >= first.t + 2 && s.frames >= first.frames + 20), 45_000);
      expect(later.error).toBeNull();
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe.skipIf(noVlc)(titled('VLC on stream.mp4', noVlc), () => {
  it('plays it live: the pictures it takes out of it in a few seconds decode, at the camera\'s size', async () => {
    const out = join(dir, 'vlc-live.h264');
    const args = ['-I', 'dummy', '--no-audio', '--run-time=5', '--play-and-exit', `${base}/stream.mp4`, '--sout', `#std{access=file,mux=raw,dst=${out}}`];
    const root = process.getuid?.() === 0;
    const child = spawn(root ? 'setpriv' : '/usr/bin/cvlc', root ? ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/cvlc', ...args] : args, { stdio: 'ignore', env: { ...process.env, HOME: '/tmp' } });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((r) => child.on('close', r));
    clearTimeout(timer);
    expect(code).toBe(0);
    const decoded = await runFfmpeg(['-v', 'error', '-f', 'h264', '-i', out, '-f', 'framemd5', '-']);
    expect(decoded.stdout).toMatch(/#dimensions 0: 320x240/);
    expect(decoded.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length).toBeGreaterThan(0);
  }, 90_000);
});

describe('a viewer that stops reading', () => {
  it('gets nothing more once its buffer holds the bound, whatever the camera sends, and is dropped after the stall timeout', async () => {
    const cam = new FakeHub(320, 240, 30);
    const logger = memoryLogger('warn').logger;
    const hub = new H264Hub({ name: 'front', hub: cam, logger }, h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: 0.5, idleStopMs: 200 }), { ffmpeg: resolveFfmpeg(), fps: 30 });
    cam.play(await testPatternJpegs(320, 240, 30), 30);
    // A response whose peer reads nothing: every byte written stays buffered in it.
    const res = new Writable({ highWaterMark: 1024, write: () => undefined }) as unknown as ServerResponse;
    const registry = new RecordingRegistry();
    const client = registry.register({ protocol: 'http', address: 'slow' });
    const bound = 64 * 1024;
    const viewer = new Mp4Viewer(res, { client, logger, maxBufferedBytes: bound, stallTimeoutMs: 3000 });
    const destroyed = new Promise<void>((r) => (res as unknown as Writable).once('close', () => r()));
    const detach = hub.attach(viewer, { replay: false });
    try {
      await waitUntil(() => hub.stats().sinkSkipped > 0, 60_000, 'the hub to skip pictures for the viewer that does not read');
      const stats = registry.all[0]!;
      const sent = stats.bytesSent;
      const buffered = res.writableLength;
      // Over the bound by at most the one picture that crossed it.
      expect(buffered).toBeGreaterThan(bound);
      expect(buffered).toBeLessThan(bound + 256 * 1024);
      const units = hub.stats().units;
      await waitUntil(() => hub.stats().units >= units + 30, 30_000, 'more pictures from the camera');
      expect(stats.bytesSent).toBe(sent);
      expect(res.writableLength).toBe(buffered);
      await destroyed;
      expect(res.destroyed).toBe(true);
    } finally {
      detach();
      cam.stop();
      await hub.close();
    }
  }, 120_000);
});
