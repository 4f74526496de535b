/**
 * Joining fragmented MP4 files (a camera's segments) into one, over a time range, without
 * re-encoding: the samples are copied as they are; only the boxes around them are new.
 *
 * planMp4Join() reads the inputs' fragment tables and lays out the output: its size is known
 * before a byte is produced, and any byte range of it can be produced alone (readMp4Join), which
 * is what an HTTP range request on a file built on the fly needs. writeMp4Join() writes it all.
 *
 * The output starts at the last keyframe at or before `fromMs` (so it decodes from its first
 * frame) and ends with the last frame at or before `toMs`. Gaps between inputs are closed: each
 * input follows the previous one's last frame; `parts` says where each input's frames landed.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { RecorderError, errnoOf } from './errors.js';
import { sameParameterSets } from './h264-access-unit.js';
import { readBytes } from './file-reader.js';
import { type FragmentSample, TIMESCALE, fragmentHeader, initSegment, mfra } from './mp4-boxes.js';
import { type Mp4Structure, readMp4Structure } from './mp4-reader.js';

export interface Mp4JoinInput {
  readonly path: string;
  /** Wall-clock time (Unix ms) of the file's first sample; default: right after the previous input. */
  readonly startMs?: number;
}

export interface Mp4JoinOptions {
  /** Keep frames from this instant (Unix ms, or ms of the inputs' own timeline); default: the start. */
  readonly fromMs?: number;
  /** Keep frames up to this instant; default: the end. */
  readonly toMs?: number;
}

/** Where one input's frames are in the output. */
export interface Mp4JoinPart {
  readonly path: string;
  /** Wall-clock time of its first frame kept, and where that frame plays in the output (s). */
  readonly startMs: number;
  readonly mediaStartSeconds: number;
  readonly durationSeconds: number;
  readonly frames: number;
}

type Piece = { readonly bytes: Buffer } | { readonly path: string; readonly offset: number; readonly length: number };

export interface Mp4JoinPlan {
  /** Bytes of the output. */
  readonly size: number;
  readonly frames: number;
  readonly durationSeconds: number;
  /** Wall-clock time of the output's first frame. */
  readonly startMs: number;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  readonly parts: readonly Mp4JoinPart[];
  /** The output in order, with the offset each piece starts at (for range reads). */
  readonly pieces: readonly Piece[];
  readonly pieceStarts: readonly number[];
}

/** One output sample: where its data is, and its time in TIMESCALE ticks of the output. */
interface Kept {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  readonly keyframe: boolean;
  time: number;
  duration: number;
}

/** Reads the inputs' structure and lays out the joined file. NOT_MP4 when no frame falls in the range. */
export async function planMp4Join(inputs: readonly Mp4JoinInput[], options: Mp4JoinOptions = {}): Promise<Mp4JoinPlan> {
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const structures: Array<{ input: Mp4JoinInput; s: Mp4Structure; startMs: number }> = [];
  let nextStart = 0;
  for (const input of inputs) {
    const s = await readMp4Structure(input.path);
    const startMs = input.startMs ?? nextStart;
    const span = spanMs(s);
    nextStart = startMs + span;
    if (s.fragments.length === 0 || startMs + span <= from || startMs > to) continue;
    const first = structures[0]?.s;
    if (first && !sameParameterSets(first.track, s.track)) {
      throw new RecorderError(
        'SIZE_MISMATCH',
        `${input.path} is H.264 of other parameters (${s.track.width}x${s.track.height}, ${s.track.codec}) than ${structures[0]!.input.path} (${first.track.width}x${first.track.height}, ${first.track.codec}): join the two stretches separately`,
      );
    }
    structures.push({ input, s, startMs });
  }
  // Start at the last keyframe at or before `from` (a decoder starts there), else at the first one.
  let start: [number, number, number] | undefined;
  let firstSync: [number, number, number] | undefined;
  structures.forEach(({ s, startMs }, i) => {
    const msOf = timeline(s, startMs);
    s.fragments.forEach((f, j) => {
      for (let k = 0; k < f.frames; k++) {
        if (f.samples.sync[k] !== 1) continue;
        const ms = msOf(f.samples.times[k]!);
        if (ms <= from) start = [i, j, k];
        else if (!firstSync && ms <= to) firstSync = [i, j, k];
      }
    });
  });
  start ??= firstSync;
  const runs: Array<{ path: string; startMs: number; samples: Kept[][] }> = [];
  if (start) {
    const [i0, j0, k0] = start;
    for (let i = i0; i < structures.length; i++) {
      const { input, s, startMs } = structures[i]!;
      const msOf = timeline(s, startMs);
      const origin = s.fragments[0]!.decodeTime;
      const scale = s.track.timescale;
      const fragments: Kept[][] = [];
      for (let j = i === i0 ? j0 : 0; j < s.fragments.length; j++) {
        const f = s.fragments[j]!;
        const kept: Kept[] = [];
        for (let k = i === i0 && j === j0 ? k0 : 0; k < f.frames && msOf(f.samples.times[k]!) <= to; k++) {
          kept.push({
            path: input.path,
            offset: f.samples.offsets[k]!,
            size: f.samples.sizes[k]!,
            keyframe: f.samples.sync[k] === 1,
            time: Math.round(((f.samples.times[k]! - origin) * TIMESCALE) / scale),
            duration: Math.round((f.samples.durations[k]! * TIMESCALE) / scale),
          });
        }
        if (kept.length > 0) fragments.push(kept);
      }
      if (fragments.length > 0) runs.push({ path: input.path, startMs, samples: fragments });
    }
  }
  return layout(structures[0]?.s, runs);
}

