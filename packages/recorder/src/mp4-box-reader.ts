/**
 * Walking the boxes inside a box held in memory (moov, moof, mfra): each child's type and content
 * range, with every size checked against its parent, so a damaged size ends the walk instead of
 * reading outside the buffer.
 */

/** A box's type and the range of its content (after the header) in the buffer. */
export interface Box {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

export function fourccAt(b: Buffer, at: number): string {
  return b.toString('latin1', at, at + 4);
}

/** A big-endian u64 as a number (offsets and times stay below 2^53). */
export function readU64(b: Buffer, at: number): number {
  return b.readUInt32BE(at) * 2 ** 32 + b.readUInt32BE(at + 4);
}

/** The boxes directly inside `parent`, in order, until one does not fit. */
export function* boxesIn(b: Buffer, parent: Box): Generator<Box> {
  let p = parent.start;
  while (p + 8 <= parent.end) {
    let size = b.readUInt32BE(p);
    let header = 8;
    if (size === 1) {
      if (p + 16 > parent.end) return;
      size = readU64(b, p + 8);
      header = 16;
    } else if (size === 0) size = parent.end - p;
    if (size < header || p + size > parent.end) return;
    yield { type: fourccAt(b, p + 4), start: p + header, end: p + size };
    p += size;
  }
}

/** The first box along `path` below `parent` (child('minf', 'stbl') is mdia's minf's stbl). */
export function child(b: Buffer, parent: Box, ...path: string[]): Box | undefined {
  let at: Box | undefined = parent;
  for (const type of path) {
    let found: Box | undefined;
    for (const c of boxesIn(b, at)) {
      if (c.type === type) {
        found = c;
        break;
      }
    }
    if (!found) return undefined;
    at = found;
  }
  return at;
}
