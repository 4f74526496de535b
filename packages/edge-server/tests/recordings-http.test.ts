import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../src/access/access-control.js';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { writeSegment } from './recording-fixtures/recording-helpers.js';
import { memoryLogger } from './support/logger.js';

const TOKEN = 'recordings-secret-token';
let root: string;
let jpegs: Buffer[];
let server: Server;
let open: Server;
let base: string;
let openBase: string;
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const t1 = t0 + 10_000;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function mount(access: AccessControl | undefined): Promise<Server> {
  const { logger } = memoryLogger('silent');
  const store = new RecordingsStore('front', join(root, 'front'));
  const routes = recordingsRoutes({ store: (name) => (name === 'front' ? store : undefined), cameras: () => ['front'], access, log: logger });
  const s = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** The JPEGs of a length-prefixed multipart body. */
function parts(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const text = body.toString('latin1');
  // Content-Length, then any other headers (X-Timestamp), then the blank line.
  const re = /Content-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    out.push(body.subarray(start, start + Number(m[1])));
    re.lastIndex = start + Number(m[1]);
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-http-'));
  jpegs = await testPatternJpegs(160, 120, 20);
  await writeSegment(join(root, 'front'), t0, jpegs);
  await writeSegment(join(root, 'front'), t1, jpegs.slice(0, 10));
  await writeSegment(join(root, 'front'), t1 + 5_000, jpegs.slice(0, 2));
  const { logger } = memoryLogger('silent');
  server = await mount(new AccessControl(TOKEN, logger));
  open = await mount(undefined);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  openBase = `http://127.0.0.1:${(open.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  open?.close();
  await rm(root, { recursive: true, force: true });
});

const file = (startMs: number): string => `${startMs}_001.avi`;

describe('GET /recordings', () => {
  it('lists every segment with its start, end, frames, bytes and problems', async () => {
    const r = await call(`${base}/recordings`);
    expect(r.status).toBe(200);
    const { cameras, recordings } = JSON.parse(r.body.toString()) as { cameras: string[]; recordings: Array<Record<string, unknown>> };
    expect(cameras).toEqual(['front']);
    expect(recordings.map((e) => [e.file, e.frames, e.start, e.end, e.problems])).toEqual([
      [file(t0), 20, new Date(t0).toISOString(), new Date(t0 + 2000).toISOString(), []],
      [file(t1), 10, new Date(t1).toISOString(), new Date(t1 + 1000).toISOString(), []],
      [file(t1 + 5000), 2, new Date(t1 + 5000).toISOString(), new Date(t1 + 5200).toISOString(), []],
    ]);
    expect(recordings[0]!.bytes).toBe((await stat(join(root, 'front', file(t0)))).size);
  });

  it('answers 404 for a camera that does not record', async () => {
    expect((await call(`${base}/recordings?camera=back`)).status).toBe(404);
  });
});

describe('GET /recordings/CAM/FILE', () => {
  it('downloads the whole file, a byte range (206) and a suffix range', async () => {
    const size = (await stat(join(root, 'front', file(t0)))).size;
    const whole = await call(`${base}/recordings/front/${file(t0)}`);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(size);
    expect(whole.body.subarray(0, 4).toString()).toBe('RIFF');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const part = await call(`${base}/recordings/front/${file(t0)}`, { headers: { Range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 4-11/${size}`);
    expect(part.body).toEqual(whole.body.subarray(4, 12));
    const tail = await call(`${base}/recordings/front/${file(t0)}`, { headers: { Range: 'bytes=-10' } });
    expect(tail.body).toEqual(whole.body.subarray(size - 10));
  });

  it('answers 416 for a range past the end, and HEAD with the headers only', async () => {
    const size = (await stat(join(root, 'front', file(t0)))).size;
    const bad = await call(`${base}/recordings/front/${file(t0)}`, { headers: { Range: `bytes=${size}-` } });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${size}`);
    const head = await call(`${base}/recordings/front/${file(t0)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(size);
    expect(head.body.length).toBe(0);
  });

  it('answers 404 for names that are not recordings, traversal included', async () => {
    expect((await call(`${base}/recordings/front/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await call(`${base}/recordings/front/notes.txt`)).status).toBe(404);
    expect((await call(`${base}/recordings/back/${file(t0)}`)).status).toBe(404);
  });
});

describe('GET /cams/NAME/replay.mjpg', () => {
  it('replays from the first frame at or after the instant, across segments, to the end', async () => {
    const from = t0 + 1050;
    const r = await call(`${base}/cams/front/replay.mjpg?from=${new Date(from).toISOString()}&speed=16&advance_headers=0`);
    expect(r.status).toBe(200);
    expect(Number(r.headers['x-replay-start'])).toBe(t0 + 1100);
    const got = parts(r.body);
    // Frames 11..19 of the first segment, then all of the second and third.
    expect(got).toHaveLength(9 + 10 + 2);
    expect(got[0]).toEqual(jpegs[11]);
    expect(got[9]).toEqual(jpegs[0]);
    expect(r.body.toString('latin1').endsWith('--\r\n')).toBe(true);
    // Each part says when its frame was taken (10 fps segments starting at t0, t1 and t1 + 5 s).
    const stamps = [...r.body.toString('latin1').matchAll(/\r\nX-Timestamp: (\d+\.\d{3})\r\n\r\n/g)].map((m) => Math.round(Number(m[1]) * 1000));
    expect(stamps).toEqual([
      ...Array.from({ length: 9 }, (_, i) => t0 + 1100 + i * 100),
      ...Array.from({ length: 10 }, (_, i) => t1 + i * 100),
      t1 + 5000,
      t1 + 5100,
    ]);
  });

  it('paces the frames at the asked speed: at 1x the first frame comes long before the last', async () => {
    const got = await new Promise<{ atFirst: number; total: number }>((resolve, reject) => {
      const req = request(`${base}/cams/front/replay.mjpg?from=${t1}&speed=1&advance_headers=0`, (res) => {
        const chunks: Buffer[] = [];
        let atFirst = -1;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (atFirst === -1 && parts(Buffer.concat(chunks)).length > 0) atFirst = parts(Buffer.concat(chunks)).length;
        });
        res.on('end', () => resolve({ atFirst, total: parts(Buffer.concat(chunks)).length }));
      });
      req.on('error', reject);
      req.end();
    });
    // 10 + 2 frames at 10 fps: the first arrives alone (or nearly), the stream ends with all of them.
    expect(got.total).toBe(12);
    expect(got.atFirst).toBeLessThan(got.total);
  });

  it('takes Unix time in ms and refuses a bad instant, a bad speed and an instant after the end', async () => {
    const r = await call(`${base}/cams/front/replay.mjpg?from=${t1 + 5100}&speed=16&advance_headers=0`);
    expect(parts(r.body)).toHaveLength(1);
    expect((await call(`${base}/cams/front/replay.mjpg?from=yesterday`)).status).toBe(400);
    expect((await call(`${base}/cams/front/replay.mjpg?speed=100`)).status).toBe(400);
    expect((await call(`${base}/cams/front/replay.mjpg?from=${t1 + 60_000}`)).status).toBe(404);
    expect((await call(`${base}/cams/back/replay.mjpg`)).status).toBe(404);
  });
});

describe('GET /cams/NAME/replay.mjpg with a time that is none', () => {
  it.each(['1e20', '100000000000000000000', '99999999999999999', '+275760-09-13T00:00:00.001Z', '2026-13-45', 'Infinity', '-5', ' 12'])(
    'answers from=%s with 400 naming the forms a time may take',
    async (from) => {
      const r = await call(`${base}/cams/front/replay.mjpg?from=${encodeURIComponent(from)}`);
      expect(r.status).toBe(400);
      const { error } = JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/ISO 8601.*Unix time/);
    },
  );
});

describe('GET /recordings.html', () => {
  it('serves the page with a CSP that allows only its own script and style', async () => {
    const r = await call(`${base}/recordings.html?token=${TOKEN}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(r.body.toString()).toContain(`<meta name="edgecam-token" content="${TOKEN}">`);
  });
});

describe('DELETE /recordings/CAM/FILE', () => {
  it('needs the token when one is set', async () => {
    const url = `${base}/recordings/front/${file(t1 + 5000)}`;
    expect((await call(url, { method: 'DELETE' })).status).toBe(401);
    expect((await call(url, { method: 'DELETE', headers: { Authorization: 'Bearer wrong-token-here' } })).status).toBe(401);
    expect(await readdir(join(root, 'front'))).toContain(file(t1 + 5000));
    expect((await call(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(204);
    expect(await readdir(join(root, 'front'))).not.toContain(file(t1 + 5000));
    expect((await call(url, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('deletes without a token when none is set', async () => {
    await writeSegment(join(root, 'front'), t1 + 9000, jpegs.slice(0, 2));
    expect((await call(`${openBase}/recordings/front/${file(t1 + 9000)}`, { method: 'DELETE' })).status).toBe(204);
    expect(await readdir(join(root, 'front'))).not.toContain(file(t1 + 9000));
  });
});
