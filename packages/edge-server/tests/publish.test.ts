// A camera published to a real RTSP server on loopback (ffmpeg's RTSP listen mode, which takes
// one publisher and records what it receives), the recording then checked with Debian's ffprobe:
// codec, size, frame count and timestamps. Also: a server that is not there yet, and one that
// goes away mid-stream and comes back.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { publishConfigSchema } from '../src/publish/publish-config.js';
import { listOutputProtocols } from '../src/publish/publish-protocols.js';
import { startPublishing, type PublishDeps, type RunningPublishing } from '../src/publish/start-publishing.js';
import { liveFfmpegPids } from '../src/sources/ffmpeg/ffmpeg-supervisor.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const missing = missingPlayer('ffprobe');
const ffmpeg = resolveFfmpeg();

let jpegs: Buffer[] = [];
let dir = '';
beforeAll(async () => {
  jpegs = await testPatternJpegs(320, 240, 30);
  dir = mkdtempSync(join(tmpdir(), 'edgecam-publish-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** A server that accepts one publisher (RTSP on 127.0.0.1:port/cam, or RTMP) and copies what it gets into a Matroska file. */
class Receiver {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(port: number, readonly file: string, rtmp = false) {
    const input = rtmp ? ['-listen', '1', '-i', `rtmp://127.0.0.1:${port}/live/cam`] : ['-rtsp_flags', 'listen', '-i', `rtsp://127.0.0.1:${port}/cam`];
    this.child = spawn(ffmpeg.path, ['-hide_banner', '-loglevel', 'warning', ...input, '-c', 'copy', '-f', 'matroska', '-y', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code)));
    cleanups.push(async () => {
      this.child.kill('SIGKILL');
      await this.exited;
    });
  }

  bytes(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0;
    }
  }
}

interface Probed {
  codec: string;
  width: number;
  height: number;
  frames: number;
  pts: number[];
}

function ffprobe(file: string): Promise<Probed> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:packet=pts_time', '-of', 'json', file];
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/ffprobe', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ffprobe ${file} failed: ${stderr}`));
      const out = JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; packets: { pts_time: string }[] };
      const s = out.streams[0]!;
      resolve({ codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), pts: out.packets.map((p) => Number(p.pts_time)) });
    });
  });
}

function camera(): { cam: FakeHub; hub: H264Hub; logger: ReturnType<typeof memoryLogger> } {
  const cam = new FakeHub(320, 240, 30);
  const logger = memoryLogger('info');
  const hub = new H264Hub(
    { name: 'front', hub: cam, logger: logger.logger },
    h264ConfigSchema.parse({ enabled: true, keyframeIntervalS: 0.5, idleStopMs: 100 }),
    { ffmpeg, fps: 30 },
  );
  cam.play(jpegs, 30);
  cleanups.push(async () => {
    cam.stop();
    await hub.close();
  });
  return { cam, hub, logger };
}

function publish(
  hub: H264Hub,
  logger: ReturnType<typeof memoryLogger>,
  port: number,
  url = `rtsp://127.0.0.1:${port}/cam`,
  more: Partial<PublishDeps> = {},
): RunningPublishing {
  const targets = publishConfigSchema.parse([url]);
  const running = startPublishing({ name: 'front', hub: hub as never, logger: logger.logger }, hub, targets, {
    ffmpeg,
    ...more,
    logger: logger.logger,
    initialBackoffMs: 200,
    maxBackoffMs: 1000,
  });
  cleanups.push(() => running.close());
  return running;
}

/**
 * Checks a received recording: our camera's H.264, every picture of it, each with a later
 * timestamp than the one before. ffmpeg's RTSP receiver stamps the pictures that arrive before
 * its first RTCP report with the stream's start, so over RTSP a few leading ones share it.
 */
async function expectGoodRecording(file: string, atLeastFrames: number, pinnedAtStart = 0): Promise<Probed> {
  const p = await ffprobe(file);
  expect(p.codec).toBe('h264');
  expect([p.width, p.height]).toEqual([320, 240]);
  expect(p.frames).toBeGreaterThanOrEqual(atLeastFrames);
  const moving = p.pts.findIndex((t) => t !== p.pts[0]);
  expect(moving).toBeGreaterThan(0);
  expect(moving).toBeLessThanOrEqual(pinnedAtStart + 1);
  for (let i = moving; i < p.pts.length; i++) expect(p.pts[i]!, `picture ${i}`).toBeGreaterThan(p.pts[i - 1]!);
  return p;
}

// Pictures ffmpeg's RTSP receiver may stamp with the start: about 7 at 30 fps here, twice that
// allowed for a loaded machine.
const RTSP_PINNED = 15;

