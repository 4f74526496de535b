// Shared by the recording tests: a hub the test feeds frame by frame, segments written ahead of
// time, and a context for startRecording.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRecorder } from '@edgecam/recorder';
import type { CameraContext } from '../../src/contracts.js';
import { FakeHub } from '../http-fixtures/fake-hub.js';
import { memoryLogger } from '../support/logger.js';
import { sleep, waitUntil } from '../support/wait.js';

export function cameraContext(name = 'default'): { ctx: CameraContext; hub: FakeHub; lines: Record<string, unknown>[] } {
  const hub = new FakeHub();
  const { logger, lines } = memoryLogger('debug');
  return { ctx: { name, hub, logger }, hub, lines };
}

/** Emits `jpegs` one by one, `intervalMs` apart in real time (the recorder measures the rate from them). */
export async function feed(hub: FakeHub, jpegs: readonly Buffer[], intervalMs = 20): Promise<void> {
  for (const j of jpegs) {
    hub.emit(j);
    await sleep(intervalMs);
  }
}

/** A finished segment named for `startMs`, `frames` frames at 10 fps. */
export async function writeSegment(dir: string, startMs: number, jpegs: readonly Buffer[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${startMs}_001.avi`);
  const rec = createRecorder(path, { fsync: false, frameRate: 10 });
  for (const j of jpegs) await rec.write(j);
  await rec.close();
  return path;
}

/** Waits for a log line with this message (and these fields). */
export function waitForLine(lines: Record<string, unknown>[], msg: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<void> {
  return waitUntil(
    () => lines.some((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v)),
    timeoutMs,
    () => `log line "${msg}"; got: ${lines.map((l) => l.msg).join(' | ')}`,
  );
}
