// An HTTP MJPEG camera as a source: pulled from a real edgecam-server and from hand-made fake
// cameras that misbehave in the ways real ones do. Everything on loopback.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { isWholeJpeg } from '@edgecam/protocol';
import { createHttpMjpegSource, type HttpMjpegSourceOptions } from '../src/sources/http-mjpeg-source.js';
import type { SourceEvent } from '../src/sources/source.js';
import { LegacyClient } from './support/clients.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger, type MemoryLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

let jpegs: Buffer[];
const servers: TestServer[] = [];
const fakes: { server: Server; sockets: Set<Socket> }[] = [];
const captures: Subscription[] = [];
const clients: LegacyClient[] = [];

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 3);
});

afterEach(async () => {
  for (const c of captures.splice(0)) c.unsubscribe();
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(
    fakes.splice(0).map(
      (f) =>
        new Promise<void>((r) => {
          for (const s of f.sockets) s.destroy();
          f.server.close(() => r());
        }),
    ),
  );
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A fake camera on an ephemeral loopback port. */
async function fakeCamera(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  fakes.push({ server, sockets });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Starts a multipart response and writes one part per JPEG, with or without Content-length. */
function mjpegHead(res: ServerResponse, boundary = 'frame'): void {
  res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${boundary}` });
}
function mjpegPart(res: ServerResponse, jpeg: Buffer, o: { length?: boolean; boundary?: string } = {}): void {
  const length = o.length === false ? '' : `Content-Length: ${jpeg.length}\r\n`;
  res.write(Buffer.concat([Buffer.from(`--${o.boundary ?? 'frame'}\r\nContent-Type: image/jpeg\r\n${length}\r\n`), jpeg, Buffer.from('\r\n')]));
}

/** Subscribes to the source's capture, keeping every event. */
function run(opts: Partial<HttpMjpegSourceOptions> & { url: string }): { events: SourceEvent[]; log: MemoryLogger; frames: () => Buffer[]; errors: () => string[] } {
  const log = memoryLogger();
  const source = createHttpMjpegSource({
    width: 160,
    height: 120,
    fps: 20,
    logger: log.logger,
    tuning: { initialBackoffMs: 50, maxBackoffMs: 200, stallTimeoutMs: 5000 },
    ...opts,
  });
  const events: SourceEvent[] = [];
  captures.push(source.capture().subscribe((e) => events.push(e)));
  return {
    events,
    log,
    frames: () => events.flatMap((e) => (e.type === 'frame' ? [e.frame.jpeg] : [])),
    errors: () => events.flatMap((e) => (e.type === 'state' && e.error !== undefined ? [e.error] : [])),
  };
}

describe('http:// MJPEG source', () => {
  it('relays another edgecam-server’s /stream.mjpg, JPEG for JPEG', async () => {
    const upstream = await startTestServer({ httpPort: 0 });
    servers.push(upstream);
    const server = await startTestServer({ source: { kind: 'http', url: `http://127.0.0.1:${upstream.httpPort}/stream.mjpg`, insecure: false } });
    servers.push(server);
    const c = await LegacyClient.connect(server.tcpPort);
    clients.push(c);
    c.write('3');
    const frames = await c.waitForFrames(5);
    expect(frames.every((f) => isWholeJpeg(f))).toBe(true);
    expect(server.hub.info()).toMatchObject({ kind: 'http', state: 'running', width: 160, height: 120 });
    expect(server.hub.info().spec).toBe(`http://127.0.0.1:${upstream.httpPort}/stream.mjpg`);
    expect(server.ffmpeg).toBeNull();
  });

  it('reports why the camera is down in the hub, which shows no signal meanwhile', async () => {
    const { url } = await fakeCamera((_req, res) => res.writeHead(401).end());
    const server = await startTestServer(
      { source: { kind: 'http', url: url.replace('http://', 'http://viewer:hunter2@') + '/mjpg', insecure: false }, alwaysOn: true },
      { supervisor: { initialBackoffMs: 50 } },
    );
    servers.push(server);
    await waitUntil(() => server.hub.info().restarts >= 1, 10_000, 'a reconnection');
    expect(server.hub.info()).toMatchObject({ kind: 'http', state: expect.stringMatching(/^(restarting|starting)$/), noSignal: true });
    expect(server.hub.info().lastError).toMatch(/^the camera refused the credentials \(HTTP 401 Unauthorized\)/);
    expect(server.hub.info().spec).toBe(`${url.replace('http://', 'http://viewer:***@')}/mjpg`);
    expect(JSON.stringify(server.log.lines)).not.toContain('hunter2');
  });

  it('splits parts that have no Content-Length at the boundary, across any chunking', async () => {
    const { url } = await fakeCamera((_req, res) => {
      mjpegHead(res, '--myboundary');
      // One byte at a time for the first part, so the delimiter straddles every chunk edge.
      const part = Buffer.concat([Buffer.from('--myboundary\r\nContent-Type: image/jpeg\r\n\r\n'), jpegs[0]!, Buffer.from('\r\n')]);
      for (let i = 0; i < part.length; i++) res.write(part.subarray(i, i + 1));
      for (const j of jpegs.slice(1)) mjpegPart(res, j, { length: false, boundary: 'myboundary' });
      res.write('--myboundary\r\n');
    });
    const r = run({ url });
    await waitUntil(() => r.frames().length >= 3, 10_000, 'three frames');
    expect(r.frames().slice(0, 3).map((f, i) => f.equals(jpegs[i]!))).toEqual([true, true, true]);
  });

  it('sends the URL’s user and password as Basic auth, and says when the camera refuses them, password masked', async () => {
    let authorization: string | undefined;
    const { url } = await fakeCamera((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    });
    const r = run({ url: url.replace('http://', 'http://admin:s3cret@') + '/stream' });
    await waitUntil(() => r.errors().length > 0, 10_000, 'an error');
    expect(authorization).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(r.errors()[0]).toMatch(/^the camera refused the credentials \(HTTP 401 Unauthorized\)/);
    expect(JSON.stringify(r.log.lines)).not.toContain('s3cret');
    expect(JSON.stringify(r.log.lines)).toContain('admin:***@');
  });

  it('takes credentials from the factory in place of the URL’s, and asks for them when there are none', async () => {
    const seen: (string | undefined)[] = [];
    const { url } = await fakeCamera((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401).end();
    });
    const withCreds = run({ url: url.replace('http://', 'http://old:old@') + '/', credentials: { username: 'cam', password: 'pw:1' } });
    await waitUntil(() => withCreds.errors().length > 0, 10_000, 'an error');
    expect(seen[0]).toBe(`Basic ${Buffer.from('cam:pw:1').toString('base64')}`);
    const none = run({ url: `${url}/` });
    await waitUntil(() => none.errors().length > 0, 10_000, 'an error');
    expect(none.errors()[0]).toContain('the camera wants a user and password (HTTP 401');
  });

  it('refuses a response that is not multipart, naming its Content-Type with control characters shown', async () => {
    const { url } = await fakeCamera((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; x=\x85' }).end('<html>login</html>');
    });
    const r = run({ url });
    await waitUntil(() => r.errors().length > 0, 10_000, 'an error');
    expect(r.errors()[0]).toContain('not an MJPEG stream: the camera sent Content-Type "text/html; x=\\\\x85"');
  });

  it('keeps memory bounded when a part without Content-Length never reaches a boundary', async () => {
    const { url } = await fakeCamera((_req, res) => {
      mjpegHead(res);
      res.write('--frame\r\nContent-Type: image/jpeg\r\n\r\n');
      const junk = Buffer.alloc(16 * 1024, 0x41);
      const timer = setInterval(() => res.write(junk), 1);
      res.on('close', () => clearInterval(timer));
    });
    const r = run({ url, maxFrameBytes: 256 * 1024 });
    await waitUntil(() => r.errors().length > 0, 10_000, 'an error');
    expect(r.errors()[0]).toContain('bad MJPEG from the camera: mpjpeg part without Content-length grew past the 262144-byte limit with no boundary');
  });

  it('reconnects a camera that stalls', async () => {
    let connections = 0;
    const { url } = await fakeCamera((_req, res) => {
      connections++;
      mjpegHead(res);
      mjpegPart(res, jpegs[0]!); // then nothing
    });
    const r = run({ url, tuning: { initialBackoffMs: 50, stallTimeoutMs: 300 } });
    await waitUntil(() => connections >= 2, 10_000, 'a reconnection');
    expect(r.errors()[0]).toMatch(/^no frame from the camera for \d/);
    expect(r.events.some((e) => e.type === 'restart')).toBe(true);
  });

  it('says the connection was refused, and resumes frames once the camera comes back', async () => {
    const { url, server } = await fakeCamera((_req, res) => {
      mjpegHead(res);
      const timer = setInterval(() => mjpegPart(res, jpegs[0]!), 20);
      res.on('close', () => clearInterval(timer));
    });
    const port = (server.address() as AddressInfo).port;
    const r = run({ url });
    await waitUntil(() => r.frames().length >= 2, 10_000, 'first frames');
    for (const f of fakes) for (const s of f.sockets) s.destroy();
    await new Promise<void>((res) => server.close(() => res()));
    await waitUntil(() => r.errors().some((e) => e.includes('connection refused')), 10_000, 'connection refused');
    expect(r.errors().find((e) => e.includes('refused'))).toContain(`could not read from 127.0.0.1:${port}: connection refused`);
    const before = r.frames().length;
    await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
    await waitUntil(() => r.frames().length >= before + 2, 10_000, 'frames after the camera came back');
    expect(r.events.at(-1)).toMatchObject({ type: 'frame' });
    expect(r.events.filter((e) => e.type === 'state' && e.state === 'running').length).toBeGreaterThanOrEqual(2);
  });
});
