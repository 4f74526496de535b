// The recordings over HTTP when a camera records MP4: the list (format, frames, start and end from
// the files' own times), downloads with Range as video/mp4, DELETE, retention's view of them, and
// replay.mjpg saying why it cannot send an MP4 camera's recordings.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { planRetention } from '../src/recording/retention.js';
import { testPatternH264, writeMp4Segment } from './recording-fixtures/mp4-helpers.js';
import { memoryLogger } from './support/logger.js';

let root: string;
let server: Server;
let base: string;
let store: RecordingsStore;
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const t1 = t0 + 10_000;
const file = (startMs: number): string => `${startMs}_001.mp4`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-mp4-http-'));
  const units = await testPatternH264(30, 10);
  await writeMp4Segment(join(root, 'front'), t0, units.slice(0, 20));
  await writeMp4Segment(join(root, 'front'), t1, units.slice(0, 10));
  store = new RecordingsStore('front', join(root, 'front'));
  const routes = recordingsRoutes({ store: (name) => (name === 'front' ? store : undefined), cameras: () => ['front'], log: memoryLogger('silent').logger });
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
  await rm(root, { recursive: true, force: true });
});

describe('GET /recordings with MP4 segments', () => {
  it('lists each segment with its format, frames, and the end its frames give', async () => {
    const r = await fetch(`${base}/recordings`);
    expect(r.status).toBe(200);
    const { recordings } = (await r.json()) as { recordings: Array<Record<string, unknown>> };
    // 20 and 10 pictures 100 ms apart: the last one lasts as long as the one before it.
    expect(recordings.map((e) => [e.file, e.format, e.frames, e.start, e.end, e.fps, e.problems])).toEqual([
      [file(t0), 'mp4', 20, new Date(t0).toISOString(), new Date(t0 + 2000).toISOString(), 10, []],
      [file(t1), 'mp4', 10, new Date(t1).toISOString(), new Date(t1 + 1000).toISOString(), 10, []],
    ]);
  });
});

describe('GET /recordings/CAM/FILE.mp4', () => {
  it('downloads the file as video/mp4, whole, a byte range (206) and a suffix', async () => {
    const path = join(root, 'front', file(t0));
    const bytes = await readFile(path);
    const whole = await fetch(`${base}/recordings/front/${file(t0)}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="front_${file(t0)}"`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(`${base}/recordings/front/${file(t0)}`, { headers: { Range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-11/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1')).toBe('ftypisom');
    const tail = await fetch(`${base}/recordings/front/${file(t0)}`, { headers: { Range: 'bytes=-16' } });
    // The end of a finished file is mfra's mfro box.
    expect(Buffer.from(await tail.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('mfro');
  });

  it('deletes a segment, after which it is gone from the list and the disk', async () => {
    await writeMp4Segment(join(root, 'front'), t1 + 9000, (await testPatternH264(10, 10)).slice(0, 10));
    expect((await fetch(`${base}/recordings/front/${file(t1 + 9000)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await readdir(join(root, 'front'))).not.toContain(file(t1 + 9000));
    expect((await fetch(`${base}/recordings/front/${file(t1 + 9000)}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('retention', () => {
  it('sees MP4 segments like AVI ones: by start time and size, oldest first', async () => {
    const files = await Promise.all((await store.list()).map(async (e) => ({ file: e.file, startMs: e.startMs, bytes: (await stat(join(root, 'front', e.file))).size })));
    const plan = planRetention({ files, live: undefined, free: 1e12, now: t1 + 1000, keep: { maxAge: 5000, maxSize: 1e12, minFree: 0 }, reserve: 0 });
    expect(plan.remove).toEqual([{ file: file(t0), reason: 'age' }]);
  });
});

describe('GET /cams/NAME/replay.mjpg of a camera that records MP4', () => {
  it('answers 404 saying the segments play as they are and where to get them', async () => {
    const r = await fetch(`${base}/cams/front/replay.mjpg`);
    expect(r.status).toBe(404);
    expect(await r.text()).toContain('front records H.264 as MP4, which replay.mjpg cannot send: download its segments from /recordings/front/FILE (or with edgecam pull), which play as they are');
  });
});
