// Soak on loopback: 50 streaming connections (legacy and v2), 5 of them never reading, beside
// garbage senders, connect/disconnect floods, silent-connection floods and peers that vanish
// mid-frame, for SOAK_FRAMES source frames (12 s at full speed); and on the HTTP side two stream
// viewers, one that never reads, random bytes and half-sent requests. Healthy clients must get at
// least 80% of the frames the source produced meanwhile (counted, so a slowed source is no failure), the
// server must stay up and free what the misbehaving peers held, and its memory must not grow by
// more than MEMORY_BOUND_BYTES (heapUsed + external, after a forced GC, from the end of the
// warm-up to the end of the run).
//
// Bounded in time and CPU: a 160x120 test pattern padded to 40 kB at 20 fps (about 40 MB/s to
// all clients together), clients that count frames and keep none.
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_MAGIC, encodeHello, encodePing } from '@edgecam/protocol';
import { CountingClient, openSocket } from './support/clients.js';
import { padJpeg, testPatternJpegs } from './support/jpegs.js';
import { memoryLogger, type MemoryLogger } from './support/logger.js';
import { PacedSource } from './support/paced-source.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const FPS = 20;
const FRAME_BYTES = 40_000;
const HEALTHY_LEGACY = 23;
const HEALTHY_V2 = 22;
const STALLED = 5; // 50 streaming connections in all
const WARMUP_MS = 2000;
const SOAK_FRAMES = 240;
const MEMORY_BOUND_BYTES = 64 * 1024 * 1024;
const MAX_PENDING = 16;

// A forced GC makes the memory comparison about live data, not about when V8 last collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function retainedBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const sockets = new Set<Socket>();

const open = (port: number): Promise<Socket> => openSocket(port, sockets);

/** A GET /stream.mjpg viewer (player layout) that counts parts by their closing boundary. */
class CountingViewer {
  frames = 0;
  closed = false;
  private tail = Buffer.alloc(0);
  private delimiter: Buffer | null = null;
  private head = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => (this.closed = true));
  }

  static async start(port: number): Promise<CountingViewer> {
    const socket = await open(port);
    socket.write('GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: soak\r\n\r\n');
    return new CountingViewer(socket);
  }

  private onData(chunk: Buffer): void {
    if (!this.delimiter) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const boundary = /boundary=(\S+)/i.exec(this.head.subarray(0, end).toString('latin1'))![1]!;
      this.delimiter = Buffer.from(`\r\n--${boundary}\r\n`, 'latin1');
      chunk = this.head.subarray(end + 4);
    }
    // Every part is followed by the delimiter; keep the tail so one split across chunks counts.
    const data = Buffer.concat([this.tail, chunk]);
    for (let at = data.indexOf(this.delimiter); at !== -1; at = data.indexOf(this.delimiter, at + 1)) this.frames++;
    this.tail = Buffer.from(data.subarray(Math.max(0, data.length - this.delimiter.length + 1)));
  }
}

/** Runs `body` every `everyMs` until stopped; failures to connect are ignored (floods race). */
function loop(everyMs: number, body: () => Promise<void> | void): { stop: () => Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        await body();
      } catch {
        // a refused or reset connection is expected under a flood
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(Math.random() * 256);
  return b;
}

let server: TestServer;
let source: PacedSource;
// Warnings and errors only: a debug log of every connection, kept in memory, would be most of
// the memory growth measured here.
let log: MemoryLogger;

beforeAll(async () => {
  const [small] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
  source = new PacedSource([padJpeg(small, FRAME_BYTES)], { fps: FPS, width: 160, height: 120, catchUp: false });
  log = memoryLogger('warn');
  server = await startTestServer(
    // Every peer is 127.0.0.1 and there are 50 streaming clients: no client or per-address limit.
    { fps: FPS, maxPending: MAX_PENDING, idleTimeout: 5, httpPort: 0, maxClients: 0, maxPerAddress: 0 },
    { source, statsIntervalMs: 0, logger: log.logger },
  );
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server.close();
});

