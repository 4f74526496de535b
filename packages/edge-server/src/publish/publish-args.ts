// The ffmpeg command line of one publisher: Annex-B H.264 on stdin, copied (never re-encoded)
// into the target's container and protocol. Raw H.264 carries no timestamps, so each picture is
// stamped with the time it reaches ffmpeg; the hub hands units over as they are encoded, so that
// time follows the capture with a constant delay. `-progress pipe:1` puts ffmpeg's counters on
// stdout, which tells us it is publishing and keeps the supervisor's stall watch fed.
import type { PublishTarget } from './publish-config.js';

/** ffmpeg arguments publishing stdin's H.264 to the target. */
export function publishArgs(target: PublishTarget): string[] {
  const output: string[] = ['-f', target.format];
  if (target.format === 'rtsp') output.push('-rtsp_transport', target.transport);
  return [
    '-hide_banner',
    '-loglevel', 'warning',
    '-nostats',
    '-progress', 'pipe:1',
    '-use_wallclock_as_timestamps', '1',
    '-f', 'h264',
    '-i', 'pipe:0',
    '-map', '0:v:0',
    '-c', 'copy',
    ...output,
    target.url,
  ];
}

/** The counters of one `-progress` block that we use. */
export interface PublishProgress {
  /** Pictures ffmpeg has written to the target. */
  frames: number;
  /** `progress=end`: ffmpeg is finishing. */
  end: boolean;
}

/** Reads `key=value` lines of `-progress` output, chunked at any byte. */
export class ProgressReader {
  private partial = '';
  private frames = 0;

  /** Feeds stdout bytes; returns a report for each complete block (ending in `progress=…`). */
  push(chunk: Buffer): PublishProgress[] {
    const lines = (this.partial + chunk.toString('latin1')).split('\n');
    // A block is a few hundred bytes; anything longer without a newline is not -progress output.
    this.partial = (lines.pop() ?? '').slice(-1024);
    const out: PublishProgress[] = [];
    for (const line of lines) {
      if (line.startsWith('frame=')) {
        const n = Number(line.slice(6).trim());
        if (Number.isSafeInteger(n) && n >= 0) this.frames = n;
      } else if (line.startsWith('progress=')) out.push({ frames: this.frames, end: line.trim() === 'progress=end' });
    }
    return out;
  }
}
