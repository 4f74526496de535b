import { execFile } from 'node:child_process';
import { readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '@edgecam/protocol';
import { inspect } from '@edgecam/recorder';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer, type FakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { ffmpegDecode } from './ffmpeg.js';
import { CLI, runCli, spawnCli, tempDir } from './run-cli.js';
import { startScriptedServer } from './scripted-server.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups = cleanupsAfterEach();

async function seedServer(fps = 30): Promise<FakeSeedServer> {
  const seed = await startFakeSeedServer({ frames: testFrames(), fps });
  cleanups.push(() => seed.close());
  return seed;
}

interface Summary {
  files: string[];
  format: string;
  frames: number;
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
  dropped: number;
  bytes: number;
  protocol: string;
  reconnects: number;
  stoppedBy: string;
  error: string | null;
}

function summaryOf(stdout: string): Summary {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Summary;
}

describe('edgecam record', () => {
  it('records N frames from a seed server into video_stream_<unix ms>.avi that ffmpeg plays', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '20'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(cwd);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^video_stream_\d+\.avi$/);
    // Piped: nothing while recording, one summary line at the end.
    expect(r.stdout).toMatch(new RegExp(`^saved ${files[0]!.replace('.', '\\.')}: 20 frames, [\\d.]+ s, 160x120, [\\d.]+ fps, \\d+ kbit/s, 0 dropped, [\\d.]+ kB, legacy protocol; stopped after --frames\\n$`));
    const path = join(cwd, files[0]!);
    expect(await ffmpegDecode(path)).toEqual({ frames: 20, errors: '' });
    const info = await inspect(path);
    expect(info).toMatchObject({ frames: 20, width: 160, height: 120, indexed: true, problems: [] });
    // The file says the rate the frames came at: the rate the seed sent these 20 at, measured on
    // its side over the same frames (so a loaded machine slows both), not a default.
    const sent = seed.sentAt.slice(0, 20);
    const sentRate = (sent.length - 1) / ((sent.at(-1)! - sent[0]!) / 1000);
    expect(info.fps / sentRate).toBeGreaterThan(0.6);
    expect(info.fps / sentRate).toBeLessThan(1.67);
    // It started the stream and stopped it; it never sent the `2` that shuts a seed server down.
    await waitFor(() => seed.commands.includes('q'), 'the stop command');
    expect(seed.commands.slice(1)).toEqual(['3', 'q']);
  });

  it('prints the summary as JSON with --json', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '10', '--json', '-o', 'ten.avi'], { cwd });
    expect(r.code).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s).toMatchObject({ files: ['ten.avi'], format: 'avi', frames: 10, width: 160, height: 120, dropped: 0, protocol: 'legacy', stoppedBy: 'frames', error: null });
    expect(s.bytes).toBe(statSync(join(cwd, 'ten.avi')).size);
  });

  it('writes raw MJPEG for a .mjpeg name', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '8', '-o', 'raw.mjpeg', '--json'], { cwd });
    expect(r.code).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ format: 'mjpeg', frames: 8 });
    expect(await ffmpegDecode(join(cwd, 'raw.mjpeg'))).toEqual({ frames: 8, errors: '' });
  });

  it('stops after --duration, counted from the first frame', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--duration', '1s', '--json', '-o', 'd.avi'], { cwd });
    expect(r.code).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.stoppedBy).toBe('duration');
    // 30 fps for one second, with slack for a loaded machine.
    expect(s.frames).toBeGreaterThanOrEqual(10);
    expect(s.frames).toBeLessThanOrEqual(40);
    expect((await ffmpegDecode(join(cwd, 'd.avi'))).frames).toBe(s.frames);
  });

  it('on SIGINT stops the stream, closes the file with its index and exits 0', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const run = spawnCli(['--port', String(seed.port), 'record', '-o', 'int.avi', '--json'], { cwd });
    await waitFor(() => seed.framesSent() >= 10, 'ten frames');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.stoppedBy).toBe('signal');
    expect(s.frames).toBeGreaterThan(0);
    const info = await inspect(join(cwd, 'int.avi'));
    expect(info).toMatchObject({ frames: s.frames, indexed: true, problems: [] });
    expect(await ffmpegDecode(join(cwd, 'int.avi'))).toEqual({ frames: s.frames, errors: '' });
    await waitFor(() => seed.commands.includes('q'), 'the stop command');
    expect(seed.commands).not.toContain('2');
  });

  it('on SIGTERM before the first frame exits 130 and leaves no file', async () => {
    const silent = await startScriptedServer(() => undefined);
    cleanups.push(() => silent.close());
    const cwd = tempDir();
    const run = spawnCli(['--port', String(silent.port), '--protocol', 'legacy', 'record', '-o', 'none.avi'], { cwd });
    await waitFor(() => silent.received[0]?.length === 1, 'the stream command');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('edgecam: interrupted before the first frame; nothing was saved\n');
    expect(readdirSync(cwd)).toEqual([]);
    // It still stopped the stream it had asked for.
    await waitFor(() => Buffer.concat(silent.received[0]!).toString() === '3q', 'the stop command');
  });

  it('on Ctrl-C while still connecting, exits 130 at once instead of waiting for --timeout', async () => {
    const silent = await startScriptedServer(() => undefined);
    cleanups.push(() => silent.close());
    const cwd = tempDir();
    // --timeout of an hour: a CLI that waited for it would be killed by the test's own limit.
    const run = spawnCli(['--port', String(silent.port), '--protocol', 'v2', '--timeout', '3600', 'record'], { cwd });
    // The v2 opening has arrived: the CLI now waits for a WELCOME that will not come.
    await waitFor(() => (silent.received[0]?.length ?? 0) > 0, 'the v2 opening');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('edgecam: interrupted before the first frame; nothing was saved\n');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('counts the frames a v2 server skipped (sequence gaps) as dropped', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), seqGap: 1 });
    cleanups.push(() => v2.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(v2.port), 'record', '--frames', '10', '--json', '-o', 'v2.avi'], { cwd });
    expect(r.code).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ protocol: 'v2', frames: 10, dropped: 9 });
    expect(v2.commands).toEqual(['3', 'q']);
    expect(await ffmpegDecode(join(cwd, 'v2.avi'))).toEqual({ frames: 10, errors: '' });
  });

  it('splits the recording with --segment-size, every frame in exactly one file', async () => {
    const seed = await seedServer(60);
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '40', '--segment-size', '64KiB', '--json', '-o', 'seg.avi'], { cwd });
    expect(r.code).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.files.length).toBeGreaterThan(1);
    expect(readdirSync(cwd).sort()).toEqual([...s.files].sort());
    let total = 0;
    for (const f of s.files) {
      expect(statSync(join(cwd, f)).size).toBeLessThanOrEqual(64 * 1024);
      const d = await ffmpegDecode(join(cwd, f));
      expect(d.errors).toBe('');
      total += d.frames;
    }
    expect(total).toBe(40);
  });

  it('with --reconnect, keeps one file across a dropped connection', async () => {
    const frames = testFrames();
    // Each connection streams 6 frames on `3`; the first one is then dropped by the server.
    const server = await startScriptedServer((s, index) =>
      s.on('data', (d: Buffer) => {
        if (!d.includes(0x33)) return;
        let sent = 0;
        const timer = setInterval(() => {
          for (const part of encodeFrame(frames[sent % frames.length]!)) s.write(part);
          if (++sent === 6) {
            clearInterval(timer);
            if (index === 0) setTimeout(() => s.destroy(), 30);
          }
        }, 20);
        s.on('close', () => clearInterval(timer));
      }),
    );
    cleanups.push(() => server.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(server.port), '--protocol', 'legacy', 'record', '--frames', '10', '--reconnect', '--json', '-o', 'rc.avi'], {
      cwd,
      env: { EDGECAM_LOG_LEVEL: 'warn' },
    });
    expect(r.code).toBe(0);
    expect(summaryOf(r.stdout)).toMatchObject({ frames: 10, reconnects: 1, stoppedBy: 'frames' });
    // The gap is logged (pino JSON on a pipe).
    expect(r.stderr).toMatch(/"msg":"connection lost; reconnecting"/);
    expect(r.stderr).toMatch(/"msg":"reconnected after a gap of [\d.]+ s"/);
    expect(await ffmpegDecode(join(cwd, 'rc.avi'))).toEqual({ frames: 10, errors: '' });
  });

  it('on a terminal, redraws one live line in place and clears it before the summary', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    // util-linux `script` gives the CLI a pseudo-terminal and copies what it shows to our pipe.
    const command = `${process.execPath} ${CLI} --port ${seed.port} record --frames 45 -o tty.avi`;
    const shown = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qfec', command, '/dev/null'], { cwd, timeout: 20_000 }, (err, stdout) =>
        err !== null ? reject(err) : resolve(stdout),
      ),
    );
    const redraws = shown.split('\r\x1b[K').slice(1);
    // 45 frames at 30 fps take 1.5 s: several redraws at 4 per second.
    expect(redraws.length).toBeGreaterThanOrEqual(3);
    const live = /^00:0\d {2}\d+ frames {2}[\d.]+ fps {2}\d+ kbit\/s {2}\d+ dropped {2}[\d.]+ k?B/;
    for (const r of redraws.slice(0, -1)) expect(r).toMatch(live);
    // No newline between redraws (one line, redrawn); the last clear leaves room for the summary.
    expect(redraws.slice(0, -1).join('')).not.toContain('\n');
    expect(redraws.at(-1)).toMatch(/^saved tty\.avi: 45 frames, /);
  });

  it('exits 5 with the reason when the output cannot be created', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '5', '-o', 'no/such/dir/x.avi'], { cwd });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('edgecam: could not write no/such/dir/x.avi: no such file or directory\n');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('exits 5 and says the disk is full when writes fail with ENOSPC', async () => {
    const seed = await seedServer();
    const cwd = tempDir();
    // /dev/full accepts the open and fails every write with ENOSPC.
    symlinkSync('/dev/full', join(cwd, 'full.avi'));
    const r = await runCli(['--port', String(seed.port), 'record', '--frames', '5', '-o', 'full.avi'], { cwd });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('edgecam: could not write full.avi: no space left on the device\n');
    expect(r.stdout).toBe('');
  });
});
