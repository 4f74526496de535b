// The setup every benchmark's run() shares: a temporary folder, and benchmark servers fed
// pre-encoded JPEGs from it, all removed afterwards whatever happens.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureEpochOffsetUs } from './clock.mjs';
import { writeJpegs } from './frames.mjs';
import { startServerProcess } from './server-process.mjs';

/** Runs `body(dir)` with a fresh folder `edgecam-bench-<id>-…` in the OS temp dir, removed after. */
export async function withTempDir(id, body) {
  const dir = await mkdtemp(join(tmpdir(), `edgecam-bench-${id}-`));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `body` against benchmark servers on pre-encoded 1280x720 JPEGs (8 with quick, else 30).
 * body gets { jpegs, meanJpeg (bytes), clockOffsetUs, start(options), stopAll() }: start launches a
 * server process (support/server-process.mjs) on those frames with the shared clock offset.
 * Every server still running is stopped at the end, then the frames are removed.
 */
export function withServers(id, { quick }, body) {
  return withTempDir(id, async (dir) => {
    const servers = [];
    try {
      const jpegs = await writeJpegs(dir, { count: quick ? 8 : 30 });
      const meanJpeg = jpegs.reduce((a, j) => a + j.length, 0) / jpegs.length;
      const clockOffsetUs = measureEpochOffsetUs();
      const start = async (options) => {
        const server = await startServerProcess({ framesDir: dir, clockOffsetUs, ...options });
        servers.push(server);
        return server;
      };
      const stopAll = () => Promise.all(servers.splice(0).map((s) => s.stop()));
      return await body({ jpegs, meanJpeg, clockOffsetUs, start, stopAll });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
}
