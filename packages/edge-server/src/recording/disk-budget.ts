// What a camera's recording may still write before retention has to make room: the disk's free
// space above keep.minFree and the room under keep.maxSize, less a reserve capped by the volume.
// Frames are charged as they are handed over; each retention run measures the disk again.
import { statfs as nodeStatfs } from 'node:fs/promises';

/** What statfs tells the budget; without `total` the reserve is not capped by the volume's size. */
export interface DiskSpace {
  readonly free: number;
  readonly total?: number;
}

/** Charged per frame for its chunk header, padding and index entries, written later. */
const FRAME_OVERHEAD = 64;
/** Charged per new file for its headers. */
const FILE_OVERHEAD = 64 * 1024;

/** Room kept ahead of the writer, at most: enough for a few seconds of any camera. */
export const MAX_RESERVE = 64 * 1024 * 1024;

/**
 * The room retention keeps ahead of the writer: 64 MB, but no more than a quarter of maxSize and
 * a tenth of the volume (when its size is known), or a small volume would be kept empty.
 */
export function retentionReserve(maxSize: number, volumeBytes?: number): number {
  const volumeShare = volumeBytes === undefined ? Infinity : volumeBytes / 10;
  return Math.floor(Math.min(MAX_RESERVE, maxSize / 4, volumeShare));
}

/** Bytes that may be written before `free` falls under minFree or `stored` grows past maxSize. */
export function roomLeft(free: number, stored: number, keep: { readonly minFree: number; readonly maxSize: number }): number {
  return Math.min(free - keep.minFree, keep.maxSize - stored);
}

const defaultStatfs = async (dir: string): Promise<DiskSpace> => {
  const s = await nodeStatfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
};

/** A frame's turn at the budget: written, or refused ('exhausted' the first time since a measure). */
export type Charge = 'taken' | 'refused' | 'exhausted';

export class DiskBudget {
  /** Room kept ahead of the writer; set again from the volume's size at each measure. */
  private reserveBytes: number;
  /** Bytes charged since start; the budget is what was left at the last measure minus what was charged since. */
  private spent = 0;
  private at = { budget: 0, spent: 0 };
  /** The largest frame charged so far: less room than this (and a file's headers) is no room. */
  private largestCost = 0;
  private exhaustedAsked = false;

  constructor(
    private readonly maxSize: number,
    private readonly statfs: (dir: string) => Promise<DiskSpace> = defaultStatfs,
  ) {
    this.reserveBytes = retentionReserve(maxSize);
  }

  get reserve(): number {
    return this.reserveBytes;
  }

  /** Bytes that may still be written; negative once frames were charged past the last measure. */
  remaining(): number {
    return this.at.budget - (this.spent - this.at.spent);
  }

  /** A frame's bytes and overhead, with a file's headers when it opens a new file. */
  frameCost(jpegBytes: number, opensFile: boolean): number {
    return jpegBytes + FRAME_OVERHEAD + (opensFile ? FILE_OVERHEAD : 0);
  }

  /** After `cost`, less than half the reserve would be left: retention should make room. */
  isLow(cost: number): boolean {
    return this.remaining() - cost < this.reserveBytes / 2;
  }

  /** Charge a frame if it fits. The first refusal since a measure says 'exhausted', so retention is asked once. */
  take(cost: number): Charge {
    if (cost > this.largestCost) this.largestCost = cost;
    if (cost > this.remaining()) {
      if (this.exhaustedAsked) return 'refused';
      this.exhaustedAsked = true;
      return 'exhausted';
    }
    this.spent += cost;
    return 'taken';
  }

  /** A new segment's headers. */
  chargeFile(): void {
    this.spent += FILE_OVERHEAD;
  }

  /**
   * Where a measure starts: bytes charged minus those still queued in the recorder, which are
   * charged but not yet on the disk statfs sees.
   */
  mark(pendingBytes: number): number {
    return this.spent - pendingBytes;
  }

  /** The free space on the disk holding `dir`; the reserve follows the volume's size. */
  async measure(dir: string): Promise<{ free: number; reserve: number }> {
    const { free, total } = await this.statfs(dir);
    this.reserveBytes = retentionReserve(this.maxSize, total);
    return { free, reserve: this.reserveBytes };
  }

  /** A measure's result: `budget` bytes from `mark` on. */
  settle(budget: number, mark: number): void {
    this.at = { budget, spent: mark };
    this.exhaustedAsked = false;
  }

  /** Whether `budget` holds a new file's headers and the largest frame seen so far. */
  holdsAFrame(budget: number): boolean {
    return budget > FILE_OVERHEAD + this.largestCost;
  }
}
