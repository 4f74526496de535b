// rtsp:// cameras against a real RTSP server on loopback: VLC serving an H.264 MP4. VLC's RTSP
// server sends RTP only over UDP (interleaved TCP gets "461 Unsupported transport"), so these
// cameras are written `rtsp://…#udp`. Skipped with the reason when VLC is not installed.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { createSource } from '../src/sources/create-source.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import type { FrameSource } from '../src/sources/source.js';
import { parseSourceSpec, type SourceSpec } from '../src/sources/source-spec.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { Collector, spsOf } from './support/h264.js';
import { memoryLogger } from './support/logger.js';
import { alive } from './support/processes.js';
import { sleep, waitUntil } from './support/wait.js';

const noVlc = missingPlayer('vlc');
const run = promisify(execFile);
let dir: string;
let mp4Path: string;
let rawPath: string;

beforeAll(async () => {
  if (noVlc) return;
  dir = mkdtempSync(join(tmpdir(), 'edgecam-rtsp-'));
  chmodSync(dir, 0o755); // VLC runs as nobody when the tests run as root, and reads the file here
  mp4Path = join(dir, 'cam.mp4');
  rawPath = join(dir, 'cam.h264');
  const ffmpeg = resolveFfmpeg().path;
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-t', '20',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', mp4Path,
  ]);
  chmodSync(mp4Path, 0o644);
  // The served stream as Annex-B, so its SPS can be read as bytes.
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', mp4Path, '-c:v', 'copy', '-f', 'h264', rawPath]);
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let vlc: ChildProcess | undefined;
const subscriptions: Subscription[] = [];
const sources: FrameSource[] = [];
const hubs: H264Hub[] = [];
afterEach(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  await Promise.all(sources.splice(0).map((s) => s.settled()));
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  if (vlc?.pid !== undefined && vlc.exitCode === null && vlc.signalCode === null) {
    const pid = vlc.pid;
    const closed = new Promise((r) => vlc!.once('close', r));
    process.kill(-pid, 'SIGKILL'); // its whole process group: setpriv execs cvlc, which may fork
    await closed;
  }
  vlc = undefined;
});

/** A TCP port free on loopback right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on the port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts VLC serving the MP4 in a loop at rtsp://127.0.0.1:PORT/cam, and waits until it listens. */
async function serveRtsp(): Promise<string> {
  const port = await freePort();
  const vlcArgs = ['-I', 'dummy', '--loop', mp4Path, '--sout', `#rtp{sdp=rtsp://127.0.0.1:${port}/cam}`];
  // VLC refuses to run as root.
  const asNobody = process.getuid?.() === 0;
  const [command, args] = asNobody
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cvlc', ...vlcArgs]]
    : ['cvlc', vlcArgs];
  let stderr = '';
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
  vlc = child;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const deadline = Date.now() + 30_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`VLC exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`VLC did not listen on ${port} within 30 s: ${stderr}`);
    await sleep(100);
  }
  return `rtsp://127.0.0.1:${port}/cam`;
}

function rtspSpec(text: string): SourceSpec {
  const spec = parseSourceSpec(text);
  if (spec?.kind !== 'rtsp') throw new Error(`not an rtsp spec: ${text}`);
  return spec;
}


describe.skipIf(noVlc)(titled('rtsp:// cameras from a real RTSP server (VLC) on loopback', noVlc), () => {
  it('delivers 320x240 JPEGs from rtsp://…#udp through the MJPEG capture', async () => {
    const url = await serveRtsp();
    const source = createSource({
      source: rtspSpec(`${url}#udp`),
      logger: memoryLogger('warn').logger,
      ffmpeg: resolveFfmpeg(),
      width: 320,
      height: 240,
      fps: 15,
      quality: 80,
    });
    sources.push(source);
    const jpegs: Buffer[] = [];
    let lastError = '';
    subscriptions.push(
      source.capture().subscribe((e) => {
        if (e.type === 'frame') jpegs.push(e.frame.jpeg);
        else if (e.type === 'state' && e.error) lastError = e.error;
      }),
    );
    await waitUntil(() => jpegs.length >= 5, 45_000, () => `five JPEGs from ${url}#udp (last error: ${lastError})`);
    for (const jpeg of jpegs.slice(0, 5)) {
      expect(readJpegInfo(jpeg)).toMatchObject({ width: 320, height: 240 });
    }
  }, 90_000);

  it('passes the H.264 of rtsp://…#udp through (encoder: copy): the served SPS, no re-encode', async () => {
    const url = await serveRtsp();
    const cam = new FakeHub(320, 240, 15);
    const hub = new H264Hub(
      { name: 'gate', hub: cam, logger: memoryLogger('warn').logger },
      h264ConfigSchema.parse({ enabled: true, encoder: 'copy', idleStopMs: 100 }),
      { ffmpeg: resolveFfmpeg(), source: rtspSpec(`${url}#udp`) },
    );
    hubs.push(hub);
    const sink = new Collector();
    const detach = hub.attach(sink);
    await waitUntil(() => sink.units.filter((u) => u.keyframe).length >= 2, 45_000, `two keyframes copied from ${url}#udp`);
    const pid = hub.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    expect(cmdline).toContain(`-rtsp_transport udp`);
    expect(cmdline).toContain(`-i ${url} `);
    expect(cmdline).toContain('-c:v copy');
    expect(cmdline).not.toMatch(/libx264|-f mjpeg/);
    expect(cam.subscriptions).toBe(0);
    const servedSps = spsOf(readFileSync(rawPath))!;
    expect(servedSps).toBeDefined();
    const keyframes = sink.units.filter((u) => u.keyframe);
    for (const unit of keyframes) expect(spsOf(unit.data)?.equals(servedSps)).toBe(true);
    detach();
    await waitUntil(() => !hub.running && !alive(pid), 10_000, 'the copy to stop when idle');
  }, 90_000);
});
