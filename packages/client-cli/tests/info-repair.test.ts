import { copyFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '@edgecam/recorder';
import { startFakeSeedServer, type FakeSeedServer } from './fake-seed-server.js';
import { ffmpegDecode } from './ffmpeg.js';
import { runCli, spawnCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

let seed: FakeSeedServer;
let cwd: string;
beforeAll(async () => {
  seed = await startFakeSeedServer({ frames: testFrames() });
  cwd = tempDir();
  const r = await runCli(['--port', String(seed.port), 'record', '--frames', '12', '-o', 'good.avi'], { cwd });
  expect(r.code).toBe(0);
});
afterAll(() => seed.close());

describe('edgecam info', () => {
  it('describes a good recording', async () => {
    const r = await runCli(['info', 'good.avi'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const size = statSync(join(cwd, 'good.avi')).size;
    expect(r.stdout).toMatch(
      new RegExp(`^good\\.avi: MJPG 160x120, 12 frames, [\\d.]+ fps( \\(\\d+/\\d+\\))?, [\\d.]+ s, 1 RIFF, indexed, ${(size / 1000).toFixed(size >= 100_000 ? 0 : 1)} kB\\nno problems found\\n$`),
    );
  });

  it('prints JSON with --json', async () => {
    const r = await runCli(['info', 'good.avi', '--json'], { cwd });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ path: 'good.avi', frames: 12, width: 160, height: 120, riffs: 1, indexed: true, problems: [] });
    expect(info.fileBytes).toBe(statSync(join(cwd, 'good.avi')).size);
  });

  it('lists the problems of a truncated copy and suggests repair, exiting 0', async () => {
    copyFileSync(join(cwd, 'good.avi'), join(cwd, 'cut.avi'));
    // Cut inside the last frames, as a crash during a write would (the index at the end goes too).
    truncateSync(join(cwd, 'cut.avi'), statSync(join(cwd, 'good.avi')).size - 3000);
    const r = await runCli(['info', 'cut.avi'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/not indexed/);
    expect(r.stdout).toMatch(/^problem TRUNCATED: /m);
    expect(r.stdout).toMatch(/^problem MISSING_INDEX: /m);
    expect(r.stdout).toMatch(/^run: edgecam repair cut\.avi\n$/m);
  });

  it('exits 5 for a missing file and for a file that is not an AVI', async () => {
    const missing = await runCli(['info', 'missing.avi'], { cwd });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe('edgecam: could not read missing.avi: no such file or directory\n');
    writeFileSync(join(cwd, 'photo.avi'), testFrames()[0]!);
    const notAvi = await runCli(['info', 'photo.avi'], { cwd });
    expect(notAvi.code).toBe(5);
    expect(notAvi.stderr).toMatch(/^edgecam: photo\.avi is not a readable AVI: .+\n$/);
  });
});

describe('edgecam repair', () => {
  it('rebuilds a recording killed with SIGKILL into a file ffmpeg reads without errors', async () => {
    const dir = tempDir();
    const run = spawnCli(['--port', String(seed.port), 'record', '-o', 'killed.avi'], { cwd: dir });
    const sentBefore = seed.framesSent();
    await waitFor(() => seed.framesSent() - sentBefore >= 40, 'forty frames');
    run.child.kill('SIGKILL');
    await run.done;
    const damaged = await inspect(join(dir, 'killed.avi'));
    expect(damaged.frames).toBeGreaterThan(0);

    const r = await runCli(['repair', 'killed.avi', '-o', 'fixed.avi'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^repaired killed\\.avi -> fixed\\.avi: kept ${damaged.frames} frames \\(1 RIFF, [^)]+\\)(, left out [\\d.]+ k?B of an incomplete chunk)?; (fixed: [A-Z_, ]+|it had no problems)\\n$`),
    );
    expect(await ffmpegDecode(join(dir, 'fixed.avi'))).toEqual({ frames: damaged.frames, errors: '' });
    expect(await inspect(join(dir, 'fixed.avi'))).toMatchObject({ frames: damaged.frames, indexed: true, problems: [] });
  });

  it('repairs in place without -o, keeping every complete frame', async () => {
    copyFileSync(join(cwd, 'good.avi'), join(cwd, 'inplace.avi'));
    truncateSync(join(cwd, 'inplace.avi'), statSync(join(cwd, 'good.avi')).size - 3000);
    const before = await inspect(join(cwd, 'inplace.avi'));
    const r = await runCli(['repair', 'inplace.avi'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^repaired inplace\\.avi: kept ${before.frames} frames .*; fixed: .*TRUNCATED`));
    expect(await inspect(join(cwd, 'inplace.avi'))).toMatchObject({ frames: before.frames, indexed: true, problems: [] });
    expect(readdirSync(cwd).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('exits 5 when there is nothing to repair from', async () => {
    const r = await runCli(['repair', 'missing.avi'], { cwd });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('edgecam: could not repair missing.avi: no such file or directory\n');
  });
});
