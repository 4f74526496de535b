import type { Logger } from 'pino';
import { CliError, ExitCode, usageError } from './errors.js';
import { onInterrupt } from './interrupt.js';
import { durationSchema, framesSchema, parseFlag, sizeSchema } from './flag-values.js';
import type { GlobalOptions } from './global-options.js';
import { RecordSession, type RecordResult } from './record-session.js';
import { formatBytes, progressLine } from './record-stats.js';
import { playSeconds, recordFormatOf, type SegmentLimit } from './recording.js';
import { clearLiveLine, printError, printLine, setLiveLine } from './terminal.js';

export interface RecordFlags {
  output?: string;
  frames?: string;
  duration?: string;
  segment?: string;
  segmentSize?: string;
  reconnect?: boolean;
  json?: boolean;
}

export function defaultRecordingName(now = Date.now()): string {
  return `video_stream_${now}.avi`;
}

/** How often the live line is redrawn on a terminal. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * `edgecam record`: streams into a file until `--frames`, `--duration`, Ctrl-C or SIGTERM, then
 * prints one summary. Exits 0 when frames were saved and nothing failed; with the error's code
 * when something failed (the frames received so far are kept, indexed); 130 when interrupted
 * before the first frame (no file is made).
 */
export async function recordCommand(g: GlobalOptions, flags: RecordFlags, log: Logger): Promise<number> {
  const output = flags.output ?? defaultRecordingName();
  const format = recordFormatOf(output);
  if (format === undefined) {
    throw usageError(`invalid value ${JSON.stringify(output)} for --output: expected a file name ending in .avi, .mjpeg or .mjpg`);
  }
  const maxFrames = flags.frames === undefined ? undefined : parseFlag(framesSchema, flags.frames, '--frames');
  const durationMs = flags.duration === undefined ? undefined : parseFlag(durationSchema, flags.duration, '--duration');
  if (flags.segment !== undefined && flags.segmentSize !== undefined) {
    throw usageError('--segment and --segment-size cannot be used together: choose one way to split the recording');
  }
  let segment: SegmentLimit | undefined;
  if (flags.segment !== undefined) segment = { durationMs: parseFlag(durationSchema, flags.segment, '--segment') };
  if (flags.segmentSize !== undefined) segment = { bytes: parseFlag(sizeSchema, flags.segmentSize, '--segment-size') };

  const interrupt = onInterrupt();
  const session = new RecordSession({
    connect: { ...g, logger: log },
    timeoutMs: g.timeoutMs,
    maxFrames,
    durationMs,
    reconnect: flags.reconnect === true,
    recording: { path: output, format, segment, log },
    signal: interrupt.signal,
    log,
  });
  const ticker =
    process.stderr.isTTY === true
      ? setInterval(() => {
          if (session.stats.started) setLiveLine(progressLine(session.stats.snapshot(), session.fileBytes()));
        }, PROGRESS_INTERVAL_MS)
      : undefined;
  let result: RecordResult;
  try {
    result = await session.run();
  } finally {
    clearInterval(ticker);
    clearLiveLine();
    interrupt.dispose();
  }

  const saved = result.outcome !== undefined && result.outcome.frames > 0;
  if (saved) printLine(flags.json === true ? summaryJson(result) : summaryText(result));
  if (result.error !== undefined) {
    printError(`edgecam: ${result.error.message}`);
    if (saved) {
      printError(`edgecam: the ${result.outcome!.frames} frames received before that are saved in ${result.outcome!.files.join(', ')}`);
    }
    return result.error.exitCode;
  }
  if (!saved) {
    if (result.stoppedBy === 'signal') throw new CliError(ExitCode.INTERRUPTED, 'interrupted before the first frame; nothing was saved');
    throw new CliError(ExitCode.PROTOCOL, 'no frame could be recorded; nothing was saved');
  }
  return ExitCode.OK;
}

const STOPPED_BY: Record<RecordResult['stoppedBy'], string> = {
  frames: 'after --frames',
  duration: 'after --duration',
  signal: 'on interrupt',
  error: 'by an error',
};

function summaryText(r: RecordResult): string {
  const o = r.outcome!;
  const s = r.stats;
  const files = o.files.length === 1 ? o.files[0]! : `${o.files.length} files (${o.files.join(', ')})`;
  const parts = [
    `${o.frames} frames`,
    `${playSeconds(o, s.elapsedMs).toFixed(2)} s`,
    `${o.width}x${o.height}`,
    `${o.fps.toFixed(2)} fps`,
    `${Math.round(s.kbitPerSecond)} kbit/s`,
    `${s.dropped} dropped`,
  ];
  if (s.rejected > 0) parts.push(`${s.rejected} rejected`);
  parts.push(formatBytes(o.bytes), `${r.protocol ?? 'unknown'} protocol`);
  if (r.reconnects > 0) parts.push(`${r.reconnects} ${r.reconnects === 1 ? 'reconnect' : 'reconnects'}`);
  return `saved ${files}: ${parts.join(', ')}; stopped ${STOPPED_BY[r.stoppedBy]}`;
}

function summaryJson(r: RecordResult): string {
  const o = r.outcome!;
  const s = r.stats;
  return JSON.stringify({
    files: o.files,
    format: o.format,
    frames: o.frames,
    width: o.width,
    height: o.height,
    fps: round(o.fps, 3),
    durationSeconds: round(playSeconds(o, s.elapsedMs), 3),
    kbitPerSecond: Math.round(s.kbitPerSecond),
    dropped: s.dropped,
    rejected: s.rejected,
    bytes: o.bytes,
    protocol: r.protocol ?? null,
    reconnects: r.reconnects,
    stoppedBy: r.stoppedBy,
    error: r.error?.message ?? null,
  });
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
