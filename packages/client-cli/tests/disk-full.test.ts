// `edgecam record` onto a disk that fills up in the middle of the recording: a real, tiny
// filesystem (a 192 KiB tmpfs), so the ENOSPC comes from the kernel at whatever write it
// happens to hit. The file must be closed with the frames that fit, indexed, and playable, and
// the CLI must say both what failed and what was kept.
//
// The tmpfs lives in a private mount namespace (`unshare --user --map-root-user --mount`), which
// needs no root and leaves no mount behind however the test ends. The CLI runs inside it; the
// files it wrote are copied out before the namespace goes away.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspect } from '@edgecam/recorder';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer, type FakeSeedServer } from './fake-seed-server.js';
import { ffmpegDecode } from './ffmpeg.js';
import { CLI, tempDir, type CliRun } from './run-cli.js';
import { testFrames } from './test-frames.js';

const DISK_BYTES = 192 * 1024;

const cleanups = cleanupsAfterEach();

/** Runs the CLI with its working folder on a fresh tmpfs of `bytes`; what it wrote lands in `out`. */
function runOnSmallDisk(args: string[], bytes: number, out: string): Promise<CliRun> {
  const mountPoint = join(tempDir('disk-'), 'mnt');
  mkdirSync(mountPoint);
  const script = [
    'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 97',
    'cd "$2" || exit 97',
    'shift 2',
    '"$NODE" "$CLI" "$@"',
    'rc=$?',
    'cp -a . "$OUT"/ || exit 98',
    'exit $rc',
  ].join('\n');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EDGECAM_')) env[k] = v;
  Object.assign(env, { NODE: process.execPath, CLI, OUT: out });
  const child = spawn('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', String(bytes), mountPoint, ...args], {
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

async function seedServer(): Promise<FakeSeedServer> {
  const seed = await startFakeSeedServer({ frames: testFrames(), fps: 60 });
  cleanups.push(() => seed.close());
  return seed;
}

describe('edgecam record on a disk that fills up', () => {
  it('closes a valid, indexed file with the frames that fit, says so, and exits 5', async () => {
    const seed = await seedServer();
    const out = tempDir('out-');
    const r = await runOnSmallDisk(['--port', String(seed.port), 'record', '-o', 'full.avi'], DISK_BYTES, out);
    expect(r.code).toBe(5);
    const saved = /^saved full\.avi: (\d+) frames, .*; stopped by an error\n$/.exec(r.stdout);
    expect(saved, r.stdout).not.toBeNull();
    const frames = Number(saved![1]);
    expect(r.stderr).toBe(
      `edgecam: could not write full.avi: no space left on the device\nedgecam: the ${frames} frames received before that are saved in full.avi\n`,
    );
    expect(readdirSync(out)).toEqual(['full.avi']);

    const file = join(out, 'full.avi');
    const info = await inspect(file);
    // Most of the disk holds frames: only the tail that no longer fit (and room for the index) is lost.
    expect(info.fileBytes).toBeGreaterThan(DISK_BYTES / 2);
    expect(info).toMatchObject({ frames, indexed: true, problems: [], width: 160, height: 120 });
    expect(await ffmpegDecode(file)).toEqual({ frames, errors: '' });
  });
});