/** Wall-clock ms of a decode time of `s`, whose first sample is at `startMs`. */
function timeline(s: Mp4Structure, startMs: number): (time: number) => number {
  const origin = s.fragments[0]!.decodeTime;
  const scale = s.track.timescale;
  return (time) => startMs + ((time - origin) * 1000) / scale;
}

/** From the first sample's time to the end of the last, in ms. */
function spanMs(s: Mp4Structure): number {
  const first = s.fragments[0];
  const last = s.fragments.at(-1);
  return first && last ? ((last.decodeTime + last.duration - first.decodeTime) * 1000) / s.track.timescale : 0;
}

/** The output's pieces: init, then per source fragment a new moof and mdat header and its samples' data, then mfra. */
function layout(first: Mp4Structure | undefined, runs: Array<{ path: string; startMs: number; samples: Kept[][] }>): Mp4JoinPlan {
  if (!first || runs.length === 0) throw new RecorderError('NOT_MP4', 'no frame of the inputs falls inside that time range');
  const pieces: Piece[] = [];
  const pieceStarts: number[] = [];
  let pos = 0;
  const add = (p: Piece): void => {
    pieceStarts.push(pos);
    pieces.push(p);
    pos += 'bytes' in p ? p.bytes.length : p.length;
  };
  const startMs = runs[0]!.startMs + (runs[0]!.samples[0]![0]!.time * 1000) / TIMESCALE;
  add({ bytes: initSegment(first.track, startMs) });
  const points: Array<{ time: number; moofOffset: number }> = [];
  const parts: Mp4JoinPart[] = [];
  let base = 0; // where the current input's first kept sample plays
  let sequence = 0;
  let frames = 0;
  for (const run of runs) {
    const origin = run.samples[0]![0]!.time;
    const end = retime(run.samples, base);
    let runFrames = 0;
    for (const fragment of run.samples) {
      const samples: FragmentSample[] = fragment.map((k) => ({ duration: k.duration, size: k.size, keyframe: k.keyframe }));
      if (fragment[0]!.keyframe) points.push({ time: fragment[0]!.time, moofOffset: pos });
      add({ bytes: fragmentHeader(++sequence, fragment[0]!.time, samples) });
      // Samples lying back to back in the input are copied in one piece.
      let i = 0;
      while (i < fragment.length) {
        let j = i + 1;
        let length = fragment[i]!.size;
        while (j < fragment.length && fragment[j]!.path === fragment[i]!.path && fragment[j]!.offset === fragment[i]!.offset + length) length += fragment[j++]!.size;
        add({ path: fragment[i]!.path, offset: fragment[i]!.offset, length });
        i = j;
      }
      runFrames += fragment.length;
    }
    parts.push({ path: run.path, startMs: run.startMs + (origin * 1000) / TIMESCALE, mediaStartSeconds: base / TIMESCALE, durationSeconds: (end - base) / TIMESCALE, frames: runFrames });
    frames += runFrames;
    base = end;
  }
  add({ bytes: mfra(points) });
  const spsInfo = first.track.spsInfo;
  return { size: pos, frames, durationSeconds: base / TIMESCALE, startMs, width: spsInfo.width, height: spsInfo.height, codec: first.track.codec, parts, pieces, pieceStarts };
}

