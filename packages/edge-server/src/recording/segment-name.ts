// Segment file names carry the wall-clock time their first frame was written, in Unix ms, so a
// listing sorts and seeks without opening a file: `1733070000000_001.avi`.

/** The recorder's file name pattern (its tokens, expanded as each segment opens). */
export const SEGMENT_PATTERN = '{unixms}_{index:3}.avi';

const SEGMENT_RE = /^(\d{10,15})_(\d{1,9})\.avi$/;

/** Start time (Unix ms) of a segment file name, or undefined for a name that is not ours. */
export function segmentStart(file: string): number | undefined {
  const m = SEGMENT_RE.exec(file);
  return m === null ? undefined : Number(m[1]);
}

/** Camera names become directory names: only these are allowed. */
export const CAMERA_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
