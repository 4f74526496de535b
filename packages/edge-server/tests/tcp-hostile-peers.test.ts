// Peers that are not camera clients, or stop being one halfway: floods of silent connections,
// connections that never say anything, garbage, resets in the middle of a frame, half-closed
// sockets. The server must stay up, free what they held, and keep serving real clients.
import { connect, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { V2_MAGIC, encodeHello } from '@edgecam/protocol';
import { MAX_UNKNOWN_BYTES } from '../src/tcp/legacy-connection.js';
import { LegacyClient, V2Client } from './support/clients.js';
import { padJpeg, testPatternJpegs } from './support/jpegs.js';
import { PacedSource } from './support/paced-source.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const FPS = 25;
let small: Buffer;
let big: Buffer;
let server: TestServer | null = null;
const sockets: Socket[] = [];

beforeAll(async () => {
  [small] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
  big = padJpeg(small, 200_000);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = null;
});

interface RawPeer {
  socket: Socket;
  closed: boolean;
  closedAt: number;
  received: number;
}

function rawPeer(port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    const peer: RawPeer = { socket, closed: false, closedAt: 0, received: 0 };
    socket.on('data', (d: Buffer) => (peer.received += d.length));
    socket.on('error', () => {}); // a reset from the server is expected here
    socket.on('close', () => {
      peer.closed = true;
      peer.closedAt = performance.now();
    });
    socket.once('connect', () => resolve(peer));
    socket.once('error', reject);
  });
}

async function start(overrides: Parameters<typeof startTestServer>[0], frame = small): Promise<TestServer> {
  const source = new PacedSource([frame], { fps: FPS, width: 160, height: 120 });
  server = await startTestServer(overrides, { source, statsIntervalMs: 0 });
  return server;
}

function logged(s: TestServer, msg: string): Record<string, unknown>[] {
  return s.log.lines.filter((l) => l.msg === msg);
}

describe('connections that have not sent a byte (--max-pending)', () => {
  it('are limited: the oldest is closed to admit a new one, so a flood cannot lock a real client out', async () => {
    // All peers share 127.0.0.1: no per-address limit, so --max-pending alone is at work.
    const s = await start({ maxPending: 4, maxPerAddress: 0 });
    const flood: RawPeer[] = [];
    for (let i = 0; i < 10; i++) flood.push(await rawPeer(s.tcpPort));
    await waitUntil(() => flood.filter((p) => p.closed).length >= 6, 10_000, 'six evictions');
    await sleep(100);
    expect(flood.map((p) => p.closed)).toEqual([true, true, true, true, true, true, false, false, false, false]);
    expect(s.tcp.pendingCount).toBe(4);
    expect(s.tcp.evictedCount).toBe(6);
    expect(flood.every((p) => p.received === 0)).toBe(true);

    // A real client arrives during the flood: it evicts one more silent peer and is served.
    const client = await LegacyClient.connect(s.tcpPort);
    client.write('0');
    const [frame] = await client.waitForFrames(1);
    expect(frame!.equals(small)).toBe(true);
    await waitUntil(() => flood[6]!.closed, 5000, 'the seventh eviction');
    expect(s.tcp.pendingCount).toBe(3);
    // One warning for the burst, not one per connection.
    expect(logged(s, 'too many connections that sent nothing; closed the oldest')).toHaveLength(1);
    client.close();
  });
});

describe('--idle-timeout', () => {
  it('closes a connection that never sent anything and a legacy client that stopped asking, and keeps streaming legacy and v2 clients', async () => {
    const s = await start({ idleTimeout: 0.4, helloTimeout: 60 });
    const t0 = performance.now();
    const silent = await rawPeer(s.tcpPort);
    const single = await LegacyClient.connect(s.tcpPort);
    single.write('0');
    await single.waitForFrames(1);
    const streaming = await LegacyClient.connect(s.tcpPort);
    streaming.write('3');
    const v2 = await V2Client.connect(s.tcpPort);
    await v2.waitFor('welcome');
    // A v2 client that neither streams nor sends is idle too (IDLE_TIMEOUT, tcp-timeouts.test.ts).
    v2.command('3');

    await waitUntil(() => silent.closed && single.ended, 5000, 'the idle connections to be closed');
    expect(silent.closedAt - t0).toBeGreaterThanOrEqual(350);
    expect(single.frames).toHaveLength(1);
    await sleep(1000); // more than twice the timeout
    expect(streaming.ended).toBe(false);
    expect(v2.ended).toBe(false);
    const before = streaming.frames.length;
    await streaming.waitForFrames(before + 5);
    expect(logged(s, 'connection idle too long; closing')).toHaveLength(2);
    streaming.close();
    v2.close();
  });

  it('is off with 0: a silent connection stays', async () => {
    const s = await start({ idleTimeout: 0 });
    const silent = await rawPeer(s.tcpPort);
    await sleep(600);
    expect(silent.closed).toBe(false);
    expect(s.tcp.pendingCount).toBe(1);
  });
});

