import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { spawnCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups = cleanupsAfterEach();

/**
 * GETs `url`, checks that its body opens with `opening(contentType)`, then hands `take` the unread
 * bytes after each chunk; `take` returns what it left unread, and a result once it has enough.
 */
function readStream<T>(
  url: string,
  setup: (contentType: string) => { opening: Buffer; take: (buf: Buffer) => [rest: Buffer, result?: T] },
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const { opening, take } = setup(String(res.headers['content-type']));
      let buf: Buffer = Buffer.alloc(0);
      let opened = false;
      res.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!opened) {
          if (buf.length < opening.length) return;
          expect(buf.subarray(0, opening.length).equals(opening)).toBe(true);
          buf = buf.subarray(opening.length);
          opened = true;
        }
        const [rest, result] = take(buf);
        buf = rest;
        if (result !== undefined) {
          req.destroy();
          resolve(result);
        }
      });
    });
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
  });
}

/**
 * Reads `count` parts of a multipart/x-mixed-replace response by their Content-Length, checking
 * that each JPEG is followed at once by the next boundary (browsers show a part only then).
 */
function readParts(url: string, count: number): Promise<{ contentType: string; parts: Buffer[] }> {
  return readStream(url, (contentType) => {
    const delimiter = Buffer.from(`--${/boundary=(\S+)/.exec(contentType)![1]}\r\n`);
    const parts: Buffer[] = [];
    return {
      // The boundary comes before the first part.
      opening: delimiter,
      take: (buf) => {
        for (;;) {
          const headerEnd = buf.indexOf('\r\n\r\n');
          if (headerEnd < 0) return [buf];
          const length = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, headerEnd).toString())![1]);
          const bodyStart = headerEnd + 4;
          const next = bodyStart + length + 2 + delimiter.length;
          if (buf.length < next) return [buf];
          // Right after the JPEG: CRLF and the next boundary, without waiting for the next frame.
          expect(buf.subarray(bodyStart + length, next).toString()).toBe(`\r\n${delimiter.toString()}`);
          parts.push(buf.subarray(bodyStart, bodyStart + length));
          buf = buf.subarray(next);
          if (parts.length === count) return [buf, { contentType, parts }];
        }
      },
    };
  });
}

/**
 * Reads `count` parts of a headers-ahead stream (`?advance_headers=1`): the body opens with a
 * part's boundary and headers, and each JPEG is followed at once by the next part's boundary and
 * headers, with no Content-Length, so a browser can show it without waiting for the next frame.
 */
function readHeadersAhead(url: string, count: number): Promise<Buffer[]> {
  return readStream(url, (contentType) => {
    const boundary = /boundary=(\S+)/.exec(contentType)![1];
    const head = Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    const between = Buffer.concat([Buffer.from('\r\n'), head]);
    const parts: Buffer[] = [];
    return {
      opening: head,
      take: (buf) => {
        for (let end = buf.indexOf(between); end >= 0; end = buf.indexOf(between)) {
          parts.push(buf.subarray(0, end));
          buf = buf.subarray(end + between.length);
          if (parts.length === count) return [buf, parts];
        }
        return [buf];
      },
    };
  });
}

async function get(url: string): Promise<{ status: number; type: string; body: Buffer; disposition: string | undefined }> {
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
    disposition: res.headers.get('content-disposition') ?? undefined,
  };
}

describe('edgecam view', () => {
  it('relays a seed server\'s stream to a local page, with stats and snapshots, until Ctrl-C', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const run = spawnCli(['--port', String(seed.port), 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/127\.0\.0\.1:\d+\/) \(relaying 127\.0\.0\.1:\d+, legacy protocol; Ctrl-C to stop\)/);

    const page = await get(url!);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body.toString()).toContain('<img id="stream" src="/stream.mjpg?advance_headers=1"');
    expect(page.body.toString()).toContain('href="/snapshot.jpg" download');

    const { contentType, parts } = await readParts(`${url}stream.mjpg`, 5);
    expect(contentType).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    for (const p of parts) expect(isWholeJpeg(p)).toBe(true);

    const snap = await get(`${url}snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.type).toBe('image/jpeg');
    expect(snap.disposition).toMatch(/^attachment; filename="snapshot_\d+\.jpg"$/);
    expect(readJpegInfo(snap.body)).toMatchObject({ width: 160, height: 120 });

    await waitFor(() => seed.framesSent() > 20, 'frames for a rate');
    const stats = JSON.parse((await get(`${url}stats.json`)).body.toString()) as Record<string, unknown>;
    expect(stats).toMatchObject({ connected: true, protocol: 'legacy', width: 160, height: 120 });
    // A rate is measured and shown; its value is the machine's load as much as the relay's.
    expect(stats.fps).toBeGreaterThan(0);
    expect(stats.frames).toBeGreaterThan(0);

    expect((await get(`${url}nope`)).status).toBe(404);
    expect((await fetch(url!, { method: 'POST' })).status).toBe(405);

    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    await waitFor(() => seed.commands.includes('q'), 'the stop command');
    expect(seed.commands.slice(1)).toEqual(['3', 'q']);
  });

  it('sends the next part\'s headers right after each frame when the page asks with ?advance_headers=1', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const run = spawnCli(['--port', String(seed.port), 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/127\.0\.0\.1:\d+\/) /);
    const parts = await readHeadersAhead(`${url}stream.mjpg?advance_headers=1`, 3);
    for (const p of parts) expect(isWholeJpeg(p)).toBe(true);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(0);
  });

  it('relays a v2 server and names it', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => v2.close());
    const run = spawnCli(['--port', String(v2.port), 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/[\d.:]+\/) \(relaying [\d.:]+, v2 protocol, fake-v2 0\.0\.0; Ctrl-C to stop\)/);
    const { parts } = await readParts(`${url}stream.mjpg`, 3);
    expect(parts.every((p) => testFrames().some((f) => f.equals(p)))).toBe(true);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(v2.commands).toEqual(['3', 'q']);
  });

  it('answers only requests addressed to it (DNS rebinding), and warns when listening beyond loopback', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => v2.close());
    const run = spawnCli(['--port', String(v2.port), 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, port] = await run.waitForOutput(/open http:\/\/127\.0\.0\.1:(\d+)\//);
    const withHost = (path: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: Number(port), path, headers: { host } }, (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    for (const path of ['/', '/snapshot.jpg', '/stats.json', '/stream.mjpg']) {
      const evil = await withHost(path, `evil.example:${port}`);
      expect(evil.status).toBe(403);
      expect(evil.body).toBe(`forbidden: Host "evil.example:${port}" is not this viewer's address; open http://127.0.0.1:${port}/ (or localhost) instead\n`);
    }
    expect((await withHost('/', 'evil.example')).status).toBe(403);
    expect((await withHost('/', `127.0.0.1:${Number(port) + 1}`)).status).toBe(403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const ok = await withHost('/', host);
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('<img id="stream"');
    }
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');

    const open = spawnCli(['--port', String(v2.port), 'view', '--listen', '0.0.0.0:0'], { cwd: tempDir() });
    await open.waitForOutput(/open http:\/\/0\.0\.0\.0:\d+\//);
    expect(open.output().stderr).toMatch(/^edgecam view: warning: listening on 0\.0\.0\.0:\d+, so anyone who can reach it sees the camera without a token or password/);
    open.child.kill('SIGINT');
    expect((await open.done).code).toBe(0);
  });
});
