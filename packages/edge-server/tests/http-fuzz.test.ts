// Random and truncated requests at the endpoints a LAN peer reaches (WHEP, settings, recordings,
// replay, events), from a seeded generator, against the built server as a process with every
// camera feature on. Bounded in count and time; afterwards the server must still serve, and its
// descriptors and memory come back near where they started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/wait.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgecam-fuzz-'));
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// The seed is printed with a failure, so a run can be repeated exactly (EDGECAM_FUZZ_SEED).
const SEED = Number(process.env.EDGECAM_FUZZ_SEED ?? Date.now() % 2 ** 31);
const REQUESTS = 600;
const IN_FLIGHT = 16;

/** mulberry32: small, seeded, good enough to pick requests. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\na=setup:actpass\r\n';

/** One request's bytes, and how much of them is sent. */
function request(next: () => number): { bytes: Buffer; send: number; then: 'end' | 'destroy' | 'linger' } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
  // Mostly well-formed up to the point where it goes wrong, so the fuzz reaches the handlers.
  const often = <T,>(usual: T, odd: readonly T[]): T => (next() < 0.7 ? usual : pick(odd));
  const camera = often('front', ['nope', '..', 'front%0d%0aevent:%20x', 'a'.repeat(300), '%ff']);
  const [path, usualMethod, usualType] = pick([
    [`/cams/${camera}/whep`, 'POST', 'application/sdp'],
    [`/cams/${camera}/whep/00000000-0000-0000-0000-000000000000`, 'DELETE', 'application/sdp'],
    [`/cams/${camera}/settings`, 'PUT', 'application/json'],
    ['/settings', 'PUT', 'application/json'],
    ['/recordings', 'GET', 'text/plain'],
    [`/cams/${camera}/recordings`, 'GET', 'text/plain'],
    [`/cams/${camera}/recordings/${pick(['x.avi', '..%2f..%2fetc%2fpasswd', '20260101T000000Z.avi'])}`, pick(['GET', 'DELETE']), 'text/plain'],
    [`/cams/${camera}/replay.mjpg?from=${pick(['1e20', '-5', 'now', '2026-01-01T00:00:00Z', 'NaN', ''])}&to=${pick(['', '0', 'x'])}`, 'GET', 'text/plain'],
    [`/events?camera=${camera}`, 'GET', 'text/event-stream'],
    ['/events', 'GET', 'text/event-stream'],
    [`/events/${pick(['front-1', '../x', '%00'])}/snapshot.jpg`, 'GET', 'text/plain'],
  ] as const);
  const method = often<string>(usualMethod, ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'G\x01T']);
  const body = pick([
    Buffer.from(SDP),
    Buffer.from(SDP),
    Buffer.from(JSON.stringify({ width: Math.floor(next() * 20000) - 100, fps: next() * 500, quality: 'x' })),
    Buffer.from(JSON.stringify({ width: 320, height: 240, fps: 5 })),
    Buffer.from('{"width":'),
    junk(Math.floor(next() * 4096)),
    Buffer.alloc(0),
  ]);
  const headers = [
    `Host: ${often('127.0.0.1', ['localhost', 'evil.example', '', '127.0.0.1:1'])}`,
    `Content-Type: ${often<string>(usualType, ['application/sdp', 'application/json', 'text/plain', '\x7f'])}`,
  ];
  const framing = pick(['length', 'short-length', 'long-length', 'chunked', 'xchunked', 'none']);
  if (framing === 'length') headers.push(`Content-Length: ${body.length}`);
  if (framing === 'short-length') headers.push(`Content-Length: ${Math.floor(body.length / 2)}`);
  if (framing === 'long-length') headers.push(`Content-Length: ${body.length + 1 + Math.floor(next() * 100_000)}`);
  if (framing === 'chunked' || framing === 'xchunked') headers.push(`Transfer-Encoding: ${framing}`);
  if (next() < 0.2) headers.push(`Range: bytes=${Math.floor(next() * 1e6)}-${pick(['', '1', '99999999999999999999'])}`);
  if (next() < 0.1) headers.push(junk(20).toString('latin1'));
  const payload = framing === 'chunked' ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
  const bytes = Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
  const send = next() < 0.5 ? bytes.length : Math.floor(next() * bytes.length);
  return { bytes, send, then: pick(['end', 'destroy', 'linger'] as const) };
}

/** Sends one request's bytes; resolves when the server closed, or when this client gives up on it. */
function fire(port: number, r: ReturnType<typeof request>): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    // A streaming answer (replay, events) would never end by itself: the client leaves after a while.
    const giveUp = setTimeout(() => socket.destroy(), r.then === 'linger' ? 1500 : 500);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve();
    });
    socket.on('connect', () => {
      socket.write(r.bytes.subarray(0, r.send));
      if (r.then === 'end') socket.end();
      if (r.then === 'destroy') setImmediate(() => socket.destroy());
    });
  });
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('random and truncated requests', { timeout: 180_000 }, () => {
  it(`leave the server up, serving, with its descriptors and memory bounded (seed ${SEED})`, async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
    const config = join(dir, 'edgecam.yaml');
    writeFileSync(
      config,
      [
        'host: 127.0.0.1',
        'port: 0',
        'httpPort: 0',
        'size: 160x120',
        'fps: 10',
        'cameras:',
        '  front:',
        '    source: testsrc',
        '    record:',
        `      dir: ${join(dir, 'rec')}`,
        '      segment: 1m',
        '    motion: {fps: 2}',
        '    h264: {enabled: true}',
        '',
      ].join('\n'),
    );
    const c = spawn(process.execPath, [cli, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    c.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.stderr!.resume();
    await waitUntil(() => /"msg":"listening"/.test(out), 20_000, 'the server to listen');
    const listening = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"listening"'))!) as { http: string };
    const port = Number(new URL(listening.http).port);
    const pid = c.pid!;
    // A first snapshot starts the capture, so the baseline includes ffmpeg's pipes.
    expect((await fetch(`http://127.0.0.1:${port}/cams/front/snapshot.jpg`)).status).toBe(200);
    const fdsBefore = fds(pid);
    const rssBefore = rssBytes(pid);

    const next = random(SEED);
    const deadline = Date.now() + 90_000;
    let sent = 0;
    const lanes = Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < REQUESTS && Date.now() < deadline) {
        sent++;
        await fire(port, request(next));
      }
    });
    await Promise.all(lanes);
    expect(c.exitCode, `the server exited during the run (seed ${SEED})`).toBeNull();

    // Still serving: a snapshot and the status answer.
    expect((await fetch(`http://127.0.0.1:${port}/cams/front/snapshot.jpg`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(200);
    // Every connection of the run is gone, so what it held is given back (WHEP sessions end
    // on their own once their ICE never connects).
    await waitUntil(() => fds(pid) <= fdsBefore + 8, 60_000, () => `descriptors back near ${fdsBefore} (now ${fds(pid)}, seed ${SEED})`);
    expect(rssBytes(pid) - rssBefore, `RSS grew (seed ${SEED})`).toBeLessThan(150 * 1024 * 1024);
    c.kill('SIGTERM');
    expect(await new Promise((r) => c.once('exit', (code) => r(code)))).toBe(0);
  });
});
