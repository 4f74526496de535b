import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEFAULT_CONFIG, startEdgeServer, type RunningEdgeServer } from '@edgecam/edge-server';
import { readJpegInfo } from '@edgecam/protocol';
import { inspect } from '@edgecam/recorder';
import { connect } from '../src/negotiate.js';
import { ffmpegDecode } from './ffmpeg.js';
import { runCli, spawnCli, tempDir } from './run-cli.js';
import { sleep } from './wait-for.js';

/**
 * The CLI against the real edgecam-server: a live ffmpeg test pattern at 160x120, 30 fps, on an
 * ephemeral loopback port, shared by every test in this file.
 */
let server: RunningEdgeServer;
let port: string;
beforeAll(async () => {
  server = await startEdgeServer(
    { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, size: { width: 160, height: 120 }, fps: 30, idleStop: 2, logLevel: 'silent' },
    { logger: pino({ level: 'silent' }), statsIntervalMs: 0 },
  );
  port = String(server.tcpPort);
});
afterAll(() => server.close());

interface Summary {
  files: string[];
  frames: number;
  fps: number;
  dropped: number;
  protocol: string;
  stoppedBy: string;
}

describe('against the real edgecam-server', () => {
  it('negotiates v2 and reads the WELCOME', async () => {
    const conn = await connect({ host: '127.0.0.1', port: server.tcpPort, protocol: 'auto', timeoutMs: 10_000 });
    try {
      expect(conn.protocol).toBe('v2');
      expect(conn.welcome).toMatchObject({ width: 160, height: 120, fps: 30, authRequired: false });
    } finally {
      await conn.close();
    }
  });

  it.each(['auto', 'legacy'])('takes a snapshot with --protocol %s', async (protocol) => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, '--protocol', protocol, 'snapshot', '-o', 'shot.jpg'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^saved shot\\.jpg \\(160x120, [\\d.]+ kB, ${protocol === 'auto' ? 'v2' : 'legacy'} protocol\\)\\n$`));
    expect(readJpegInfo(readFileSync(join(cwd, 'shot.jpg')))).toMatchObject({ width: 160, height: 120 });
  });

  it.each(['v2', 'legacy'])('records 30 frames over %s into an AVI that ffmpeg and inspect read back', async (protocol) => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, '--protocol', protocol, 'record', '--frames', '30', '--json', '-o', 'rec.avi'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s).toMatchObject({ files: ['rec.avi'], frames: 30, protocol, stoppedBy: 'frames' });
    expect(await ffmpegDecode(join(cwd, 'rec.avi'))).toEqual({ frames: 30, errors: '' });
    const info = await inspect(join(cwd, 'rec.avi'));
    expect(info).toMatchObject({ frames: 30, width: 160, height: 120, indexed: true, problems: [] });
    // The file states the rate measured from the server's capture times, the one the summary gave
    // (a rate range would measure the machine's load, not the client).
    expect(info.fps).toBeGreaterThan(0);
    expect(info.fps).toBeCloseTo(s.fps, 2);
  });

  it('stops a recording on SIGINT with an indexed file and exit 0', async () => {
    const cwd = tempDir();
    // Interrupt once the CLI says the file is open, i.e. its first frame is in.
    const run = spawnCli(['--port', port, 'record', '-o', 'int.avi', '--json'], { cwd, env: { EDGECAM_LOG_LEVEL: 'debug' } });
    await run.waitForOutput(/recording file opened/);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.stoppedBy).toBe('signal');
    expect(s.frames).toBeGreaterThan(0);
    expect(await ffmpegDecode(join(cwd, 'int.avi'))).toEqual({ frames: s.frames, errors: '' });
  });

  it('runs a piped shell session, and `2` leaves the server serving others', async () => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, 'shell'], { cwd, input: '0\n3\nwait 0.5\nq\n2\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(edgecam-server [^,]+, v2 protocol\)/);
    expect(r.stdout).toMatch(/^saved snapshot_\d+\.jpg \(160x120/m);
    expect(r.stdout).toMatch(/^saved video_stream_\d+\.avi: \d+ frames/m);
    const video = readdirSync(cwd).find((f) => f.endsWith('.avi'))!;
    expect((await ffmpegDecode(join(cwd, video))).errors).toBe('');
    const after = await runCli(['--port', port, 'snapshot', '-o', 'after.jpg'], { cwd });
    expect(after.code).toBe(0);
  });

  it('relays the stream to a local page with view', async () => {
    const run = spawnCli(['--port', port, 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/[\d.:]+\/) \(relaying [\d.:]+, v2 protocol, edgecam-server/);
    let snap: Response | undefined;
    for (let i = 0; i < 50; i++) {
      snap = await fetch(`${url}snapshot.jpg`);
      if (snap.status === 200) break;
      await sleep(100);
    }
    expect(snap!.status).toBe(200);
    expect(readJpegInfo(Buffer.from(await snap!.arrayBuffer()))).toMatchObject({ width: 160, height: 120 });
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(0);
  });
});

describe('against an edgecam-server whose camera is down', () => {
  let broken: RunningEdgeServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('broken-');
    // A file that exists but is no video: ffmpeg exits with an error at every try.
    writeFileSync(join(dir, 'not-a-video.mp4'), 'this is not a video\n');
    broken = await startEdgeServer(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, source: { kind: 'file', path: join(dir, 'not-a-video.mp4') }, logLevel: 'silent' },
      { logger: pino({ level: 'silent' }), statsIntervalMs: 0 },
    );
  });
  afterAll(() => broken.close());

  it("says the server's camera is down and why, instead of only that no frame arrived", async () => {
    const r = await runCli(['--port', String(broken.tcpPort), '--timeout', '4', 'snapshot', '-o', 'shot.jpg'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("the server's camera is down (ffmpeg exited with code");
    expect(r.stderr).toContain('not-a-video.mp4');
    expect(readdirSync(dir)).not.toContain('shot.jpg');
  });
});
