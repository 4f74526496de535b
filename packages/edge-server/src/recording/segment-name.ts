// Segment file names carry the wall-clock time of their first frame, in Unix ms, so a listing
// sorts and seeks without opening a file: `1733070000000_001.avi`, `1733070000000_001.mp4` (an
// MP4's is its first frame's capture time, the instant its timeline counts from).

/** What a camera records into: MJPEG AVI from its JPEGs, or fragmented MP4 from its H.264. */
export type SegmentFormat = 'avi' | 'mp4';

/** The recorder's file name pattern (its tokens, expanded as each segment opens). */
export function segmentPattern(format: SegmentFormat): string {
  return `{unixms}_{index:3}.${format}`;
}

const SEGMENT_RE = /^(\d{10,15})_(\d{1,9})\.(avi|mp4)$/;

/** Start time (Unix ms) of a segment file name, or undefined for a name that is not ours. */
export function segmentStart(file: string): number | undefined {
  const m = SEGMENT_RE.exec(file);
  return m === null ? undefined : Number(m[1]);
}

/** The format of one of our segment names (undefined for a name that is not ours). */
export function segmentFormat(file: string): SegmentFormat | undefined {
  return SEGMENT_RE.exec(file)?.[3] as SegmentFormat | undefined;
}

/** Camera names become directory names: only these are allowed. */
export const CAMERA_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
