// Saves one camera's picture every so often, the way a time-lapse or a "what does it look like
// now" folder wants it: each written whole under a temporary name and then renamed (a reader
// never sees half a JPEG), and only the newest `keep` pictures are kept.
import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exhaustMap, from, timer, type Subscription } from 'rxjs';
import { describeSystemError } from '@edgecam/runtime';
import type { CameraContext } from '../contracts.js';
import type { SnapshotConfig } from './snapshot-config.js';

/** How long one picture may take when the capture has to start first. */
const FRAME_TIMEOUT_MS = 10_000;
/** Our files, and only ours: the retention never touches anything else in the directory. */
const PICTURE_NAME = /^\d{8}T\d{6}Z\.jpg$/;

/** What /status shows of the camera's snapshots. */
export interface SnapshotStatus {
  readonly dir: string;
  readonly everyMs: number;
  readonly keep: number;
  /** Pictures saved since start. */
  readonly saved: number;
  readonly lastFile: string | null;
  /** Why the last picture could not be saved, or null. */
  readonly lastError: string | null;
}

export interface RunningSnapshots {
  status(): SnapshotStatus;
  close(): Promise<void>;
}

/** `20261207T201500Z`: sortable by name, as recording segments are. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Starts saving `ctx`'s picture into cfg.dir/NAME/ every cfg.every ms, until close(). */
export function startSnapshots(ctx: CameraContext, cfg: SnapshotConfig): RunningSnapshots {
  const dir = join(cfg.dir, ctx.name);
  let saved = 0;
  let lastFile: string | null = null;
  let lastError: string | null = null;
  let inFlight: Promise<void> = Promise.resolve();

  const fail = (err: unknown): void => {
    const why = describeSystemError(err);
    // One line per new reason, not one per tick of a camera that stays down.
    if (why !== lastError) ctx.logger.warn({ dir, err: why }, 'snapshot not saved; retrying at the next one');
    lastError = why;
  };

  const saveOne = async (): Promise<void> => {
    const frame = await ctx.hub.snapshot(FRAME_TIMEOUT_MS);
    await mkdir(dir, { recursive: true });
    const name = `${stamp(Date.now())}.jpg`;
    const temp = join(dir, `.${name}.tmp`);
    await writeFile(temp, frame.jpeg);
    await rename(temp, join(dir, name));
    saved++;
    lastFile = name;
    lastError = null;
    await prune();
  };

  const prune = async (): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    // Regular files only: a symlink or a directory named like a picture is left alone.
    const pictures = entries.filter((e) => e.isFile() && PICTURE_NAME.test(e.name)).map((e) => e.name).sort();
    for (const old of pictures.slice(0, Math.max(0, pictures.length - cfg.keep))) await unlink(join(dir, old));
  };

  const ticks: Subscription = timer(0, cfg.every)
    .pipe(exhaustMap(() => from((inFlight = saveOne().catch(fail)))))
    .subscribe();

  return {
    status: () => ({ dir, everyMs: cfg.every, keep: cfg.keep, saved, lastFile, lastError }),
    close: async () => {
      ticks.unsubscribe();
      await inFlight;
    },
  };
}
