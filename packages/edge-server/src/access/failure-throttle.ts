// Slows down guessing: after a few wrong tokens from one address, that address is refused for a
// while (1 s, doubling with each further failure, up to a minute), whatever it presents and
// however many connections it opens in parallel. Refusing outright, rather than delaying each
// answer, means a guesser gains nothing from parallel connections, and honest clients still get
// their answer at once (an auto-negotiating CLI gives up on v2 after a second of silence).
// Blocks are per address, so one host cannot lock out another. A host rotating through the
// addresses of its IPv6 /64 meets a coarser budget instead: once the /64 has had many wrong
// tokens, each of its addresses is blocked at its first one. That never blocks a right token
// (hosts sharing the /64 keep getting in), so it only slows such a guesser down; a long random
// token is what stops it.
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
  /** Addresses remembered at most (least recently failed forgotten first); as many networks too. */
  maxAddresses: number;
  /** Wrong tokens from one IPv6 /64 (any of its addresses) after which each address has no free failures. */
  networkFreeFailures: number;
}

/** The throttle the server uses unless tests tune it. */
export const DEFAULT_THROTTLE: Readonly<ThrottleTuning> = {
  freeFailures: 5,
  baseBlockMs: 1_000,
  maxBlockMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxAddresses: 10_000,
  networkFreeFailures: 50,
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
  private readonly networks: LruMap<string, Record>;

  constructor(tuning: Partial<ThrottleTuning> = {}) {
    this.t = { ...DEFAULT_THROTTLE, ...tuning };
    this.records = new LruMap(this.t.maxAddresses);
    this.networks = new LruMap(this.t.maxAddresses);
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

  /**
   * Records a wrong token from the address `key`, in the network `network` (its IPv6 /64; omit
   * for IPv4); returns the block now in force (0 while within the free failures).
   */
  failure(key: string, now: number, network?: string): number {
    const r = this.count(this.records, key, now);
    const crowded = network !== undefined && network !== key && this.count(this.networks, network, now).failures > this.t.networkFreeFailures;
    // "After 5 wrong tokens the address is refused": the 5th starts the block, the 6th try meets it.
    const over = r.failures - (crowded ? 1 : this.t.freeFailures) + 1;
    if (over > 0) {
      const block = Math.min(this.t.maxBlockMs, this.t.baseBlockMs * 2 ** Math.min(over - 1, 30));
      r.blockedUntil = now + block;
    }
    return Math.max(0, r.blockedUntil - now);
  }

  /** One more failure in the table, started over when the last one is long ago. */
  private count(table: LruMap<string, Record>, key: string, now: number): Record {
    let r = table.get(key);
    if (!r || now - r.lastFailureAt > this.t.forgetAfterMs) r = { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    r.failures++;
    r.lastFailureAt = now;
    table.set(key, r);
    return r;
  }

  /** The right token: the address starts over. */
  success(key: string): void {
    this.records.delete(key);
  }
}
