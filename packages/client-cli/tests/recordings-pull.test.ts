import { mkdir, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RecordingsStore, recordingsRoutes } from '@edgecam/edge-server';
import { createRecorder, inspect } from '@edgecam/recorder';
import { runCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';

/**
 * `edgecam recordings` and `edgecam pull` against the server's recordings routes, mounted on a
 * plain HTTP server over three segments written ahead of time (10 fps, 20 + 10 + 5 frames).
 */
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const starts = [t0, t0 + 10_000, t0 + 20_000];
const counts = [20, 10, 5];
let server: Server;
let host: string;

beforeAll(async () => {
  const root = tempDir('recordings-');
  const camDir = join(root, 'front');
  await mkdir(camDir, { recursive: true });
  const frames = testFrames();
  for (const [i, start] of starts.entries()) {
    const rec = createRecorder(join(camDir, `${start}_001.avi`), { fsync: false, frameRate: 10 });
    for (let f = 0; f < counts[i]!; f++) await rec.write(frames[f % frames.length]!);
    await rec.close();
  }
  const store = new RecordingsStore('front', camDir);
  const routes = recordingsRoutes({ store: (n) => (n === 'front' ? store : undefined), cameras: () => ['front'], log: pino({ level: 'silent' }) });
  server = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server?.close());

describe('edgecam recordings', () => {
  it('lists the segments as JSON', async () => {
    const run = await runCli(['recordings', host, '--json'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as Array<{ file: string; frames: number }>;
    expect(list.map((r) => [r.file, r.frames])).toEqual(starts.map((s, i) => [`${s}_001.avi`, counts[i]]));
  });

  it('prints one row per segment', async () => {
    const run = await runCli(['recordings', host], { cwd: tempDir() });
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^CAMERA\tFILE\tSTART/);
    expect(rows.slice(1).map((r) => r.split('\t')[4])).toEqual(['20', '10', '5']);
  });

  it('says what to do when nothing listens there', async () => {
    const run = await runCli(['recordings', '127.0.0.1:1'], { cwd: tempDir() });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('edgecam: could not connect to 127.0.0.1:1: connection refused (is the server running, and on this port?)\n');
  });
});

describe('edgecam pull', () => {
  it('joins a time range across segments into one AVI with the frames inside it', async () => {
    const cwd = tempDir();
    // From 1.5 s into the first segment to 0.45 s into the third: frames 15..19, 0..9, 0..4.
    const from = new Date(t0 + 1500).toISOString();
    const run = await runCli(['pull', host, '--camera', 'front', '--from', from, '--to', String(t0 + 20_450), '-o', 'out.avi', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { frames: number; segments: number };
    expect(summary).toMatchObject({ frames: 5 + 10 + 5, segments: 3 });
    const info = await inspect(join(cwd, 'out.avi'));
    expect(info.frames).toBe(20);
    expect(info.problems).toEqual([]);
    expect(info.fps).toBe(10);
    expect((await readdir(cwd)).sort()).toEqual(['out.avi']);
  });

  it('downloads the covering segments as they are with --as-is', async () => {
    const cwd = tempDir();
    const run = await runCli(['pull', host, '--from', String(t0 + 10_500), '--as-is', '-o', 'segs'], { cwd });
    expect(run.code).toBe(0);
    expect((await readdir(join(cwd, 'segs'))).sort()).toEqual([`front_${starts[1]}_001.avi`, `front_${starts[2]}_001.avi`]);
    expect(run.stdout).toMatch(/saved segs: 15 frames from 2 segments/);
  });

  it('refuses a range no recording covers', async () => {
    const run = await runCli(['pull', host, '--from', String(t0 + 60_000)], { cwd: tempDir() });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/no recording of front covers that time range/);
  });
});
