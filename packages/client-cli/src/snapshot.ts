import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isWholeJpeg, readJpegInfo, type CapturedFrame, type JpegInfo } from '@edgecam/protocol';
import type { ServerConnection } from './connection.js';
import { nextFrame } from './frame-timeout.js';
import { CliError, ExitCode, fileError } from './errors.js';

/**
 * One frame: `0`, the frame, then the ack `1`. The seed server holds its next single frame until
 * the ack arrives, so it is sent even when the wait failed: a late frame must not leave the
 * server gated for the next client.
 */
export async function takeSnapshot(conn: ServerConnection, timeoutMs: number, waitMs = timeoutMs): Promise<CapturedFrame> {
  const frame = nextFrame(conn, timeoutMs, waitMs);
  try {
    await conn.command('0');
    return await frame;
  } finally {
    frame.catch(() => undefined);
    await conn.command('1').catch(() => undefined);
  }
}

/** Width and height of a frame, or a protocol error when it is not a whole JPEG. */
export function checkJpeg(jpeg: Buffer): JpegInfo {
  if (!isWholeJpeg(jpeg)) {
    throw new CliError(ExitCode.PROTOCOL, `the server sent a frame that is not a whole JPEG (${jpeg.length} bytes)`);
  }
  try {
    return readJpegInfo(jpeg);
  } catch {
    throw new CliError(ExitCode.PROTOCOL, `the server sent a JPEG without a readable size (${jpeg.length} bytes)`);
  }
}

/**
 * Writes the file under a temporary name and renames it into place, so the name never holds a
 * partial JPEG, whatever happens during the write.
 */
export async function saveJpeg(path: string, jpeg: Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.part`);
  try {
    await writeFile(tmp, jpeg, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fileError('write', path, err);
  }
}

export function defaultSnapshotName(now = Date.now()): string {
  return `snapshot_${now}.jpg`;
}
