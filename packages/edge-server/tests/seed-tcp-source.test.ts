// tcp:// against a server that behaves as the seed's does (tests/support/fake_seed_server.py, a
// child process with threads and one global stream flag) and against hostile ones: it asks with
// `3`, lets go with `q`, never sends anything else, never makes the seed write `Unknown command`,
// and names every way a server breaks the framing.
import net, { type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import type { Subscription } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSeedTcpSource, type SeedTcpSourceOptions } from '../src/sources/seed-tcp-source.js';
import type { SourceEvent } from '../src/sources/source.js';
import { startFakeSeed, type FakeSeed } from './support/fake-seed.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

let jpegs: Buffer[];
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 4);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function seed(fps = 20): Promise<FakeSeed> {
  const s = await startFakeSeed({ jpegs, fps });
  cleanups.push(() => s.close());
  return s;
}

/** The source's capture, subscribed, with every event kept. */
function capture(port: number, over: Partial<SeedTcpSourceOptions> = {}) {
  const source = createSeedTcpSource({
    host: '127.0.0.1',
    port,
    width: 160,
    height: 120,
    fps: 20,
    logger: memoryLogger('silent').logger,
    tuning: { initialBackoffMs: 100, maxBackoffMs: 400, stallTimeoutMs: 3000 },
    ...over,
  });
  const events: SourceEvent[] = [];
  let sub: Subscription | null = source.capture().subscribe((e) => events.push(e));
  const stop = async () => {
    sub?.unsubscribe();
    sub = null;
    await source.settled();
  };
  cleanups.push(stop);
  return {
    source,
    events,
    stop,
    frames: () => events.flatMap((e) => (e.type === 'frame' ? [e.frame] : [])),
    errors: () => events.flatMap((e) => (e.type === 'state' && e.error !== undefined ? [e.error] : [])),
  };
}

const connections = (s: FakeSeed) => s.log.filter((l) => l.startsWith('connected by ')).length;
const unknown = (s: FakeSeed) => s.log.filter((l) => l.startsWith('Unknown command'));

