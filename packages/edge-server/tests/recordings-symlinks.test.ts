// A symlink (or anything but a regular file) named like a segment in a recordings directory is
// not ours: it is never listed, served, replayed, repaired or deleted, and its target is untouched.
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { startRecording } from '../src/recording/recording-sink.js';
import { recordConfigSchema } from '../src/recording/record-config.js';
import { RecordingsStore } from '../src/recording/recordings-store.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { cameraContext, waitForLine, writeSegment } from './recording-fixtures/recording-helpers.js';
import { memoryLogger } from './support/logger.js';

const SECRET = 'not-a-recording: the contents of a file outside the recordings directory\n';
let root: string;
let jpegs: Buffer[];
let server: Server;
let base: string;
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const real = `${t0}_001.avi`;
const linked = `${t0 + 10_000}_001.avi`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgecam-rec-links-'));
  jpegs = await testPatternJpegs(160, 120, 5);
  await writeSegment(join(root, 'front'), t0, jpegs);
  await writeFile(join(root, 'secret.txt'), SECRET);
  await symlink(join(root, 'secret.txt'), join(root, 'front', linked));
  const { logger } = memoryLogger('silent');
  const store = new RecordingsStore('front', join(root, 'front'));
  const routes = recordingsRoutes({ store: (name) => (name === 'front' ? store : undefined), cameras: () => ['front'], log: logger });
  server = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('a symlink named like a segment', () => {
  it('is not served by GET or HEAD, while the real segment next to it is', async () => {
    const get = await fetch(`${base}/recordings/front/${linked}`);
    expect(get.status).toBe(404);
    expect(await get.text()).not.toContain('not-a-recording');
    expect((await fetch(`${base}/recordings/front/${linked}`, { method: 'HEAD' })).status).toBe(404);
    const ok = await fetch(`${base}/recordings/front/${real}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).subarray(0, 4).toString()).toBe('RIFF');
  });

  it('is left out of GET /recordings and of replay', async () => {
    const list = (await (await fetch(`${base}/recordings`)).json()) as { recordings: { file: string }[] };
    expect(list.recordings.map((r) => r.file)).toEqual([real]);
    const store = new RecordingsStore('front', join(root, 'front'));
    const files = new Set<string>();
    for await (const f of store.frames(0)) files.add(f.file);
    expect([...files]).toEqual([real]);
  });

  it('is not deleted over HTTP', async () => {
    expect((await fetch(`${base}/recordings/front/${linked}`, { method: 'DELETE' })).status).toBe(404);
    expect((await lstat(join(root, 'front', linked))).isSymbolicLink()).toBe(true);
  });
});

describe('a recording starting over a directory with symlinks in it', () => {
  it('neither repairs through a link nor lets retention delete it, and the targets stay as they were', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-links-start-'));
    try {
      const camDir = join(dir, 'default');
      await mkdir(camDir);
      // Outside the camera's directory: an AVI cut short (repair would rewrite it) and a plain file.
      const outside = join(dir, 'outside');
      const cut = await writeSegment(outside, Date.now() - 60_000, jpegs);
      await truncate(cut, (await stat(cut)).size - 100);
      const cutBefore = await readFile(cut);
      await writeFile(join(dir, 'secret.txt'), SECRET);
      // Both far older than maxAge: retention would delete them if it took them for segments.
      const toCut = `${Date.now() - 30 * 86_400_000}_001.avi`;
      const toSecret = `${Date.now() - 29 * 86_400_000}_001.avi`;
      await symlink(cut, join(camDir, toCut));
      await symlink(join(dir, 'secret.txt'), join(camDir, toSecret));

      const { ctx, lines } = cameraContext();
      const rec = startRecording(ctx, recordConfigSchema.parse({ dir }), { statfs: async () => ({ free: 1e12, total: 1e12 }), recorder: { fsync: false } });
      try {
        // Logged once the repair pass and the first retention run are done.
        await waitForLine(lines, 'recording');
      } finally {
        await rec.close();
      }
      expect(lines.some((l) => l.msg === 'repaired an unfinished recording')).toBe(false);
      expect(lines.some((l) => l.msg === 'recording deleted by retention')).toBe(false);
      expect((await lstat(join(camDir, toCut))).isSymbolicLink()).toBe(true);
      expect((await lstat(join(camDir, toSecret))).isSymbolicLink()).toBe(true);
      expect(await readFile(cut)).toEqual(cutBefore);
      expect(await readFile(join(dir, 'secret.txt'), 'utf8')).toBe(SECRET);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
