/**
 * repair(input, output?): rebuild an AVI from every complete frame on disk.
 *
 * It walks movi from the start (see avi-reader.ts: stale sizes are not trusted), stops at the
 * first truncated or invalid chunk, and writes the frames it found into a fresh file through the
 * same muxer the recorder uses: new idx1, OpenDML indx/ix00 where the frames need several RIFFs,
 * sizes and counts patched, the rate kept from the original header. Without `output` the input is
 * replaced atomically (written beside it, then renamed over it).
 */
import { open, rename, unlink } from 'node:fs/promises';
import { readJpegInfo } from '@edgecam/protocol';
import { type AviStructure, isMjpeg, readAviStructure, readBytes } from './avi-reader.js';
import { AviWriter } from './avi-writer.js';
import { RecorderError } from './errors.js';
import { nodeFs } from './file-system.js';
import { DEFAULT_FRAME_RATE, type FrameRate, normalizeRate } from './frame-rate.js';
import { type AviProblem, inspectStructure } from './inspect.js';
import { DEFAULT_RIFF_THRESHOLD } from './recorder.js';

export interface RepairOptions {
  /** RIFF size threshold of the rebuilt file (OpenDML past it). Default 1 GiB. */
  readonly riffThreshold?: number;
}

export interface RepairResult {
  readonly input: string;
  readonly output: string;
  /** Frames in the repaired file: every complete frame found. */
  readonly frames: number;
  readonly riffs: number;
  readonly frameRate: FrameRate;
  /** Bytes of the input after its last complete chunk (a cut frame), left out. */
  readonly droppedBytes: number;
  /** What inspect() found wrong with the input. */
  readonly problems: AviProblem[];
}

/** Memory held for frames copied but not yet written. */
const COPY_QUEUE_BYTES = 8 * 1024 * 1024;

export async function repair(input: string, output?: string, options: RepairOptions = {}): Promise<RepairResult> {
  const s = await readAviStructure(input);
  if (!isMjpeg(s.video)) throw new RecorderError('NOT_AVI', `${input}: repair handles MJPEG AVI files; this one is ${s.video.compression || s.video.handler}`);
  if (s.frames.length === 0) throw new RecorderError('NOT_AVI', `${input}: no complete frame to keep`);
  const inPlace = output === undefined || output === input;
  const target = inPlace ? `${input}.repair-${process.pid}.tmp` : output;
  const rate = normalizeRate({ num: s.video.rate, den: s.video.scale }) ?? DEFAULT_FRAME_RATE;
  const problems = inspectStructure(s).problems;

  const src = await open(input, 'r');
  let writer: AviWriter | undefined;
  try {
    const size = await frameSize(s, src);
    let failure: RecorderError | undefined;
    writer = new AviWriter({
      path: target,
      segment: 1,
      fs: nodeFs,
      fsync: true,
      frameRate: rate,
      riffThreshold: options.riffThreshold ?? DEFAULT_RIFF_THRESHOLD,
      hooks: { onOpened: () => undefined, onProgress: () => undefined, onFailure: (e) => { failure = e; } },
    });
    for (const f of s.frames) {
      if (failure) break;
      // Chunks are copied as they are: ffmpeg's zero-size "repeat the last frame" chunks too.
      writer.append(f.size > 0 ? await readBytes(src, f.offset, f.size) : Buffer.alloc(0), size, undefined);
      if (writer.pendingBytes > COPY_QUEUE_BYTES) await writer.drain().catch(() => undefined);
    }
    const summary = await writer.close();
    if (summary.error) throw summary.error;
    if (inPlace) await rename(target, input);
    return {
      input,
      output: inPlace ? input : target,
      frames: summary.frames,
      riffs: summary.riffs,
      frameRate: summary.frameRate,
      droppedBytes: s.fileBytes - s.dataEnd,
      problems,
    };
  } catch (err) {
    await writer?.close().catch(() => undefined);
    if (inPlace) await unlink(target).catch(() => undefined);
    throw err;
  } finally {
    await src.close();
  }
}

/** JPEG sizes are u16; anything else in a header is damage, and the muxer could not write it. */
function plausible(size: { width: number; height: number }): boolean {
  return size.width > 0 && size.height > 0 && size.width <= 0xffff && size.height <= 0xffff;
}

/** Frame size from the header, or from the first JPEG when the header has none (or a damaged one). */
async function frameSize(s: AviStructure, src: Awaited<ReturnType<typeof open>>): Promise<{ width: number; height: number }> {
  const stream = { width: s.video.width, height: s.video.height };
  if (plausible(stream)) return stream;
  const first = s.frames.find((f) => f.size > 0);
  if (first) {
    try {
      return readJpegInfo(await readBytes(src, first.offset, first.size));
    } catch {
      // fall through
    }
  }
  const main = { width: s.main.width, height: s.main.height };
  if (plausible(main)) return main;
  throw new RecorderError('NOT_AVI', `${s.path}: no usable frame size (the headers say ${stream.width}x${stream.height}, and the first frame is no JPEG)`);
}
