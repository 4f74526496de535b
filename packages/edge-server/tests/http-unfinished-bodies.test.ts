// Request bodies that never finish: a WHEP offer whose client goes away mid-body, stays silent
// until the server's request timeout, or sends a broken Transfer-Encoding. Each once rejected a
// promise nobody caught, and the process ended with `Error: aborted`. The server must drop that
// request and go on answering others.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { H264Hub } from '../src/h264/h264-hub.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';
import { H264Routes } from '../src/h264/h264-routes.js';
import { readBody } from '../src/http/read-body.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { RecordingRegistry } from './http-fixtures/fake-registry.js';
import { memoryLogger } from './support/logger.js';

let server: Server | undefined;
let hub: H264Hub | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await hub?.close();
  server = hub = undefined;
});

/** A plain server with the WHEP routes; `closed` resolves each time a server-side socket closes. */
async function serveWhep(options: { requestTimeout?: number } = {}): Promise<{ port: number; socketClosed: () => Promise<void> }> {
  const logger = memoryLogger('warn').logger;
  const h = new H264Hub({ name: 'front', hub: new FakeHub(), logger }, h264ConfigSchema.parse({ enabled: true }), { ffmpeg: resolveFfmpeg() });
  hub = h;
  const routes = new H264Routes({ hubOf: (n) => (n === 'front' ? h : undefined), registry: new RecordingRegistry(), maxClients: 0, logger });
  const s = createServer({ requestTimeout: options.requestTimeout ?? 300_000, connectionsCheckingInterval: 50 }, (req, res) => {
    if (!routes.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(418).end();
  });
  server = s;
  const waiting: Array<() => void> = [];
  s.on('connection', (socket: Socket) => socket.on('close', () => waiting.splice(0).forEach((w) => w())));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as AddressInfo).port,
    socketClosed: () => new Promise<void>((r) => waiting.push(r)),
  };
}

/** Opens a connection and writes `head` (and no more). */
function rawRequest(port: number, head: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      resolve(socket);
    });
    socket.on('error', reject);
    socket.on('data', () => {});
  });
}

/** One turn of the event loop after the rejections the last events could have made are reported. */
const afterRejectionsReported = () => new Promise<void>((r) => setTimeout(r, 0));

/** The server still answers: a 404 for a camera without H.264 is a whole round trip through the route. */
async function stillAnswers(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/cams/back/whep`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0' });
  expect(res.status).toBe(404);
}

const OFFER_HEAD = 'POST /cams/front/whep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sdp\r\n';

describe('a WHEP offer whose body never finishes', () => {
  it('is dropped when the client goes away mid-body, and the server goes on', async () => {
    const { port, socketClosed } = await serveWhep();
    const closed = socketClosed();
    const socket = await rawRequest(port, `${OFFER_HEAD}Content-Length: 5000\r\n\r\nv=0\r\nm=video 9`);
    socket.destroy();
    await closed;
    await afterRejectionsReported();
    expect(unhandled).toEqual([]);
    await stillAnswers(port);
  });

  it('is dropped when the client stays silent until the request timeout', async () => {
    const { port, socketClosed } = await serveWhep({ requestTimeout: 300 });
    const closed = socketClosed();
    const socket = await rawRequest(port, `${OFFER_HEAD}Content-Length: 5000\r\n\r\nv=0\r\n`);
    await closed;
    socket.destroy();
    await afterRejectionsReported();
    expect(unhandled).toEqual([]);
    await stillAnswers(port);
  });

  it('is dropped when the client sends Transfer-Encoding: xchunked', async () => {
    const { port, socketClosed } = await serveWhep();
    const closed = socketClosed();
    const socket = await rawRequest(port, `${OFFER_HEAD}Transfer-Encoding: xchunked\r\n\r\nv=0\r\nm=video 9 UDP`);
    socket.end();
    await closed;
    await afterRejectionsReported();
    expect(unhandled).toEqual([]);
    await stillAnswers(port);
  });

  it('is refused with 413 when it is larger than an offer can be', async () => {
    const { port } = await serveWhep();
    const res = await fetch(`http://127.0.0.1:${port}/cams/front/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: 'a'.repeat(200 * 1024),
    }).catch((err: Error) => err);
    // The server answers before it has read the body, then closes; a client may see either.
    if (res instanceof Response) {
      expect(res.status).toBe(413);
      expect(await res.text()).toMatch(/larger than 65536 bytes/);
    } else {
      expect(res.message).toMatch(/fetch failed|socket|closed/i);
    }
    await stillAnswers(port);
  });
});

describe('readBody', () => {
  it('settles with aborted, never rejects, when the request errors mid-body', async () => {
    const results: unknown[] = [];
    const done: Array<() => void> = [];
    const s = createServer((req) => {
      void readBody(req, 1024).then((r) => {
        results.push(r);
        done.splice(0).forEach((d) => d());
      });
    });
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const settled = new Promise<void>((r) => done.push(r));
    const socket = await rawRequest((s.address() as AddressInfo).port, 'PUT /settings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"fps"');
    socket.destroy();
    await settled;
    expect(results).toEqual([{ ok: false, reason: 'aborted' }]);
  });
});
