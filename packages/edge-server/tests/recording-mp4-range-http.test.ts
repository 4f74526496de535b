// GET /cams/NAME/recording.mp4?from=&to=: a time range of MP4 segments as one MP4 built on the
// fly. It starts at the keyframe at or before `from`, ffprobe decodes the frames it announces,
// any byte range of it is the same bytes as the whole (206, Content-Range), HEAD says its size
// without a body, and what cannot be served gets a coded error naming the fix.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { ffprobeFrames, testPatternH264, writeMp4Segment } from './recording-fixtures/mp4-helpers.js';
import { writeSegment } from './recording-fixtures/recording-helpers.js';
import { memoryLogger } from './support/logger.js';

const noFfprobe = missingPlayer('ffprobe');
let root: string;
let server: Server;
let base: string;
// Two segments of pictures 100 ms apart, a keyframe every 10: 20 from t0, then 10 from t1.
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const t1 = t0 + 10_000;
const url = (camera: string, from: number | string, to: number | string): string => `${base}/cams/${camera}/recording.mp4?from=${from}&to=${to}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-mp4-range-'));
  const units = await testPatternH264(20, 10);
  await writeMp4Segment(join(root, 'front'), t0, units);
  await writeMp4Segment(join(root, 'front'), t1, units.slice(0, 10));
  await writeSegment(join(root, 'yard'), t0, await testPatternJpegs(160, 120, 5));
  const stores = new Map(['front', 'yard', 'empty'].map((name) => [name, new RecordingsStore(name, join(root, name))]));
  const routes = recordingsRoutes({ store: (name) => stores.get(name), cameras: () => [...stores.keys()], log: memoryLogger('silent').logger });
  server = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('GET /cams/NAME/recording.mp4', () => {
  it('serves a range across two segments from the keyframe at or before from, to the last frame at or before to', async () => {
    // From 1.5 s in: the keyframe at 1.0 s, frames 10 to 19; then the second segment's first 6 (t1 to t1 + 500 ms).
    const r = await fetch(url('front', t0 + 1500, new Date(t1 + 500).toISOString()));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(r.headers.get('x-recording-start')).toBe(String(t0 + 1000));
    expect(r.headers.get('x-recording-frames')).toBe('16');
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.length).toBe(Number(r.headers.get('content-length')));
    expect(body.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it.skipIf(noFfprobe)(titled('plays in ffprobe with every frame it announces', noFfprobe), async () => {
    const r = await fetch(url('front', t0 + 1500, t1 + 500));
    const out = join(root, 'range.mp4');
    await writeFile(out, Buffer.from(await r.arrayBuffer()));
    expect(await ffprobeFrames(out)).toEqual({ frames: 16, errors: '', width: 160, height: 120 });
    // Without from and to: everything recorded.
    const all = await fetch(`${base}/cams/front/recording.mp4`);
    await writeFile(out, Buffer.from(await all.arrayBuffer()));
    expect(await ffprobeFrames(out)).toMatchObject({ frames: 30, errors: '' });
  });

  it('answers a byte range with 206 and those bytes of the whole, a suffix, and 416 past the end', async () => {
    const whole = Buffer.from(await (await fetch(url('front', t0, t1 + 900))).arrayBuffer());
    for (const [a, b] of [[0, 99], [1000, 5000], [whole.length - 10, whole.length - 1]] as const) {
      const part = await fetch(url('front', t0, t1 + 900), { headers: { Range: `bytes=${a}-${b}` } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes ${a}-${b}/${whole.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(a, b + 1))).toBe(true);
    }
    const open = await fetch(url('front', t0, t1 + 900), { headers: { Range: 'bytes=2000-' } });
    expect(Buffer.from(await open.arrayBuffer()).equals(whole.subarray(2000))).toBe(true);
    const tail = await fetch(url('front', t0, t1 + 900), { headers: { Range: 'bytes=-16' } });
    expect(Buffer.from(await tail.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('mfro');
    const past = await fetch(url('front', t0, t1 + 900), { headers: { Range: `bytes=${whole.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    expect(await past.json()).toMatchObject({ error: { code: 'RANGE_NOT_SATISFIABLE' } });
  });

  it('answers HEAD with the size and no body', async () => {
    const get = await fetch(url('front', t0, t1));
    const size = (await get.arrayBuffer()).byteLength;
    const head = await fetch(url('front', t0, t1), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(size));
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses what it cannot serve with a coded error that says why', async () => {
    const refusal = async (u: string, init?: RequestInit): Promise<[number, string, string]> => {
      const r = await fetch(u, init);
      const { error } = (await r.json()) as { error: { code: string; message: string } };
      return [r.status, error.code, error.message];
    };
    expect(await refusal(url('front', 'yesterday', t1))).toEqual([400, 'BAD_REQUEST', expect.stringContaining('from=yesterday is no time: give an ISO 8601 time')]);
    expect(await refusal(url('front', t0, '-5'))).toEqual([400, 'BAD_REQUEST', expect.stringContaining('to=-5 is no time')]);
    expect(await refusal(url('front', t1, t0))).toEqual([400, 'BAD_REQUEST', expect.stringContaining('is before from')]);
    expect(await refusal(url('front', t0, t0 + 48 * 3600_000))).toEqual([400, 'BAD_REQUEST', expect.stringContaining('more than the 24 hours one request may cover')]);
    expect(await refusal(url('front', t0 + 3000, t0 + 9000))).toEqual([404, 'NOT_FOUND', expect.stringContaining('no recording of front between')]);
    expect(await refusal(url('yard', t0, t1))).toEqual([404, 'NOT_FOUND', expect.stringContaining('yard records MJPEG as AVI, which recording.mp4 does not serve: replay it with /cams/yard/replay.mjpg')]);
    expect(await refusal(url('empty', t0, t1))).toEqual([404, 'NOT_FOUND', expect.stringContaining('empty has no MP4 recording yet')]);
    expect(await refusal(url('nobody', t0, t1))).toEqual([404, 'NOT_FOUND', expect.stringContaining('does not record')]);
    expect(await refusal(url('front', t0, t1), { method: 'POST' })).toEqual([405, 'METHOD_NOT_ALLOWED', 'recording.mp4 accepts GET, HEAD']);
  });
});

describe('a recording.mp4 reader that reads nothing', () => {
  it('is cut off after the stall timeout rather than held open', async () => {
    // Far more than both ends' socket buffers hold (4 MiB and more): 48 segments of 30 keyframes at 1280x720, about 23 MB.
    const units = await testPatternH264(30, 1, '1280x720');
    for (let k = 0; k < 48; k++) await writeMp4Segment(join(root, 'big'), t0 + k * 3000, units);
    const store = new RecordingsStore('big', join(root, 'big'));
    const routes = recordingsRoutes({ store: () => store, cameras: () => ['big'], log: memoryLogger('silent').logger, stallTimeoutMs: 500 });
    let closed!: (finished: boolean) => void;
    const answered = new Promise<boolean>((r) => (closed = r));
    const slow = createServer((req, res) => {
      res.once('close', () => closed(res.writableFinished));
      void routes.handle(req, res);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const sock = connect((slow.address() as AddressInfo).port, '127.0.0.1');
    try {
      sock.on('error', () => undefined);
      sock.write('GET /cams/big/recording.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      // Read nothing: the kernel's buffers fill, then the server waits for a drain that never comes.
      sock.pause();
      // The server gives up on it (the answer is not finished) rather than keep it open.
      expect(await answered).toBe(false);
    } finally {
      sock.destroy();
      slow.close();
    }
  }, 60_000);
});