describe.skipIf(missing !== undefined)(titled('publishing to an RTSP server on loopback', missing), () => {
  it('publishes the camera as H.264 that ffprobe reads back whole', async () => {
    const port = await freePort();
    const rx = new Receiver(port, join(dir, 'first.mkv'));
    const { cam, hub, logger } = camera();
    const running = publish(hub, logger, port);
    await waitUntil(() => running.status()[0]!.state === 'publishing' && running.status()[0]!.frames >= 60, 30_000, () => `60 frames published: ${JSON.stringify(running.status())}`);
    expect(cam.subscribers).toBe(1);
    expect(hub.sinkCount).toBe(1);
    await running.close();
    const sent = running.status()[0]!.frames;
    expect(await rx.exited).toBe(0);
    await expectGoodRecording(rx.file, sent - 5, RTSP_PINNED);
    expect(liveFfmpegPids()).toEqual([hub.pid].filter((p) => p !== undefined));
  }, 60_000);

  it('retries while the server is not there, then publishes once it starts', async () => {
    const port = await freePort();
    const { hub, logger } = camera();
    const running = publish(hub, logger, port);
    await waitUntil(() => running.status()[0]!.restarts >= 1, 30_000, () => `a retry: ${JSON.stringify(running.status())}`);
    const waiting = running.status()[0]!;
    expect(waiting.state).toMatch(/retrying|connecting/);
    expect(waiting.lastError).toMatch(/Connection refused|ffmpeg exited/);
    const rx = new Receiver(port, join(dir, 'late.mkv'));
    await waitUntil(() => running.status()[0]!.state === 'publishing' && rx.bytes() > 20_000, 30_000, () => `publishing after the server started: ${JSON.stringify(running.status())}`);
    await running.close();
    expect(await rx.exited).toBe(0);
    await expectGoodRecording(rx.file, 10, RTSP_PINNED);
  }, 60_000);

  it('comes back after the server goes away mid-stream', async () => {
    const port = await freePort();
    const first = new Receiver(port, join(dir, 'before.mkv'));
    const { hub, logger } = camera();
    const running = publish(hub, logger, port);
    await waitUntil(() => running.status()[0]!.state === 'publishing' && first.bytes() > 20_000, 30_000, 'publishing to the first server');
    first.child.kill('SIGKILL');
    await first.exited;
    await waitUntil(() => running.status()[0]!.restarts >= 1, 30_000, () => `the publisher to notice: ${JSON.stringify(running.status())}`);
    const second = new Receiver(port, join(dir, 'after.mkv'));
    await waitUntil(() => running.status()[0]!.state === 'publishing' && second.bytes() > 20_000, 30_000, () => `publishing to the second server: ${JSON.stringify(running.status())}`);
    await running.close();
    expect(await second.exited).toBe(0);
    await expectGoodRecording(second.file, 10, RTSP_PINNED);
  }, 60_000);

  it('publishes to an RTMP server as FLV', async () => {
    const port = await freePort();
    const rx = new Receiver(port, join(dir, 'rtmp.mkv'), true);
    const { hub, logger } = camera();
    const running = publish(hub, logger, port, `rtmp://127.0.0.1:${port}/live/cam`);
    await waitUntil(() => running.status()[0]!.state === 'publishing' && running.status()[0]!.frames >= 60, 30_000, () => `60 frames published: ${JSON.stringify(running.status())}`);
    await running.close();
    const sent = running.status()[0]!.frames;
    await rx.exited;
    await expectGoodRecording(rx.file, sent - 5);
  }, 60_000);
});

describe('a target that cannot keep up', () => {
  it('skips to the next keyframe, counted, with a bounded queue, and never holds up other sinks', async () => {
    // An "ffmpeg" that reports progress but never reads its stdin: an engine that stopped taking data.
    const stuck = join(dir, 'stuck-ffmpeg');
    writeFileSync(
      stuck,
      `#!/bin/sh\ncase "$*" in *-protocols*) printf 'Output:\\n  tcp\\n'; exit 0;; esac\nwhile :; do printf 'frame=1\\nprogress=continue\\n'; sleep 0.2; done\n`,
    );
    chmodSync(stuck, 0o755);
    const { hub, logger } = camera();
    const other: number[] = [];
    const detach = hub.attach({ ready: () => true, send: (u) => void other.push(u.data.length) });
    cleanups.push(detach);
    const maxQueuedBytes = 64 * 1024;
    const running = publish(hub, logger, 0, 'rtsp://127.0.0.1:9/cam', { ffmpeg: { path: stuck, via: 'EDGECAM_FFMPEG' }, maxQueuedBytes });
    await waitUntil(() => running.status()[0]!.skipped >= 30, 30_000, () => `skips: ${JSON.stringify(running.status())}`);
    const { bytes, restarts } = running.status()[0]!;
    // Queued: ours, then the pipe (64 KiB on Linux) and node's stream buffers, plus the unit that crossed the limit.
    expect(bytes).toBeLessThan(maxQueuedBytes + 512 * 1024);
    expect(restarts).toBe(0);
    const before = other.length;
    await waitUntil(() => other.length >= before + 30, 30_000, 'the other sink to keep receiving');
  }, 60_000);
});

describe('a target this ffmpeg cannot reach', () => {
  it('is refused with a sentence, and nothing is retried or consumed', async () => {
    const hasSrt = (await listOutputProtocols(ffmpeg)).has('srt');
    const { cam, hub, logger } = camera();
    cam.stop();
    const running = publish(hub, logger, 0, 'srt://127.0.0.1:8890?streamid=publish:front');
    if (hasSrt) return;
    await waitUntil(() => running.status()[0]!.state === 'failed', 10_000, 'the srt target to be refused');
    expect(running.status()[0]!.lastError).toMatch(/^camera front: publish target srt:\/\/127\.0\.0\.1:8890\?streamid=\*\*\* needs ffmpeg's srt protocol, which .* does not have; publish with rtsp:\/\/ or rtmp:\/\/ instead/);
    expect(running.status()[0]!.restarts).toBe(0);
    expect(hub.sinkCount).toBe(0);
    expect(logger.lines.some((l) => l.level === 50 && String(l.msg).includes('srt protocol'))).toBe(true);
  });
});