/** The longest step between two samples: a damaged file's times are not followed past it. */
const MAX_STEP = 60 * TIMESCALE;

/**
 * Gives a run's samples their output times from `base` on, keeping their spacing, and durations
 * that reach the next sample. A step back, none, or one past MAX_STEP (only a damaged file has
 * them) becomes the previous duration. Returns where the run ends.
 */
function retime(fragments: Kept[][], base: number): number {
  const all = fragments.flat();
  let step = Math.min(Math.max(1, all[0]!.duration), MAX_STEP);
  let prevIn = all[0]!.time;
  let out = base;
  for (const [i, k] of all.entries()) {
    const delta = k.time - prevIn;
    if (i > 0) out += delta > 0 && delta <= MAX_STEP ? (step = delta) : step;
    prevIn = k.time;
    k.time = out;
  }
  all.forEach((k, i) => (k.duration = i + 1 < all.length ? all[i + 1]!.time - k.time : Math.min(Math.max(1, k.duration), MAX_STEP)));
  const last = all.at(-1)!;
  return last.time + last.duration;
}

/**
 * The bytes of the planned output from `start` to `end` (inclusive), in pieces of at most
 * `chunkBytes`. Inputs are read as needed; an input that changed since the plan fails with READ_FAILED.
 */
export async function* readMp4Join(plan: Mp4JoinPlan, start = 0, end = plan.size - 1, chunkBytes = 256 * 1024): AsyncGenerator<Buffer> {
  const handles = new Map<string, FileHandle>();
  try {
    let i = findPiece(plan, start);
    for (let pos = start; pos <= end && i < plan.pieces.length; i++) {
      const piece = plan.pieces[i]!;
      const pieceStart = plan.pieceStarts[i]!;
      const length = 'bytes' in piece ? piece.bytes.length : piece.length;
      const from = pos - pieceStart;
      const upTo = Math.min(length, end - pieceStart + 1);
      if ('bytes' in piece) {
        yield piece.bytes.subarray(from, upTo);
      } else {
        let fh = handles.get(piece.path);
        if (!fh) {
          fh = await open(piece.path, 'r').catch((err: unknown) => {
            const errno = errnoOf(err);
            throw new RecorderError('READ_FAILED', `cannot open ${piece.path} (${errno ?? String(err)})`, { cause: err, ...(errno ? { errno } : {}) });
          });
          handles.set(piece.path, fh);
        }
        for (let at = from; at < upTo; at += chunkBytes) yield await readBytes(fh, piece.offset + at, Math.min(chunkBytes, upTo - at));
      }
      pos = pieceStart + upTo;
    }
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
}

/** The index of the piece holding byte `pos`. */
function findPiece(plan: Mp4JoinPlan, pos: number): number {
  let lo = 0;
  let hi = plan.pieceStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.pieceStarts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Writes the planned output to `output` (beside it first, then renamed over it). */
export async function writeMp4Join(plan: Mp4JoinPlan, output: string): Promise<void> {
  const tmp = `${output}.join-${process.pid}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      for await (const chunk of readMp4Join(plan)) await fh.write(chunk);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, output);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof RecorderError) throw err;
    const errno = errnoOf(err);
    throw new RecorderError('WRITE_FAILED', `writing ${output} failed (${errno ?? String(err)})`, { cause: err, ...(errno ? { errno } : {}) });
  }
}

/** planMp4Join then writeMp4Join: the inputs' frames in the range, as one MP4 at `output`. */
export async function joinMp4(inputs: readonly Mp4JoinInput[], output: string, options: Mp4JoinOptions = {}): Promise<Mp4JoinPlan> {
  const plan = await planMp4Join(inputs, options);
  await writeMp4Join(plan, output);
  return plan;
}
