// A camera that goes away and comes back. The fake ffmpeg fails like ffmpeg does on a missing
// V4L2 device while a flag file exists ("unplugged"), or stays alive writing nothing while
// another one exists ("wedged"). Clients must stay connected and get frames again; HTTP viewers
// see the "no signal" picture meanwhile; /status and /healthz say what is going on.
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, defer, mergeMap, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { liveFfmpegPids, restartWithBackoff } from '../src/sources/ffmpeg/ffmpeg-supervisor.js';
import { NO_SIGNAL_HEIGHT, NO_SIGNAL_JPEG, NO_SIGNAL_WIDTH } from '../src/http/no-signal.js';
import { readJpegInfo } from '@edgecam/protocol';
import { MultipartReader, RawHttpClient } from './http-fixtures/raw-http.js';
import { LegacyClient, V2Client } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

let jpeg: Buffer;
let dir: string;
let server: TestServer | null = null;
const closers: Array<() => void> = [];

beforeAll(async () => {
  [jpeg] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
  dir = mkdtempSync(join(tmpdir(), 'edgecam-camera-loss-'));
});

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await server?.close();
  server = null;
});

interface Flags {
  unplugged: string;
  wedged: string;
}

async function startWithCamera(name: string, tuning: { stallTimeoutMs?: number } = {}): Promise<{ s: TestServer; flags: Flags }> {
  const flags = { unplugged: join(dir, `${name}.unplugged`), wedged: join(dir, `${name}.wedged`) };
  // The probe lists formats, as a plugged-in camera does: the fake device node itself does not exist here.
  const v4l2Formats = '[video4linux2,v4l2 @ 0x1] Compressed:       mjpeg :          Motion-JPEG : 160x120';
  const ffmpeg = makeFakeFfmpeg({ jpeg, fps: 10, v4l2Formats, unpluggedFlag: flags.unplugged, wedgedFlag: flags.wedged });
  server = await startTestServer(
    { fps: 10, httpPort: 0, source: { kind: 'v4l2', device: '/dev/video0' } },
    { ffmpeg, statsIntervalMs: 0, supervisor: { initialBackoffMs: 100, maxBackoffMs: 400, ...tuning } },
  );
  return { s: server, flags };
}

async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The parts of a /stream.mjpg response received so far. */
function streamParts(viewer: RawHttpClient, boundary: string): Buffer[] {
  const reader = new MultipartReader(boundary);
  reader.push(viewer.body());
  return reader.parts.map((p) => p.body);
}

async function openViewer(port: number): Promise<{ viewer: RawHttpClient; boundary: string }> {
  const viewer = await RawHttpClient.open(port, '/stream.mjpg');
  closers.push(() => viewer.close());
  const head = await viewer.head();
  expect(head.status).toBe(200);
  const boundary = /boundary=(\S+)$/.exec(head.headers.get('content-type') ?? '')![1]!;
  return { viewer, boundary };
}

/** Frames the server has written to its one client of `protocol` (counted as each write starts). */
function framesSentTo(s: TestServer, protocol: 'legacy' | 'v2'): number {
  return s.registry.list().find((c) => c.protocol === protocol)?.framesSent ?? -1;
}

function restartWarnings(s: TestServer): number[] {
  return s.log.lines.filter((l) => l.level === 40 && typeof l.restartInMs === 'number').map((l) => l.restartInMs as number);
}

