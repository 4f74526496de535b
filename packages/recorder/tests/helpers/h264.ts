/**
 * Test H.264: ffmpeg's test pattern encoded with libx264 as the edge server's encoder does
 * (baseline, no B-frames, SPS/PPS before every keyframe, an access unit delimiter before every
 * picture), split into access units at the delimiters.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from './ffmpeg.js';

export interface H264Options {
  readonly size?: string;
  /** Frames from one keyframe to the next. */
  readonly gop?: number;
  readonly profile?: 'baseline' | 'main' | 'high';
  readonly bitrateKbps?: number;
  /** x264's preset: ultrafast uses only baseline tools whatever the profile says. */
  readonly preset?: string;
}

/** `count` access units (Annex B, one picture each) of the moving test pattern. */
export async function makeH264(count: number, o: H264Options = {}): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edgecam-h264-'));
  try {
    const out = join(dir, 'out.h264');
    const gop = o.gop ?? 30;
    const r = await runFfmpeg([
      '-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${o.size ?? '160x120'}:rate=30`, '-frames:v', String(count),
      '-c:v', 'libx264', '-preset', o.preset ?? 'ultrafast', '-tune', 'zerolatency', '-profile:v', o.profile ?? 'baseline', '-pix_fmt', 'yuv420p',
      '-x264-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:repeat-headers=1`,
      ...(o.bitrateKbps ? ['-b:v', `${o.bitrateKbps}k`] : []),
      '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', out,
    ], 60_000);
    if (r.code !== 0) throw new Error(`ffmpeg could not make test H.264: ${r.stderr}`);
    return splitAtDelimiters(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Annex-B bytes cut before every access unit delimiter (00 00 00 01 09). */
export function splitAtDelimiters(data: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 4 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 0 && data[i + 3] === 1 && (data[i + 4]! & 0x1f) === 9) starts.push(i);
  }
  return starts.map((s, k) => data.subarray(s, starts[k + 1] ?? data.length));
}

/** Whether an access unit holds an IDR slice (NAL type 5). */
export function isIdr(unit: Buffer): boolean {
  for (let i = 0; i + 3 < unit.length; i++) {
    if (unit[i] === 0 && unit[i + 1] === 0 && unit[i + 2] === 1 && (unit[i + 3]! & 0x1f) === 5) return true;
  }
  return false;
}