describe('tcp:// against the seed’s server', () => {
  it('streams its JPEGs as they are, in camera order, over one connection asked with 3', async () => {
    const s = await seed();
    const c = capture(s.port);
    expect(c.source).toMatchObject({ kind: 'tcp', spec: `tcp://127.0.0.1:${s.port}` });
    await waitUntil(() => c.frames().length >= 12, 15_000, '12 frames');
    const order = c.frames().map((f) => jpegs.findIndex((j) => j.equals(f.jpeg)));
    expect(order.every((i) => i >= 0)).toBe(true);
    for (let i = 1; i < order.length; i++) expect(order[i]).toBe((order[i - 1]! + 1) % jpegs.length);
    const times = c.frames().map((f) => f.captureTimeUs);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    expect(c.events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['starting', 'running']);
    expect(connections(s)).toBe(1);
    expect(s.commands()).toEqual(['3']);
  });

  it('sends q before it closes, and the seed then stops streaming and sees the connection close', async () => {
    const s = await seed();
    const c = capture(s.port);
    await waitUntil(() => c.frames().length >= 3, 15_000, '3 frames');
    await c.stop();
    await waitUntil(() => s.log.includes('connection closed'), 10_000, 'the seed to see the connection close');
    expect(s.commands()).toEqual(['3', 'q']);
    expect(unknown(s)).toEqual([]);
  });

  it('keeps 3 and q apart when it lets go right after asking, and the next connection streams again', async () => {
    const s = await seed();
    // Let go in the same tick as 3 leaves (from the log line that says so): q must still reach the
    // seed in a recv() of its own, or the seed reads `3q` and writes `Unknown command`.
    let first: ReturnType<typeof capture> | undefined;
    let stopped: Promise<void> | undefined;
    const logger = pino({ level: 'debug' }, { write: (line: string) => void (line.includes('asked the camera to stream') && (stopped ??= first!.stop())) });
    first = capture(s.port, { logger });
    await waitUntil(() => stopped !== undefined, 10_000, 'the 3');
    await stopped;
    const second = capture(s.port);
    await waitUntil(() => second.frames().length >= 3, 15_000, 'frames on the second connection');
    expect(unknown(s)).toEqual([]);
    expect(s.commands()).toEqual(['3', 'q', '3']);
    // The second connection was made after the first had closed, so its 3 came after the q.
    const seen = s.log.filter((l) => /^(connected by|connection closed|received command)/.test(l));
    expect(seen).toEqual([expect.stringMatching(/^connected by/), "received command: '3'", "received command: 'q'", 'connection closed', expect.stringMatching(/^connected by/), "received command: '3'"]);
  });

  it('opens no connection before it is consumed', async () => {
    const s = await seed();
    const source = createSeedTcpSource({ host: '127.0.0.1', port: s.port, width: 160, height: 120, fps: 20, logger: memoryLogger('silent').logger });
    await source.settled();
    // A server that answers at all has printed its own connection by the time it streams to another.
    const other = capture(s.port);
    await waitUntil(() => other.frames().length >= 1, 15_000, 'a frame for the consumed source');
    expect(connections(s)).toBe(1);
  });

  it('picks the server up again after it is killed and started anew on the same port', async () => {
    const s = await seed();
    const c = capture(s.port);
    await waitUntil(() => c.frames().length >= 3, 15_000, '3 frames');
    await s.kill();
    await waitUntil(() => c.errors().length >= 1, 10_000, 'the loss reported');
    expect(c.errors()[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1:${s.port} closed the connection|^could not connect to 127\\.0\\.0\\.1:${s.port}: connection refused`));
    const before = c.frames().length;
    await s.restart();
    await waitUntil(() => c.frames().length >= before + 3, 15_000, 'frames from the restarted server');
    expect(s.runLog().filter((l) => l.startsWith('received command: '))).toEqual(["received command: '3'"]);
    expect(unknown(s)).toEqual([]);
    expect(c.events.some((e) => e.type === 'restart')).toBe(true);
  });
});

/** A TCP server on loopback whose every connection is handed to `script`; what clients send is kept. */
async function hostile(script: (socket: Socket, index: number) => void): Promise<{ port: number; received: () => string; accepted: () => number }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    script(socket, accepted++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, received: () => Buffer.concat(chunks).toString('latin1'), accepted: () => accepted };
}

const header = (n: number) => {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(n);
  return h;
};
/** Runs on each `3` a server reads. */
const onStream = (send: (s: Socket) => void) => (socket: Socket) => socket.on('data', (d: Buffer) => d.includes(0x33) && send(socket));

describe('tcp:// against hostile servers', () => {
  it.each([
    {
      name: 'text in place of a frame',
      script: onStream((s) => s.write(Buffer.concat([header(jpegsLength(0)), jpegAt(0), Buffer.from('Unknown command')]))),
      error: /^the camera sent text where a frame should be: "Unknown command"; it answers a command it does not know with text/,
    },
    {
      name: 'a length over the limit',
      script: onStream((s) => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xd8]))),
      error: /^the camera announced a frame of 2147483647 bytes, over the limit of 16777216 bytes; refusing it$/,
    },
    {
      name: 'a frame that is no JPEG',
      script: onStream((s) => s.write(Buffer.concat([header(6), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])]))),
      error: /^the camera sent a frame that is not a JPEG \(6 bytes: 89 50 4e 47 0d 0a\); its stream cannot be trusted$/,
    },
    {
      name: 'a cut in the middle of a frame',
      script: onStream((s) => s.write(Buffer.concat([header(5000), Buffer.alloc(100, 0xd8)]), () => s.destroy())),
      error: /closed the connection in the middle of a frame \(104 bytes of it had arrived\)$/,
    },
    { name: 'silence', script: () => undefined, error: /^no frame from 127\.0\.0\.1:\d+ within [\d.]+ s of connecting/ },
  ])('names $name as the camera’s fault, reconnects, and sends nothing but 3 and q', async ({ script, error }) => {
    const server = await hostile(script);
    const c = capture(server.port, { tuning: { initialBackoffMs: 50, maxBackoffMs: 100, stallTimeoutMs: 800 } });
    await waitUntil(() => server.accepted() >= 2 && c.errors().length >= 1, 15_000, () => `a fault and a reconnection (have ${c.errors().join(' | ')})`);
    expect(c.errors()[0]).toMatch(error);
    await c.stop();
    expect(server.received()).toMatch(/^[3q]+$/);
  });

  it('takes frames that trickle in a byte at a time', async () => {
    const frame = Buffer.concat([header(jpegsLength(1)), jpegAt(1)]);
    const server = await hostile(
      onStream((s) => {
        let i = 0;
        const t = setInterval(() => {
          // Several bytes per tick: one byte each would take minutes for a real JPEG.
          if (s.destroyed || i >= frame.length) return clearInterval(t);
          s.write(frame.subarray(i, (i += 97)));
        }, 1);
      }),
    );
    const c = capture(server.port);
    await waitUntil(() => c.frames().length >= 1, 15_000, 'the trickled frame');
    expect(c.frames()[0]!.jpeg.equals(jpegAt(1))).toBe(true);
  });
});

function jpegAt(i: number): Buffer {
  return jpegs[i]!;
}
function jpegsLength(i: number): number {
  return jpegs[i]!.length;
}
