// Clients that hold a TCP slot and give nothing back: a v2 client that said HELLO and then
// nothing (closed with IDLE_TIMEOUT after --idle-timeout, unless it streams or pings), and a
// streaming client whose socket takes nothing (closed after the stall timeout, as HTTP viewers are).
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CountingClient, V2Client } from './support/clients.js';
import { padJpeg, testPatternJpegs } from './support/jpegs.js';
import { PacedSource } from './support/paced-source.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const FPS = 25;
let small: Buffer;
let server: TestServer | null = null;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  [small] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = null;
});

async function start(overrides: Parameters<typeof startTestServer>[0], frame: Buffer, stallTimeoutMs?: number): Promise<TestServer> {
  const source = new PacedSource([frame], { fps: FPS, width: 160, height: 120 });
  server = await startTestServer(overrides, { source, statsIntervalMs: 0, ...(stallTimeoutMs ? { tcpLimits: { stallTimeoutMs } } : {}) });
  return server;
}

async function v2(port: number): Promise<V2Client> {
  const c = await V2Client.connect(port);
  clients.push(c);
  await c.waitFor('welcome');
  return c;
}

describe('v2 clients and --idle-timeout', () => {
  it('closes a v2 client that said HELLO and nothing more with IDLE_TIMEOUT, and lets the next client in', async () => {
    const s = await start({ idleTimeout: 0.4, maxClients: 2 }, small);
    const idle = [await v2(s.tcpPort), await v2(s.tcpPort)];
    // Full: a third is refused while the two idle ones hold their slots.
    const refused = await V2Client.connect(s.tcpPort);
    clients.push(refused);
    expect((await refused.waitFor('error'))[0]!.error.code).toBe('TOO_MANY_CLIENTS');

    for (const c of idle) await c.waitClosed(5000);
    for (const c of idle) expect(c.of('error').map((m) => m.error.code)).toEqual(['IDLE_TIMEOUT']);
    const next = await v2(s.tcpPort);
    next.command('3');
    await next.waitFor('frame', 3);
  });

  it('keeps a v2 client that pings more often than the timeout, and one that streams', async () => {
    const s = await start({ idleTimeout: 0.4 }, small);
    const pinger = await v2(s.tcpPort);
    const streaming = await v2(s.tcpPort);
    streaming.command('3');
    // 1.5 s is more than three idle timeouts; the pinger pings every 100 ms.
    for (let i = 0; i < 15; i++) {
      pinger.ping(Buffer.alloc(8, i));
      await sleep(100);
    }
    await pinger.waitFor('pong', 15);
    expect(pinger.ended).toBe(false);
    expect(streaming.ended).toBe(false);
    const frames = streaming.of('frame').length;
    await streaming.waitFor('frame', frames + 3);
  });
});

describe('the stall timeout of streaming TCP clients', () => {
  it('closes a streaming client whose socket takes nothing, and keeps serving a reading one', async () => {
    // 200 kB frames fill loopback's socket buffers within a few frames once the client stops reading.
    const s = await start({ idleTimeout: 0 }, padJpeg(small, 200_000), 300);
    const sockets = new Set<Socket>();
    const stalled = await CountingClient.start(s.tcpPort, 'v2', sockets);
    const reading = await CountingClient.start(s.tcpPort, 'legacy', sockets);
    clients.push({ close: () => sockets.forEach((x) => x.destroy()) });
    await waitUntil(() => stalled.frames >= 2 && reading.frames >= 2, 10_000, 'both clients streaming');
    stalled.socket.pause();

    // Generous: buffers fill in well under a second, then 300 ms of stall. A paused socket
    // learns of the close only once it reads again, so the server's side is watched.
    await waitUntil(() => s.registry.count('v2') === 0, 15_000, 'the server to drop the stalled client');
    expect(s.log.lines.some((l) => l.msg === 'client takes no data; closing')).toBe(true);
    stalled.socket.resume();
    await waitUntil(() => stalled.closed, 10_000, 'the stalled client to see the close');
    const before = reading.frames;
    await waitUntil(() => reading.frames >= before + 5, 10_000, 'the reading client to go on');
    expect(reading.closed).toBe(false);
  });
});
