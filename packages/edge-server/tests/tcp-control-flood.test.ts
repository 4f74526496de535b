// A v2 client sending PINGs as fast as it can beside an honest viewer. Control messages have a
// per-connection budget (50 a second, 100 at once): over it they are dropped and the flooder's
// socket is paused, so TCP slows it; far over it, it is closed with TOO_MANY_MESSAGES. Either way
// the honest viewer keeps getting the frames the source produces, counted, not timed.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, V2_MAGIC, encodeHello, encodePing } from '@edgecam/protocol';
import type { TcpLimits } from '../src/tcp/tcp-limits.js';
import { CountingClient } from './support/clients.js';
import { testPatternJpegs } from './support/jpegs.js';
import { PacedSource } from './support/paced-source.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const FPS = 25;
/** The flood lasts this many source frames (2 s at 25 fps). */
const WINDOW_FRAMES = 50;
/** The honest viewer must receive at least this share of them. */
const MIN_SHARE = 0.8;

let small: Buffer;
let server: TestServer | null = null;
const sockets = new Set<Socket>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  [small] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
});

afterEach(async () => {
  for (const s of sockets) s.destroy();
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await server?.close();
  server = null;
});

// The flooder runs in its own process, as a real one would, so it competes with the server for
// the CPU instead of sharing its event loop. It prints a line once it floods, and what it sent and
// received when told to stop.
const FLOODER = `
const net = require('node:net');
const [port, hello, ping, pongType, errorType] = process.argv.slice(1).map((a, i) => (i >= 3 ? Number(a) : a));
const batch = Buffer.concat(Array.from({ length: 500 }, () => Buffer.from(ping, 'hex')));
let sent = 0, pongs = 0, closed = false, buffered = Buffer.alloc(0);
const errors = [];
const socket = net.connect(Number(port), '127.0.0.1', () => {
  socket.write(Buffer.from(hello, 'hex'));
  process.stdout.write('flooding\\n');
  const pump = () => {
    while (!closed) {
      sent += 500;
      if (!socket.write(batch)) return socket.once('drain', pump);
    }
  };
  setImmediate(pump);
});
socket.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
    const type = buffered[0], length = buffered.readUInt32BE(1);
    if (type === pongType) pongs++;
    if (type === errorType) errors.push(JSON.parse(buffered.subarray(5, 5 + length).toString()).code);
    buffered = buffered.subarray(5 + length);
  }
});
const report = () => { process.stdout.write(JSON.stringify({ sent, pongs, closed, errors }) + '\\n'); process.exit(0); };
socket.on('error', () => {});
socket.on('close', () => { closed = true; });
process.stdin.on('data', report);
process.stdin.on('end', report);
`;

interface FloodReport {
  sent: number;
  pongs: number;
  closed: boolean;
  errors: string[];
}

/** Starts the flooder process; flooding resolves once it is connected and sending, stop() ends it and resolves with its report. */
function startFlooder(port: number): { flooding: Promise<void>; stop(): Promise<FloodReport> } {
  const hello = Buffer.concat([V2_MAGIC, encodeHello({ client: 'flooder' })]).toString('hex');
  const ping = Buffer.from(encodePing(Buffer.alloc(8))).toString('hex');
  const child = spawn(process.execPath, ['-e', FLOODER, String(port), hello, ping, String(MessageType.PONG), String(MessageType.ERROR)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let markFlooding: () => void;
  const flooding = new Promise<void>((r) => (markFlooding = r));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.startsWith('flooding\n')) markFlooding();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  children.push(child);
  return {
    flooding,
    async stop() {
      child.stdin.end('stop');
      await exited;
      return JSON.parse(out.slice('flooding\n'.length)) as FloodReport;
    },
  };
}

async function floodBesideViewer(tcpLimits?: Partial<TcpLimits>): Promise<{ share: number; flooder: FloodReport }> {
  // catchUp: the source keeps the camera's pace whatever the event loop does, so a starved server
  // shows as frames the viewer never got rather than as a slower source.
  const source = new PacedSource([small], { fps: FPS, width: 160, height: 120 });
  server = await startTestServer({}, { source, statsIntervalMs: 0, ...(tcpLimits ? { tcpLimits } : {}) });
  const honest = await CountingClient.start(server.tcpPort, 'v2', sockets);
  await waitUntil(() => honest.frames >= 3, 10_000, 'the honest viewer streaming');

  const flooder = startFlooder(server.tcpPort);
  // The window starts when the flood does: the flooder's own node start-up is not the flood.
  await flooder.flooding;
  const sourceStart = source.emitted;
  const honestStart = honest.frames;
  await waitUntil(() => source.emitted >= sourceStart + WINDOW_FRAMES, 60_000, 'the source to produce the window');
  const produced = source.emitted - sourceStart;
  const received = honest.frames - honestStart;
  const report = await flooder.stop();
  expect(honest.closed).toBe(false);
  return { share: received / produced, flooder: report };
}

describe('a PING flooder beside an honest viewer', () => {
  it(`is closed with TOO_MANY_MESSAGES, and the viewer gets at least ${MIN_SHARE * 100}% of the frames meanwhile`, async () => {
    const { share, flooder } = await floodBesideViewer();
    expect(flooder.errors).toEqual(['TOO_MANY_MESSAGES']);
    // The flooder's slot is free again; the honest viewer is the one v2 client left.
    await waitUntil(() => server!.registry.count('v2') === 1, 10_000, 'the flooder to leave the registry');
    expect(share).toBeGreaterThanOrEqual(MIN_SHARE);
  });

  it(`never closed (no upper bound), is slowed to its budget, and the viewer still gets at least ${MIN_SHARE * 100}%`, async () => {
    const { share, flooder } = await floodBesideViewer({ overBudgetBurst: 1e9, overBudgetPerSecond: 1e9 });
    expect(flooder.closed).toBe(false);
    expect(share).toBeGreaterThanOrEqual(MIN_SHARE);
    // The budget is 100 at once and 50 a second; the window is about 2 s. Bounded far below what was sent.
    expect(flooder.pongs).toBeLessThan(100 + 50 * 10);
    expect(flooder.sent).toBeGreaterThan(flooder.pongs);
  });
});
