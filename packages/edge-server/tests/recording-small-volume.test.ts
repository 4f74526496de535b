// Recording on a small volume and through a full disk: the room kept ahead of the writer is capped
// by the volume's size (a 20 MB card is not kept empty), and after ENOSPC recording resumes by
// itself once there is room, retrying on the backoff rather than opening file after file.
import { mkdtemp, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecorderFs } from '@edgecam/recorder';
import { startRecording, type RecordingHandle } from '../src/recording/recording-sink.js';
import { recordConfigSchema } from '../src/recording/record-config.js';
import { MAX_RESERVE, retentionReserve } from '../src/recording/disk-budget.js';
import { planRetention } from '../src/recording/retention.js';
import { testPatternJpegs } from './http-fixtures/jpeg-frames.js';
import { cameraContext, feed, waitForLine, writeSegment } from './recording-fixtures/recording-helpers.js';
import { waitUntil } from './support/wait.js';

const MB = 1e6;
let jpegs: Buffer[];
let dir: string | undefined;
const handles: RecordingHandle[] = [];

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 10);
});

afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function used(camDir: string): Promise<number> {
  const names = await readdir(camDir).catch(() => [] as string[]);
  const sizes = await Promise.all(names.map((n) => stat(join(camDir, n)).then((s) => s.size)));
  return sizes.reduce((a, b) => a + b, 0);
}

describe('the reserve retention keeps ahead of the writer', () => {
  it('is 64 MB, at most a quarter of maxSize and a tenth of the volume', () => {
    expect(retentionReserve(20e9)).toBe(MAX_RESERVE);
    expect(retentionReserve(20e9, 1e12)).toBe(MAX_RESERVE);
    expect(retentionReserve(8 * MB, 1e12)).toBe(2 * MB);
    expect(retentionReserve(20e9, 20 * MB)).toBe(2 * MB);
  });

  it('keeps the closed segments of a 20 MB volume that has room for them', () => {
    const files = [1, 2, 3].map((i) => ({ file: `${i}_001.avi`, startMs: i, bytes: 3 * MB }));
    const plan = planRetention({ files, live: undefined, free: 10 * MB, now: 10, keep: { maxAge: 1e9, maxSize: 20e9, minFree: 1 * MB }, reserve: retentionReserve(20e9, 20 * MB) });
    expect(plan.remove).toEqual([]);
    expect(plan.budget).toBe(9 * MB);
  });
});

describe('recording on a 20 MB volume', () => {
  it('keeps the segments already there and records more', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-small-'));
    const camDir = join(dir, 'default');
    const now = Date.now();
    for (const ago of [300_000, 200_000, 100_000]) await writeSegment(camDir, now - ago, jpegs);
    const before = (await readdir(camDir)).sort();
    const total = 20 * MB;
    const { ctx, hub, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir, keep: { minFree: '1MB' } }), {
      statfs: async () => ({ free: total - MB - (await used(camDir)), total }),
      recorder: { fsync: false, checkpointIntervalMs: 100 },
    });
    handles.push(rec);
    // Logged once the start-up retention run is done.
    await waitForLine(lines, 'recording');
    expect(lines.filter((l) => l.msg === 'recording deleted by retention')).toEqual([]);
    expect((await readdir(camDir)).sort()).toEqual(before);
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    await feed(hub, jpegs, 20);
    await waitUntil(() => rec.status().framesWritten >= jpegs.length, 10_000, () => `the frames written; status ${JSON.stringify(rec.status())}`);
    await rec.close();
    expect(rec.status().framesDropped).toBe(0);
    expect((await readdir(camDir)).length).toBe(before.length + 1);
  });
});

describe('after the disk filled up (ENOSPC)', () => {
  it('stops opening files, and resumes by itself once there is room again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgecam-rec-enospc-'));
    let full = false;
    let opens = 0;
    // A disk that refuses every write while `full`, as a full ext4 or FAT card does.
    const fs: RecorderFs = {
      async open(path) {
        opens++;
        const fh = await open(path, 'w');
        return {
          writev: (buffers, position) =>
            full ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : fh.writev(buffers, position),
          truncate: (length) => fh.truncate(length),
          datasync: () => fh.datasync(),
          close: () => fh.close(),
        };
      },
      remove: (path) => unlink(path),
    };
    const { ctx, hub, lines } = cameraContext();
    const rec = startRecording(ctx, recordConfigSchema.parse({ dir, keep: { minFree: '1MB' } }), {
      statfs: async () => ({ free: full ? 0 : 1e9, total: 2e9 }),
      recorder: { fsync: false, checkpointIntervalMs: 50, fs },
    });
    handles.push(rec);
    await waitUntil(() => hub.subscribers === 1, 10_000, 'the recording to subscribe');
    await feed(hub, jpegs.slice(0, 5), 20);
    await waitForLine(lines, 'recording segment');

    full = true;
    let i = 0;
    await waitUntil(
      () => {
        hub.emit(jpegs[i++ % jpegs.length]!);
        return rec.status().state === 'disk-full';
      },
      10_000,
      () => `the disk-full state; status ${JSON.stringify(rec.status())}`,
    );
    const opensWhenFull = opens;
    await feed(hub, jpegs, 20);
    expect(opens).toBe(opensWhenFull);
    expect(rec.status().state).toBe('disk-full');

    full = false;
    await waitForLine(lines, 'recording resumed: there is room again', {}, 20_000);
    const written = rec.status().framesWritten;
    await waitUntil(
      () => {
        hub.emit(jpegs[i++ % jpegs.length]!);
        return rec.status().framesWritten >= written + 5;
      },
      10_000,
      () => `frames written after the disk had room again; status ${JSON.stringify(rec.status())}`,
    );
    expect(rec.status().state).toBe('recording');
    await rec.close();
    const list = await rec.store.list();
    expect(list.some((e) => e.frames >= 5 && e.problems.length === 0)).toBe(true);
  }, 60_000);
});
