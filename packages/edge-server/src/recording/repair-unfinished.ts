// At start, the segments a crash or power cut left unfinished are made whole: an AVI gets its
// index rebuilt from its frames; an MP4 (which plays as it is) loses an unfinished fragment off
// its end and gets its seek index. A segment without one whole frame is removed, and so is what
// a crash left of a cut (keep.mode motion) or of motion.json being written: their temporary files.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { inspect, inspectMp4, repair, repairMp4 } from '@edgecam/recorder';
import { regularFile } from './recordings-store.js';
import { segmentFormat } from './segment-name.js';

/** Problems that a crash leaves and repair fixes. */
const REPAIRABLE = new Set(['TRUNCATED', 'MISSING_INDEX', 'INDEX_MISMATCH', 'COUNT_MISMATCH', 'SIZE_MISMATCH', 'UNFINISHED', 'GARBAGE']);

/** The temporary files of a join (the recorder's writeMp4Join) and of motion.json's writes. */
const LEFT_TEMPORARY = /^(\d{10,15}_\d{1,9}\.mp4\.join-\d+\.tmp|motion\.json\.tmp)$/;

/** Repairs the unfinished segments of `dir`, one at a time; `stop()` ends the walk early (closing). */
export async function repairUnfinished(dir: string, log: Logger, stop: () => boolean): Promise<void> {
  for (const file of await readdir(dir)) {
    if (stop()) return;
    if (LEFT_TEMPORARY.test(file) && (await regularFile(join(dir, file)))) {
      await unlink(join(dir, file)).catch(() => undefined);
      log.warn({ file }, 'removed a temporary file a crash left (a cut or motion.json being written)');
      continue;
    }
    const format = segmentFormat(file);
    if (format === undefined) continue;
    const path = join(dir, file);
    // repair writes: through a symlink it would rewrite whatever the link points at.
    if (!(await regularFile(path))) continue;
    const info = await (format === 'mp4' ? inspectMp4(path) : inspect(path)).catch(() => undefined);
    if (info && info.frames > 0 && !info.problems.some((p) => REPAIRABLE.has(p.code))) continue;
    try {
      const r = format === 'mp4' ? await repairMp4(path) : await repair(path);
      log.warn({ file, frames: r.frames, droppedBytes: r.droppedBytes, problems: r.problems.map((p) => p.code) }, 'repaired an unfinished recording');
    } catch (err) {
      // Not even one complete frame: nothing to keep.
      log.warn({ file, err: (err as Error).message }, 'removed an unfinished recording without a complete frame');
      await unlink(path).catch(() => undefined);
    }
  }
}
