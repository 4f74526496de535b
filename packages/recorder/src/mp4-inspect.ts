/**
 * inspectMp4(path): what a fragmented MP4 holds (its fragments with their times and frame counts)
 * and what is wrong with it, without changing it; repairMp4(path): cut an unfinished or damaged
 * tail off after the last whole fragment and add the seek index, in place.
 */
import { open } from 'node:fs/promises';
import { RecorderError, errnoOf } from './errors.js';
import { writeAll } from './file-system.js';
import { mfra } from './mp4-boxes.js';
import { planMp4Join, writeMp4Join } from './mp4-join.js';
import { type Mp4Structure, readMp4Structure } from './mp4-reader.js';

export type Mp4ProblemCode =
  | 'TRUNCATED' // the file ends inside a box (a cut copy): the whole samples before the cut count
  | 'UNFINISHED' // a fragment the writer had not finished (a killed recording): players skip it
  | 'GARBAGE' // bytes that are not a box where one should start
  | 'MISSING_INDEX' // no mfra seek index (a recording that was not closed): it plays, seeking is slower
  | 'INDEX_MISMATCH' // the mfra index points at no fragment
  | 'NOT_FRAGMENTED'; // samples described in moov (not a fragmented file): only the fragments are read

export interface Mp4Problem {
  readonly code: Mp4ProblemCode;
  readonly message: string;
}

/** One fragment as inspectMp4 lists it. */
export interface Mp4FragmentInfo {
  readonly offset: number;
  readonly bytes: number;
  /** Its first sample's time and its length, in seconds of the file's timeline. */
  readonly startSeconds: number;
  readonly durationSeconds: number;
  readonly frames: number;
  /** It starts with a keyframe: playing (or a join) can start here. */
  readonly keyframe: boolean;
}

export interface Mp4Inspection {
  readonly path: string;
  readonly fileBytes: number;
  /** Whole samples in the fragments: what players decode. */
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** RFC 6381 codec string (avc1.42c01e). */
  readonly codec: string;
  readonly timescale: number;
  /** From the first sample's time to the end of the last sample. */
  readonly durationSeconds: number;
  /** Average frames per second over that duration. */
  readonly fps: number;
  readonly fragments: Mp4FragmentInfo[];
  /** Closed with its mfra seek index, and the index agrees with the fragments. */
  readonly indexed: boolean;
  /** Empty for a file that every player reads completely. */
  readonly problems: Mp4Problem[];
}

export async function inspectMp4(path: string): Promise<Mp4Inspection> {
  return inspectMp4Structure(await readMp4Structure(path));
}

export function inspectMp4Structure(s: Mp4Structure): Mp4Inspection {
  const problems: Mp4Problem[] = [];
  const add = (code: Mp4ProblemCode, message: string): void => {
    problems.push({ code, message });
  };
  const ts = s.track.timescale;
  const first = s.fragments[0];
  const last = s.fragments.at(-1);
  const origin = first?.decodeTime ?? 0;
  const frames = s.fragments.reduce((n, f) => n + f.frames, 0);
  const duration = first && last ? (last.decodeTime + last.duration - origin) / ts : 0;
  if (s.track.moovSamples > 0) add('NOT_FRAGMENTED', `moov describes ${s.track.moovSamples} samples of its own; only the fragments are read`);
  if (s.unfinishedAt !== undefined) {
    add('UNFINISHED', `at byte ${s.unfinishedAt}: a fragment that was never finished (${s.fileBytes - s.unfinishedAt} bytes); players skip it`);
  }
  if (s.stoppedAt) {
    add(s.stoppedAt.truncated ? 'TRUNCATED' : 'GARBAGE', `at byte ${s.stoppedAt.offset}: ${s.stoppedAt.reason}; ${s.fileBytes - s.dataEnd} bytes after the last whole sample`);
  }
  let indexed = false;
  if (!s.index) {
    if (frames > 0) add('MISSING_INDEX', 'no mfra seek index: the recording was not closed; it plays, and seeking reads every fragment');
  } else {
    const moofs = new Set(s.fragments.map((f) => f.offset));
    const lost = s.index.filter((e) => !moofs.has(e.moofOffset)).length;
    if (lost > 0) add('INDEX_MISMATCH', `${lost} of the ${s.index.length} entries of mfra point at no fragment`);
    else indexed = true;
  }
  return {
    path: s.path,
    fileBytes: s.fileBytes,
    frames,
    width: s.track.width,
    height: s.track.height,
    codec: s.track.codec,
    timescale: ts,
    durationSeconds: duration,
    fps: duration > 0 ? frames / duration : 0,
    fragments: s.fragments.map((f) => ({
      offset: f.offset,
      bytes: f.bytes,
      startSeconds: (f.decodeTime - origin) / ts,
      durationSeconds: f.duration / ts,
      frames: f.frames,
      keyframe: f.keyframe,
    })),
    indexed,
    problems,
  };
}

export interface Mp4RepairResult {
  readonly path: string;
  /** Frames kept: every whole one from the first keyframe on. */
  readonly frames: number;
  /** How much smaller the file became. */
  readonly droppedBytes: number;
  /** What inspectMp4 found wrong before. */
  readonly problems: Mp4Problem[];
}

/**
 * Makes a fragmented MP4 whole, in place. A file the walk read to its end (one a crash left, with
 * an unfinished fragment or no index) is cut after its last whole fragment's mdat and gets an mfra
 * index; any other damage (a cut fragment, bytes that are no box) is rewritten from its whole
 * samples through the join, beside the file and then renamed over it. NOT_MP4 when no frame is whole.
 */
export async function repairMp4(path: string): Promise<Mp4RepairResult> {
  const s = await readMp4Structure(path);
  const problems = inspectMp4Structure(s).problems;
  const last = s.fragments.at(-1);
  if (!last) throw new RecorderError('NOT_MP4', `${path}: no whole frame to keep`);
  // After the whole box holding the last sample (its mdat), so that nothing is left cut short.
  const cut = s.stoppedAt ? undefined : s.boxEnds.find((end) => end >= last.offset + last.bytes);
  if (cut === undefined) {
    const plan = await planMp4Join([{ path }]);
    await writeMp4Join(plan, path);
    return { path, frames: plan.frames, droppedBytes: Math.max(0, s.fileBytes - plan.size), problems };
  }
  const index = mfra(s.fragments.filter((f) => f.keyframe).map((f) => ({ time: f.decodeTime, moofOffset: f.offset })));
  try {
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(cut);
      await writeAll(fh, index, cut);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    const errno = errnoOf(err);
    throw new RecorderError('WRITE_FAILED', `repairing ${path} failed (${errno ?? String(err)})`, { cause: err, ...(errno ? { errno } : {}) });
  }
  return { path, frames: s.fragments.reduce((n, f) => n + f.frames, 0), droppedBytes: s.fileBytes - cut, problems };
}
