/**
 * Debian's ffprobe (tools/players.mjs installs it; the ffmpeg the workspace resolves ships none):
 * how many frames a player decodes from a file, and the times it gives them.
 */
import { run } from './run.js';

export const FFPROBE = '/usr/bin/ffprobe';

export interface Probe {
  /** Frames decoded (-count_frames). */
  readonly frames: number;
  /** Each video packet's presentation time in seconds, in file order. */
  readonly times: number[];
  readonly width: number;
  readonly height: number;
  /** What ffprobe printed at -v error (empty for a clean file). */
  readonly errors: string;
}

export async function probe(file: string): Promise<Probe> {
  const r = await run(FFPROBE, [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames,width,height:packet=pts_time', '-of', 'json', file,
  ], 60_000);
  let parsed: { streams?: Array<{ nb_read_frames?: string; width?: number; height?: number }>; packets?: Array<{ pts_time?: string }> } = {};
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    // ffprobe could not open the file: no streams
  }
  const stream = parsed.streams?.[0];
  return {
    frames: Number(stream?.nb_read_frames ?? 0),
    times: (parsed.packets ?? []).map((p) => Number(p.pts_time)),
    width: stream?.width ?? 0,
    height: stream?.height ?? 0,
    errors: r.stderr.trim(),
  };
}
