import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import { inspect } from '@edgecam/recorder';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { ffmpegDecode } from './ffmpeg.js';
import { runCli, spawnCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups = cleanupsAfterEach();

describe('edgecam shell', () => {
  it('runs a piped script against a seed server: snapshot, record, stop, quit', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'shell'], { cwd, input: 'help\n0\n3\nwait 0.5\n0\nq\nq\nbogus\n2\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`connected to 127.0.0.1:${seed.port} (legacy protocol); type help for commands`);
    expect(r.stdout).toMatch(/^ {2}0 {10}save a snapshot/m);
    const snaps = lines.filter((l) => /^saved snapshot_\d+\.jpg \(160x120, [\d.]+ kB\)$/.test(l));
    expect(snaps).toHaveLength(2);
    expect(lines.filter((l) => /^recording to video_stream_\d+\.avi \(q to stop\)$/.test(l))).toHaveLength(1);
    const saved = lines.find((l) => l.startsWith('saved video_stream_'));
    expect(saved).toMatch(/^saved video_stream_\d+\.avi: \d+ frames, [\d.]+ s, [\d.]+ fps, 0 dropped, [\d.]+ kB$/);
    expect(lines).toContain('not recording');
    expect(lines).toContain('unknown command "bogus"; type help');

    const files = readdirSync(cwd).sort();
    const video = files.find((f) => f.endsWith('.avi'))!;
    expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(2);
    for (const f of files.filter((x) => x.endsWith('.jpg'))) {
      expect(readJpegInfo(readFileSync(join(cwd, f)))).toMatchObject({ width: 160, height: 120 });
    }
    const frames = Number(/: (\d+) frames/.exec(saved!)![1]);
    expect(frames).toBeGreaterThan(3);
    expect(await ffmpegDecode(join(cwd, video))).toEqual({ frames, errors: '' });
    expect(await inspect(join(cwd, video))).toMatchObject({ frames, indexed: true, problems: [] });
    // `2` quits the shell only: the server never receives it (it would shut a seed server down).
    await waitFor(() => seed.connections() === 0, 'the shell to disconnect');
    expect(seed.commands).not.toContain('2');
    expect(seed.commands.slice(1)).toEqual(['0', '1', '3', 'q']);
    expect(seed.flags.shutdown).toBe(false);
  });

  it('stops a recording and saves it when the input ends', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => v2.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(v2.port), 'shell'], { cwd, input: '3\nwait 0.3\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^connected to 127\.0\.0\.1:\d+ \(fake-v2 0\.0\.0, v2 protocol\)/);
    expect(r.stdout).toMatch(/^saved video_stream_\d+\.avi: \d+ frames/m);
    expect(v2.commands).toEqual(['3', 'q']);
    const video = readdirSync(cwd).find((f) => f.endsWith('.avi'))!;
    expect((await ffmpegDecode(join(cwd, video))).errors).toBe('');
  });

  it('exits 3 when the server goes away while it waits for input', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    const cwd = tempDir();
    const run = spawnCli(['--port', String(seed.port), '--protocol', 'legacy', 'shell'], { cwd });
    await run.waitForOutput(/type help for commands/);
    await seed.close();
    const r = await run.done;
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: the server closed the connection\n');
  });
});
