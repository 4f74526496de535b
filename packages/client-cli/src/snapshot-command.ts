import type { Logger } from 'pino';
import { timeBudget } from './frame-timeout.js';
import { connect } from './negotiate.js';
import { CliError, ExitCode } from './errors.js';
import { aborted, onInterrupt } from './interrupt.js';
import type { GlobalOptions } from './global-options.js';
import { formatBytes } from './record-stats.js';
import { checkJpeg, defaultSnapshotName, saveJpeg, takeSnapshot } from './snapshot.js';
import { printLine } from './terminal.js';

/** `edgecam snapshot [-o FILE.jpg]`: one frame into one file. */
export async function snapshotCommand(g: GlobalOptions, output: string | undefined, log: Logger): Promise<number> {
  const path = output ?? defaultSnapshotName();
  const interrupt = onInterrupt();
  const interrupted = aborted(interrupt.signal).then(() => {
    throw new CliError(ExitCode.INTERRUPTED, 'interrupted; nothing was saved');
  });
  // One --timeout for the whole command: what connecting (and auto's wait for a WELCOME) took
  // comes off the wait for the frame, and the close waits only for what is left.
  const left = timeBudget(g.timeoutMs);
  try {
    const conn = await Promise.race([connect({ ...g, logger: log }), interrupted]);
    try {
      const frame = await Promise.race([takeSnapshot(conn, g.timeoutMs, left()), interrupted]);
      const info = checkJpeg(frame.jpeg);
      await saveJpeg(path, frame.jpeg);
      printLine(`saved ${path} (${info.width}x${info.height}, ${formatBytes(frame.jpeg.length)}, ${conn.protocol} protocol)`);
    } finally {
      await conn.close(Math.min(1000, Math.max(100, left())));
    }
    return ExitCode.OK;
  } finally {
    interrupted.catch(() => undefined);
    interrupt.dispose();
  }
}
