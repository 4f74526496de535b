// The v4l2, file and stdin sources end to end: what ffmpeg is asked to run, and frames arriving
// at a client. There is no camera here, so v4l2 runs a fake ffmpeg that answers the probe.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { LegacyClient } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const run = promisify(execFile);
let jpegs: Buffer[];
let dir: string;
const servers: TestServer[] = [];
const clients: LegacyClient[] = [];

const MJPEG_CAMERA = [
  '[video4linux2,v4l2 @ 0x1] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 160x120',
  '[video4linux2,v4l2 @ 0x1] Compressed:       mjpeg :          Motion-JPEG : 640x480 160x120',
].join('\n');
const RAW_CAMERA = '[video4linux2,v4l2 @ 0x1] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 160x120';

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 3);
  dir = mkdtempSync(join(tmpdir(), 'edgecam-sources-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const s = await startTestServer(...args);
  servers.push(s);
  return s;
}

async function stream(server: TestServer, n: number): Promise<Buffer[]> {
  const c = await LegacyClient.connect(server.tcpPort);
  clients.push(c);
  c.write('3');
  return c.waitForFrames(n);
}

describe('v4l2:/dev/videoN', () => {
  it('probes the camera, then copies its MJPEG without re-encoding', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg: jpegs[0]!, v4l2Formats: MJPEG_CAMERA, fps: 20 });
    const server = await serve({ source: { kind: 'v4l2', device: '/dev/video7' }, size: { width: 640, height: 480 }, fps: 20 }, { ffmpeg });
    const frames = await stream(server, 3);
    expect(frames[0]!.equals(jpegs[0]!)).toBe(true);
    const [probe, capture] = ffmpeg.runs();
    expect(probe!.args).toEqual(['-hide_banner', '-nostdin', '-f', 'v4l2', '-list_formats', 'all', '-i', '/dev/video7']);
    expect(capture!.args.join(' ')).toContain(
      '-f v4l2 -input_format mjpeg -video_size 640x480 -framerate 20 -i /dev/video7 -c:v copy -an -f mpjpeg -flush_packets 1 pipe:1',
    );
    expect(server.hub.info()).toMatchObject({ kind: 'v4l2', spec: 'v4l2:/dev/video7', width: 160, height: 120 });
  });

  it('encodes when the camera offers no MJPEG', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg: jpegs[0]!, v4l2Formats: RAW_CAMERA, fps: 20 });
    const server = await serve({ source: { kind: 'v4l2', device: '/dev/video0' }, quality: 100 }, { ffmpeg });
    await stream(server, 2);
    const capture = ffmpeg.runs()[1]!.args;
    expect(capture).not.toContain('-input_format');
    expect(capture.join(' ')).toContain('-i /dev/video0 -c:v mjpeg -q:v 2');
  });

  it('keeps retrying with backoff while the camera is missing, and says why', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg: jpegs[0]!, v4l2Formats: '', failImmediately: true });
    const server = await serve({ source: { kind: 'v4l2', device: '/dev/video9' }, alwaysOn: true }, { ffmpeg, supervisor: { initialBackoffMs: 50 } });
    await waitUntil(() => server.hub.info().restarts >= 2, 10_000, 'two restarts');
    expect(server.hub.info().lastError).toContain('No such file or directory');
    expect(['restarting', 'starting']).toContain(server.hub.info().state);
  });
});

describe('file:PATH', () => {
  it('loops an MJPEG AVI, copying its frames as stored', async () => {
    const avi = join(dir, 'clip.avi');
    await run(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=128x96:rate=25', '-frames:v', '5', '-c:v', 'mjpeg', avi,
    ]);
    const server = await serve({ source: { kind: 'file', path: avi } });
    const frames = await stream(server, 12); // more than the file holds: it loops
    expect(frames.every((f) => isWholeJpeg(f) && readJpegInfo(f).width === 128)).toBe(true);
    expect(server.log.lines.some((l) => l.msg === 'file is MJPEG: copying it')).toBe(true);
  });

  it('encodes a file in another codec', async () => {
    const mp4 = join(dir, 'clip.mp4');
    await run(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=128x96:rate=25', '-frames:v', '10', '-c:v', 'mpeg4', mp4,
    ]);
    const server = await serve({ source: { kind: 'file', path: mp4 } });
    const frames = await stream(server, 3);
    expect(frames.every((f) => isWholeJpeg(f) && readJpegInfo(f).height === 96)).toBe(true);
    expect(server.log.lines.some((l) => l.msg === 'encoding file to MJPEG')).toBe(true);
  });
});

describe('stdin', () => {
  it('splits concatenated JPEGs (libcamera-vid --codec mjpeg -o -) as they arrive', async () => {
    const input = new PassThrough();
    const server = await serve({ source: { kind: 'stdin' } }, { stdin: input });
    expect(server.ffmpeg).toBeNull();
    const seen: Buffer[] = [];
    const stamps: [number, number][] = [];
    const sub = server.hub.frames$.subscribe((f) => {
      seen.push(f.jpeg);
      stamps.push([f.seq, f.captureTimeUs]);
    });
    // Three frames in one chunk (they share its arrival time), then three in odd-sized pieces.
    input.write(Buffer.concat(jpegs));
    const rest = Buffer.concat(jpegs);
    for (let off = 0; off < rest.length; off += 1000) input.write(rest.subarray(off, off + 1000));
    await waitUntil(() => seen.length === 6, 5000, 'six frames');
    expect(seen.map((f, i) => f.equals(jpegs[i % 3]!))).toEqual([true, true, true, true, true, true]);
    // Frames completed by the same chunk still get distinct, increasing capture times.
    for (let i = 1; i < stamps.length; i++) {
      expect(stamps[i]![0]).toBe(stamps[i - 1]![0] + 1);
      expect(stamps[i]![1]).toBeGreaterThan(stamps[i - 1]![1]);
    }
    // A client asking for a frame gets the newest one.
    const c = await LegacyClient.connect(server.tcpPort);
    clients.push(c);
    c.write('0');
    const [frame] = await c.waitForFrames(1);
    expect(frame!.equals(jpegs[2]!)).toBe(true);
    sub.unsubscribe();
  });

  it('reads mpjpeg too, and ends the server\'s source when stdin closes', async () => {
    const input = new PassThrough();
    let ended: Error | undefined;
    const server = await serve({ source: { kind: 'stdin' }, alwaysOn: true }, { stdin: input, onSourceEnded: (e) => (ended = e) });
    const parts = jpegs.map((j) => Buffer.concat([Buffer.from(`Content-type: image/jpeg\r\nContent-length: ${j.length}\r\n\r\n`), j, Buffer.from('\r\n--ffmpeg\r\n')]));
    input.write('--ffmpeg\r\n');
    for (const p of parts) input.write(p);
    await waitUntil(() => server.hub.info().framesCaptured === 3, 5000, 'three frames');
    expect(server.hub.latest()!.jpeg.equals(jpegs[2]!)).toBe(true);
    input.end();
    await waitUntil(() => ended !== undefined, 5000, 'the end of stdin');
    expect(ended).toMatchObject({ code: 'SOURCE_ENDED' });
  });
});