describe('soak', () => {
  it('keeps 45 healthy TCP clients and 2 HTTP viewers at 80% of the source rate among stalled readers, garbage and floods, with bounded memory', { timeout: 240_000 }, async () => {
    const port = server.tcpPort;
    const healthy: CountingClient[] = [];
    for (let i = 0; i < HEALTHY_LEGACY; i++) healthy.push(await CountingClient.start(port, 'legacy', sockets));
    for (let i = 0; i < HEALTHY_V2; i++) healthy.push(await CountingClient.start(port, 'v2', sockets));
    const stalled: CountingClient[] = [];
    for (let i = 0; i < STALLED; i++) {
      const c = await CountingClient.start(port, i % 2 === 0 ? 'legacy' : 'v2', sockets);
      c.socket.pause(); // never reads again
      stalled.push(c);
    }

    const httpPort = server.httpPort!;
    const viewers = [await CountingViewer.start(httpPort), await CountingViewer.start(httpPort)];
    const stalledViewer = await CountingViewer.start(httpPort);
    stalledViewer.socket.pause();

    const counts = { httpGarbage: 0, slowloris: 0, garbage: 0, v2Garbage: 0, glued: 0, churn: 0, vanished: 0, silent: 0, pingFlood: 0 };
    const misbehaving = [
      // Random bytes at the HTTP port: node's parser answers 400 and closes.
      loop(200, async () => {
        const s = await open(httpPort);
        s.write(randomBytes(2000));
        counts.httpGarbage++;
        await sleep(100);
        s.destroy();
      }),
      // A request that never finishes its headers (slowloris), held for a while.
      loop(300, async () => {
        const s = await open(httpPort);
        s.write('GET /stream.mjpg HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        counts.slowloris++;
        await sleep(2000);
        s.destroy();
      }),
      // Random bytes as a legacy peer: every other time with the command bytes (and 'E') taken
      // out, so it is closed for garbage rather than by a stray '2'.
      loop(150, async () => {
        const s = await open(port);
        const junk = randomBytes(3000);
        if (counts.garbage % 2 === 1) for (let i = 0; i < junk.length; i++) if ('0123qE'.includes(String.fromCharCode(junk[i]!))) junk[i] = 0x78;
        s.write(junk);
        counts.garbage++;
        await sleep(100);
        s.destroy();
      }),
      // A v2 opening followed by random messages: answered with ERROR and closed.
      loop(200, async () => {
        const s = await open(port);
        s.write(Buffer.concat([V2_MAGIC, randomBytes(500)]));
        counts.v2Garbage++;
        await sleep(100);
        s.destroy();
      }),
      // Valid commands glued in odd packets, streaming on and off, singles, acks.
      loop(100, async () => {
        const s = await open(port);
        s.on('data', () => {});
        for (let i = 0; i < 10; i++) s.write('03q1301q0');
        counts.glued++;
        await sleep(300);
        s.end('2');
      }),
      // Connect and leave at once, some with a reset.
      loop(20, async () => {
        const s = await open(port);
        counts.churn++;
        if (counts.churn % 2 === 0) s.resetAndDestroy();
        else s.destroy();
      }),
      // Ask for the stream, then vanish in the middle of a frame.
      loop(100, async () => {
        const s = await open(port);
        let got = 0;
        await new Promise<void>((resolve) => {
          s.on('data', (d: Buffer) => {
            got += d.length;
            if (got > FRAME_BYTES / 2) resolve();
          });
          s.on('close', () => resolve());
          s.write('3');
          setTimeout(resolve, 1000);
        });
        counts.vanished++;
        s.resetAndDestroy();
      }),
      // Bursts of silent connections, more than --max-pending.
      loop(1000, async () => {
        const burst = await Promise.all(Array.from({ length: MAX_PENDING * 2 }, () => open(port)));
        counts.silent += burst.length;
        await sleep(500);
        for (const s of burst) s.destroy();
      }),
      // A v2 client that sends PINGs and never reads: dropped once its PONGs pile up.
      loop(2000, async () => {
        const s = await open(port);
        s.pause();
        s.write(Buffer.concat([V2_MAGIC, encodeHello({ client: 'ping-flood' })]));
        const ping = encodePing(Buffer.alloc(8));
        for (let i = 0; i < 20_000 && !s.destroyed; i++) s.write(ping);
        counts.pingFlood++;
        await sleep(1000);
        s.destroy();
      }),
    ];

    await sleep(WARMUP_MS);
    const memoryBefore = retainedBytes();
    const emittedBefore = source.emitted;
    const framesBefore = healthy.map((c) => c.frames);
    const viewerFramesBefore = viewers.map((v) => v.frames);
    const soakStarted = performance.now();
    let peakQueued = 0;
    let peakConnections = 0;
    // As long as the source takes to produce SOAK_FRAMES frames: longer, not failing, when loaded.
    await waitUntil(
      () => {
        for (const q of server.tcp.queuedBytes()) peakQueued = Math.max(peakQueued, q.bytes);
        peakConnections = Math.max(peakConnections, server.tcp.connectionCount);
        return source.emitted - emittedBefore >= SOAK_FRAMES;
      },
      120_000,
      () => `the source to emit ${SOAK_FRAMES} frames (${source.emitted - emittedBefore} so far)`,
    );
    const soakSeconds = (performance.now() - soakStarted) / 1000;
    const emitted = source.emitted - emittedBefore;
    const rates = healthy.map((c, i) => (c.frames - (framesBefore[i] as number)) / emitted);
    const viewerRates = viewers.map((v, i) => (v.frames - (viewerFramesBefore[i] as number)) / emitted);
    await Promise.all(misbehaving.map((m) => m.stop()));
    const memoryAfter = retainedBytes();
    const growth = memoryAfter - memoryBefore;

    expect(emitted).toBeGreaterThanOrEqual(SOAK_FRAMES);
    // Every healthy client got at least 80% of what the source produced meanwhile, intact.
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(0.8);
    expect(healthy.every((c) => !c.closed && c.decodeError === null)).toBe(true);
    expect(Math.min(...viewerRates)).toBeGreaterThanOrEqual(0.8);
    expect(viewers.every((v) => !v.closed)).toBe(true);
    // The stalled ones really were stalled: frames were skipped for them, never queued.
    const stats = server.registry.list();
    expect(stats.filter((s) => s.dropped > 0).length).toBeGreaterThanOrEqual(STALLED);
    expect(peakQueued).toBeLessThanOrEqual(FRAME_BYTES + 64 + 64 * 1024);
    expect(growth).toBeLessThan(MEMORY_BOUND_BYTES);
    // The misbehaving peers really ran.
    expect(counts.churn).toBeGreaterThan(50);
    expect(counts.garbage + counts.v2Garbage + counts.glued + counts.vanished).toBeGreaterThan(50);
    expect(server.tcp.evictedCount).toBeGreaterThan(0);

    // Once they are gone, so is everything they held: only the 50 streaming clients remain.
    await waitUntil(
      () => server.tcp.connectionCount === healthy.length + STALLED,
      15_000,
      () => `the server to free the misbehaving peers (${server.tcp.connectionCount} open)`,
    );
    expect(server.registry.count('legacy') + server.registry.count('v2')).toBe(healthy.length + STALLED);
    expect(server.registry.count('http')).toBe(viewers.length + 1);
    // Nothing logged as a server error: peers' faults are warnings at most.
    expect(log.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(log.lines.some((l) => l.msg === 'client sends bytes that are no commands; closing')).toBe(true);
    console.log(
      `soak: ${emitted} frames in ${soakSeconds.toFixed(1)} s; healthy clients got ${Math.round(Math.min(...rates) * 100)}%` +
        ` (worst) of them, HTTP viewers ${Math.round(Math.min(...viewerRates) * 100)}%; peak ${peakConnections} connections; memory growth ${(growth / 1024 / 1024).toFixed(1)} MiB;` +
        ` ${JSON.stringify(counts)}; ${server.tcp.evictedCount} silent connections evicted`,
    );
  });
});
