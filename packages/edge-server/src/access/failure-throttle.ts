// Slows down guessing: after a few wrong tokens from one address, that address is refused for a
// while (1 s, doubling with each further failure, up to a minute), whatever it presents and
// however many connections it opens in parallel. Refusing outright, rather than delaying each
// answer, means a guesser gains nothing from parallel connections, and honest clients still get
// their answer at once (an auto-negotiating CLI gives up on v2 after a second of silence).
import { LruMap } from './lru-map.js';

/** How FailureThrottle slows down wrong tokens. */
export interface ThrottleTuning {
  /** Wrong tokens from one address that are answered as such; the last of them starts the first block. */
  freeFailures: number;
  /** The first block; each further failure doubles it. */
  baseBlockMs: number;
  maxBlockMs: number;
  /** An address that has not failed for this long starts over. */
  forgetAfterMs: number;
  /** Addresses remembered at most (least recently failed forgotten first). */
  maxAddresses: number;
}

/** The throttle the server uses unless tests tune it. */
export const DEFAULT_THROTTLE: Readonly<ThrottleTuning> = {
  freeFailures: 5,
  baseBlockMs: 1_000,
  maxBlockMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxAddresses: 10_000,
};

interface Record {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** Counts wrong tokens per peer address and blocks those that keep guessing. */
export class FailureThrottle {
  private readonly t: ThrottleTuning;
  private readonly records: LruMap<string, Record>;

  constructor(tuning: Partial<ThrottleTuning> = {}) {
    this.t = { ...DEFAULT_THROTTLE, ...tuning };
    this.records = new LruMap(this.t.maxAddresses);
  }

  /** Addresses currently remembered (for tests and metrics). */
  get size(): number {
    return this.records.size;
  }

  /** Milliseconds this address must still wait, 0 if it may try now. */
  blockedFor(key: string, now: number): number {
    const r = this.records.get(key);
    return r ? Math.max(0, r.blockedUntil - now) : 0;
  }

  /** Records a wrong token; returns the block now in force (0 while within the free failures). */
  failure(key: string, now: number): number {
    let r = this.records.get(key);
    if (!r || now - r.lastFailureAt > this.t.forgetAfterMs) r = { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    r.failures++;
    r.lastFailureAt = now;
    // "After 5 wrong tokens the address is refused": the 5th starts the block, the 6th try meets it.
    const over = r.failures - this.t.freeFailures + 1;
    if (over > 0) {
      const block = Math.min(this.t.maxBlockMs, this.t.baseBlockMs * 2 ** Math.min(over - 1, 30));
      r.blockedUntil = now + block;
    }
    this.records.set(key, r);
    return Math.max(0, r.blockedUntil - now);
  }

  /** The right token: the address starts over. */
  success(key: string): void {
    this.records.delete(key);
  }
}
