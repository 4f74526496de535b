/**
 * inspect(path): what an AVI holds and what is wrong with it, without changing it.
 */
import { type AviFrameRef, type AviStructure, isMjpeg, readAviStructure } from './avi-reader.js';
import { DEFAULT_FRAME_RATE, type FrameRate, normalizeRate } from './frame-rate.js';

export type AviProblemCode =
  | 'TRUNCATED' // the file ends inside a chunk (a recording that was killed, or a cut copy)
  | 'GARBAGE' // bytes that are not a chunk where one should start
  | 'MISSING_INDEX' // no idx1 (one RIFF) or no complete OpenDML index (several RIFFs)
  | 'INDEX_MISMATCH' // an index disagrees with the chunks in movi
  | 'COUNT_MISMATCH' // a header's frame count disagrees with the frames found
  | 'SIZE_MISMATCH' // a RIFF or movi size disagrees with what the file holds
  | 'NOT_MJPEG'; // the video stream is not MJPEG (repair refuses it)

export interface AviProblem {
  readonly code: AviProblemCode;
  readonly message: string;
}

export interface AviInspection {
  readonly path: string;
  readonly fileBytes: number;
  /** Complete video chunks found walking movi (ffmpeg's zero-size "repeat" chunks included). */
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** From strh (dwRate / dwScale). */
  readonly frameRate: FrameRate;
  readonly fps: number;
  readonly durationSeconds: number;
  /** Video stream compression fourcc ('MJPG'). */
  readonly codec: string;
  readonly riffs: number;
  /** An index covers every frame: idx1 for one RIFF; indx + ix00 for several. */
  readonly indexed: boolean;
  /** Empty for a file that every player reads completely. */
  readonly problems: AviProblem[];
}

export async function inspect(path: string): Promise<AviInspection> {
  const s = await readAviStructure(path);
  return inspectStructure(s);
}

export function inspectStructure(s: AviStructure): AviInspection {
  const problems: AviProblem[] = [];
  const add = (code: AviProblemCode, message: string): void => {
    problems.push({ code, message });
  };
  const frames = s.frames.length;
  const rate = normalizeRate({ num: s.video.rate, den: s.video.scale }) ?? DEFAULT_FRAME_RATE;

  if (!isMjpeg(s.video)) add('NOT_MJPEG', `the video stream is ${s.video.compression || s.video.handler}, not MJPEG`);
  if (s.stoppedAt) {
    const code = s.stoppedAt.reason.includes('past the end') || s.stoppedAt.reason.includes('trailing') ? 'TRUNCATED' : 'GARBAGE';
    add(code, `at byte ${s.stoppedAt.offset}: ${s.stoppedAt.reason}; ${s.fileBytes - s.stoppedAt.offset} bytes after the last complete chunk`);
  }

  // Counts in the headers.
  if (s.video.length !== frames) add('COUNT_MISMATCH', `strh.dwLength says ${s.video.length} frames, movi holds ${frames}`);
  if (s.grandFrames !== undefined && s.grandFrames !== 0 && s.grandFrames !== frames) {
    add('COUNT_MISMATCH', `dmlh says ${s.grandFrames} frames, movi holds ${frames}`);
  }
  const firstRiffFrames = s.riffs[0]!.frames;
  if (s.main.totalFrames !== firstRiffFrames) {
    add('COUNT_MISMATCH', `avih.dwTotalFrames says ${s.main.totalFrames} frames, the first RIFF holds ${firstRiffFrames}`);
  }

  // Sizes: each RIFF should end where the next starts (the last one, at the end of the data).
  s.riffs.forEach((riff, i) => {
    const actualEnd = i + 1 < s.riffs.length ? s.riffs[i + 1]!.offset : s.dataEnd;
    const declaredEnd = riff.offset + 8 + riff.size;
    if (declaredEnd !== actualEnd) {
      add('SIZE_MISMATCH', `RIFF ${i} ('${riff.form}') declares ${riff.size} bytes but holds ${actualEnd - riff.offset - 8}`);
    }
  });

  // Indexes.
  let indexed = false;
  if (s.riffs.length === 1) {
    if (!s.idx1) add('MISSING_INDEX', 'no idx1 index: players cannot seek');
    else if (!sameFrames(s.idx1.entries, s.frames)) {
      add('INDEX_MISMATCH', `idx1 lists ${s.idx1.entries.length} frames that do not match the ${frames} in movi`);
    } else indexed = true;
  } else {
    const ix = s.standardIndexes.flatMap((c) => c.entries);
    const superOk = s.video.superIndex.length === s.riffs.length
      && s.video.superIndex.every((e) => s.standardIndexes.some((c) => c.offset === e.offset));
    if (s.video.superIndex.length === 0 || s.standardIndexes.length === 0) add('MISSING_INDEX', 'several RIFFs but no OpenDML index (indx + ix00)');
    else if (!superOk || !sameFrames(ix, s.frames)) {
      add('INDEX_MISMATCH', `the OpenDML index lists ${ix.length} frames in ${s.video.superIndex.length} RIFFs; movi holds ${frames} in ${s.riffs.length}`);
    } else indexed = true;
  }

  const width = s.video.width || s.main.width;
  const height = s.video.height || s.main.height;
  return {
    path: s.path,
    fileBytes: s.fileBytes,
    frames,
    width,
    height,
    frameRate: rate,
    fps: rate.num / rate.den,
    durationSeconds: (frames * rate.den) / rate.num,
    codec: s.video.compression || s.video.handler,
    riffs: s.riffs.length,
    indexed,
    problems,
  };
}

function sameFrames(a: readonly AviFrameRef[], b: readonly AviFrameRef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.offset !== b[i]!.offset || a[i]!.size !== b[i]!.size) return false;
  }
  return true;
}