describe('garbage', () => {
  it(`closes a legacy peer after ${MAX_UNKNOWN_BYTES} bytes that are no commands, without writing a byte to it`, async () => {
    const s = await start({});
    const peer = await rawPeer(s.tcpPort);
    // Random bytes minus the commands, whitespace and 'E' (which would mean a v2 client).
    const junk = Buffer.alloc(4 * MAX_UNKNOWN_BYTES);
    const allowed = [...Array(256).keys()].filter((b) => !'0123q E\t\r\n'.includes(String.fromCharCode(b)));
    for (let i = 0; i < junk.length; i++) junk[i] = allowed[(i * 7919 + 13) % allowed.length]!;
    for (let off = 0; off < junk.length && !peer.closed; off += 256) {
      peer.socket.write(junk.subarray(off, off + 256));
      await sleep(5);
    }
    await waitUntil(() => peer.closed, 5000, 'the garbage sender to be closed');
    expect(peer.received).toBe(0);
    expect(logged(s, 'client sends bytes that are no commands; closing')).toHaveLength(1);
    // Only the first unknown byte is worth a warning; the rest are counted.
    expect(logged(s, 'unknown command byte skipped').filter((l) => l.level === 40)).toHaveLength(1);
    const client = await LegacyClient.connect(s.tcpPort);
    client.write('0');
    await client.waitForFrames(1);
    client.close();
  });
});

describe('peers that vanish', () => {
  it('lets a v2 peer that hangs up inside its HELLO go without an ERROR or a warning', async () => {
    const s = await start({});
    const peer = await rawPeer(s.tcpPort);
    const hello = encodeHello({ client: 'test' });
    peer.socket.end(Buffer.concat([V2_MAGIC, hello.subarray(0, hello.length - 2)]));
    await waitUntil(() => peer.closed, 5000, 'the server to close it');
    expect(peer.received).toBe(0);
    expect(logged(s, 'protocol error; closing')).toEqual([]);
    await waitUntil(() => s.tcp.connectionCount === 0, 5000, 'the connection to be freed');
  });

  it('survives resets and closes in the middle of a frame and half-closed sockets, frees them, and keeps the healthy client at rate', async () => {
    const s = await start({ maxPerAddress: 0 }, big);
    const healthy = await LegacyClient.connect(s.tcpPort);
    healthy.write('3');
    await healthy.waitForFrames(5);

    const leavers: Array<LegacyClient | V2Client> = [];
    for (let i = 0; i < 4; i++) {
      const c = await LegacyClient.connect(s.tcpPort);
      c.write('3');
      leavers.push(c);
      const v = await V2Client.connect(s.tcpPort);
      v.command('3');
      leavers.push(v);
    }
    // Wait until each is inside a frame (some bytes of it arrived, not all), then leave: half
    // of them with a TCP reset, half with a plain close.
    const before = healthy.frames.length;
    const capturedBefore = s.hub.info().framesCaptured;
    await Promise.all(
      leavers.map(async (c, i) => {
        await waitUntil(() => c.bytesReceived > 70_000, 10_000, 'part of a frame');
        if (i % 2 === 0) c.socket.resetAndDestroy();
        else c.socket.destroy();
      }),
    );
    // Half-closed: asks for the stream, then shuts its sending side. The server ends too.
    const halfOpen = await LegacyClient.connect(s.tcpPort);
    halfOpen.write('3');
    await halfOpen.waitForFrames(1);
    halfOpen.socket.end();
    await halfOpen.waitClosed();

    await waitUntil(() => s.tcp.connectionCount === 1 && s.registry.count() === 1, 10_000, () => `the server to free them (${s.tcp.connectionCount} open)`);
    // A second's worth of frames more, however long the source takes for them on a loaded machine.
    await waitUntil(() => s.hub.info().framesCaptured - capturedBefore > FPS, 10_000, 'a second of frames');
    // At least 80% of what the source produced meanwhile (one frame of slack for the one in flight).
    const captured = s.hub.info().framesCaptured - capturedBefore;
    expect(captured).toBeGreaterThan(FPS);
    expect(healthy.frames.length - before).toBeGreaterThanOrEqual(captured * 0.8 - 1);
    expect(healthy.ended).toBe(false);
    expect(healthy.frames.every((f) => f.length === big.length)).toBe(true);
    // Nothing above warn: resets and broken pipes are a peer's business, not a server error.
    expect(s.log.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    healthy.close();
  });
});
