// The ffmpeg command line of one publisher: the camera's H.264 on stdin, in MPEG-TS so each
// picture carries its capture time (mpegts-packetizer.ts), copied (never re-encoded) into the
// target's container and protocol. `-progress pipe:1` puts ffmpeg's counters on stdout, which
// tells us it is publishing and keeps the supervisor's stall watch fed.
import { defer, mergeMap, type OperatorFunction } from 'rxjs';
import type { PublishTarget } from './publish-config.js';

/** ffmpeg arguments publishing stdin's MPEG-TS H.264 to the target. */
export function publishArgs(target: PublishTarget): string[] {
  const output: string[] = ['-f', target.format];
  if (target.format === 'rtsp') output.push('-rtsp_transport', target.transport);
  return [
    '-hide_banner',
    '-loglevel', 'warning',
    '-nostats',
    '-progress', 'pipe:1',
    // Every run starts at a keyframe with SPS/PPS, so a tenth of a second of stream tells ffmpeg
    // all it needs; its default (5 s) would hold back the first picture that long.
    '-analyzeduration', '100000',
    '-f', 'mpegts',
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

/** One run's stdout to its `-progress` reports, as an operator (a reader per subscription). */
export function readProgress(): OperatorFunction<Buffer, PublishProgress> {
  return (chunks$) =>
    defer(() => {
      const reader = new ProgressReader();
      return chunks$.pipe(mergeMap((chunk) => reader.push(chunk)));
    });
}