describe('the restart delay', () => {
  it('is 1 s, doubling up to 30 s while the source keeps failing, and starts over after a run of 10 s', () => {
    // Virtual time: runs that die after 50 ms eight times, then after 10 000 ms, then after 9 999 ms.
    const ranMs = [...Array<number>(8).fill(50), 10_000, 9_999];
    const delays: number[] = [];
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(() => {
      let run = 0;
      const run$ = defer(() => {
        const ms = ranMs[run++];
        return ms === undefined ? NEVER : timer(ms).pipe(mergeMap(() => throwError(() => new Error('ffmpeg died'))));
      });
      run$.pipe(restartWithBackoff({ onRetry: (_err, ms) => delays.push(ms) })).subscribe();
    });
    expect(delays.slice(0, 8)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(delays[8]).toBe(1000);
    expect(delays[9]).toBe(2000);
  });
});

describe('a camera that is unplugged and plugged back', () => {
  it('keeps TCP clients connected without placeholders, shows HTTP viewers "no signal", reports it, and resumes everyone', async () => {
    const { s, flags } = await startWithCamera('unplug');
    const port = s.httpPort!;
    const legacy = await LegacyClient.connect(s.tcpPort);
    legacy.write('3');
    const v2 = await V2Client.connect(s.tcpPort);
    v2.command('3');
    closers.push(() => legacy.close(), () => v2.close());
    const { viewer, boundary } = await openViewer(port);
    await legacy.waitForFrames(5);
    await v2.waitFor('frame', 5);
    await viewer.until(() => streamParts(viewer, boundary).length >= 3, 10_000, 'three stream parts');
    expect((await getJson(port, '/healthz')).status).toBe(200);

    writeFileSync(flags.unplugged, '');
    await waitUntil(() => s.hub.info().noSignal && s.hub.info().state === 'restarting', 10_000, 'the source to fail');
    // A frame written just before the failure may still be on its way: wait until each TCP
    // client has what the server sent it.
    await waitUntil(
      () => legacy.frames.length === framesSentTo(s, 'legacy') && v2.of('frame').length === framesSentTo(s, 'v2'),
      10_000,
      'the frames in flight to arrive',
    );
    const legacyFrames = legacy.frames.length;
    const v2Frames = v2.of('frame').length;

    // /snapshot.jpg: the placeholder at once, marked as such.
    const snap = await fetch(`http://127.0.0.1:${port}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect(snap.headers.get('x-edgecam-no-signal')).toBe('1');
    expect(Buffer.from(await snap.arrayBuffer()).equals(NO_SIGNAL_JPEG)).toBe(true);
    expect(readJpegInfo(NO_SIGNAL_JPEG)).toEqual({ width: NO_SIGNAL_WIDTH, height: NO_SIGNAL_HEIGHT });

    // /status and /healthz say why; the state flips between restarting and starting as it retries.
    const status = await getJson(port, '/status');
    expect(status.body.source).toMatchObject({ noSignal: true, lastError: expect.stringContaining('No such device') });
    expect(['restarting', 'starting']).toContain(status.body.source.state);
    const health = await getJson(port, '/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ok: false, reason: expect.stringMatching(/^source is (restarting|starting)/) });

    // The stream viewer gets the placeholder about once a second while the camera is away.
    await viewer.until(
      () => streamParts(viewer, boundary).filter((p) => p.equals(NO_SIGNAL_JPEG)).length >= 2,
      10_000,
      'two "no signal" parts',
    );
    await waitUntil(() => restartWarnings(s).length >= 4, 10_000, 'four failed starts');
    expect(restartWarnings(s).slice(0, 4)).toEqual([100, 200, 400, 400]);
    // TCP clients: still connected, and no frame of another size pushed at them.
    expect(legacy.ended || v2.ended).toBe(false);
    expect(legacy.frames.length).toBe(legacyFrames);
    expect(v2.of('frame').length).toBe(v2Frames);

    rmSync(flags.unplugged);
    await legacy.waitForFrames(legacyFrames + 5);
    await v2.waitFor('frame', v2Frames + 5);
    await viewer.until(
      () => {
        const parts = streamParts(viewer, boundary);
        const lastPlaceholder = parts.findLastIndex((p) => p.equals(NO_SIGNAL_JPEG));
        return parts.slice(lastPlaceholder + 1).filter((p) => p.equals(jpeg)).length >= 3;
      },
      10_000,
      'live frames after the placeholder',
    );
    expect(legacy.frames.every((f) => f.equals(jpeg))).toBe(true);
    expect(v2.of('frame').every((f) => f.jpeg.equals(jpeg))).toBe(true);
    expect(s.hub.info()).toMatchObject({ state: 'running', noSignal: false, lastError: null });
    expect(s.hub.info().restarts).toBeGreaterThanOrEqual(4);
    expect((await getJson(port, '/healthz')).status).toBe(200);
    const again = await fetch(`http://127.0.0.1:${port}/snapshot.jpg`);
    expect(again.headers.get('x-edgecam-no-signal')).toBeNull();
    expect(Buffer.from(await again.arrayBuffer()).equals(jpeg)).toBe(true);
  });

  it('answers a snapshot that starts the capture with the placeholder as soon as the camera fails, not after the timeout', async () => {
    const { s, flags } = await startWithCamera('cold');
    writeFileSync(flags.unplugged, '');
    // Why the hub's wait ended: the camera's failure, not the 5 s snapshot timeout.
    const waitsEnded: string[] = [];
    const snapshot = s.hub.snapshot.bind(s.hub);
    s.hub.snapshot = (timeoutMs) =>
      snapshot(timeoutMs).catch((err: Error) => {
        waitsEnded.push(err.message);
        throw err;
      });
    const snap = await fetch(`http://127.0.0.1:${s.httpPort}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('x-edgecam-no-signal')).toBe('1');
    expect(Buffer.from(await snap.arrayBuffer()).equals(NO_SIGNAL_JPEG)).toBe(true);
    expect(waitsEnded).toHaveLength(1);
    expect(waitsEnded[0]).toMatch(/failed: /);
    expect(waitsEnded[0]).not.toMatch(/within \d+ ms/);
    rmSync(flags.unplugged);
  });
});

describe('a camera that wedges (ffmpeg alive, no frames)', () => {
  it('has its ffmpeg killed after the stall timeout and restarted, and frames resume on the same connection', async () => {
    const { s, flags } = await startWithCamera('wedge', { stallTimeoutMs: 500 });
    const legacy = await LegacyClient.connect(s.tcpPort);
    closers.push(() => legacy.close());
    legacy.write('3');
    await legacy.waitForFrames(3);
    const [pid] = liveFfmpegPids();

    writeFileSync(flags.wedged, '');
    await waitUntil(() => /no output from ffmpeg for [\d.]+ s; ffmpeg killed/.test(s.hub.info().lastError ?? ''), 10_000, 'the stall to be noticed');
    expect(liveFfmpegPids()).not.toContain(pid);
    expect(s.hub.info().noSignal).toBe(true);
    await waitUntil(() => legacy.frames.length === framesSentTo(s, 'legacy'), 10_000, 'the frames in flight to arrive');
    const n = legacy.frames.length;
    await sleep(300);
    expect(legacy.frames.length).toBe(n);
    expect(framesSentTo(s, 'legacy')).toBe(n);

    rmSync(flags.wedged);
    await legacy.waitForFrames(n + 5);
    expect(legacy.ended).toBe(false);
    expect(s.hub.info()).toMatchObject({ state: 'running', noSignal: false });
  });
});
