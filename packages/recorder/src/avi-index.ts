/**
 * readAviIndex(path): where each frame of an AVI lies and at what rate it plays, for seeking and
 * copying frames out without decoding them.
 */
import { type AviFrameRef, readAviStructure } from './avi-reader.js';
import { DEFAULT_FRAME_RATE, type FrameRate, normalizeRate } from './frame-rate.js';

export type { AviFrameRef } from './avi-reader.js';

export interface AviFrameIndex {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: FrameRate;
  /** Every complete frame in play order: absolute data offset and size. */
  readonly frames: readonly AviFrameRef[];
}

/**
 * The frames as the file's index lists them when the index agrees with movi, else as found by
 * walking movi (a file cut short by a crash has no index yet; its complete frames still count).
 */
export async function readAviIndex(path: string): Promise<AviFrameIndex> {
  const s = await readAviStructure(path);
  const indexed = s.riffs.length === 1 ? s.idx1?.entries : s.standardIndexes.flatMap((c) => c.entries);
  const frames = indexed !== undefined && indexed.length === s.frames.length ? indexed : s.frames;
  return {
    path,
    width: s.video.width || s.main.width,
    height: s.video.height || s.main.height,
    frameRate: normalizeRate({ num: s.video.rate, den: s.video.scale }) ?? DEFAULT_FRAME_RATE,
    frames,
  };
}
