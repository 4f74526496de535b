// Requests per address, as a token bucket: `burst` requests at once, then `ratePerSecond`.
// Bounded like every per-address table; an address that is forgotten simply starts with a full
// bucket, which is what it would have after a pause anyway.
import { addressKey, peerKey } from './address-key.js';
import { LruMap } from './lru-map.js';

/** Options of RateLimiter. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
  maxAddresses?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per peer address. */
export class RateLimiter {
  private readonly buckets: LruMap<string, Bucket>;

  constructor(private readonly limit: RateLimit) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new RangeError('rate limit needs ratePerSecond > 0 and burst >= 1');
    this.buckets = new LruMap(limit.maxAddresses ?? 10_000);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one request from the address's budget: 0 if allowed, else the ms until it would be. */
  take(key: string, now: number): number {
    const b = this.refill(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return this.wait(b);
  }

  /**
   * Counts one request even when the budget is spent: the address then owes up to `burst`
   * requests, so each one it sends while refused makes it wait longer. Returns that wait in ms.
   */
  charge(key: string, now: number): number {
    const b = this.refill(key, now);
    b.tokens = Math.max(-this.limit.burst, b.tokens - 1);
    return this.wait(b);
  }

  /** Whether the address has spent its budget (it would be refused now); takes nothing. */
  spent(key: string, now: number): boolean {
    const b = this.buckets.get(key);
    return b !== undefined && b.tokens + ((now - b.at) * this.limit.ratePerSecond) / 1000 < 1;
  }

  private refill(key: string, now: number): Bucket {
    const { ratePerSecond, burst } = this.limit;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerSecond) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    return b;
  }

  private wait(b: Bucket): number {
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 1000) / this.limit.ratePerSecond);
  }
}

/** How much larger the budget of an IPv6 /64 is than that of one host in it. */
export const NETWORK_BUDGET_FACTOR = 8;

/**
 * Requests per host (peerKey), and per IPv6 /64 (addressKey) a budget NETWORK_BUDGET_FACTOR times
 * larger, as FailureThrottle counts wrong tokens: on a SLAAC LAN every host shares one /64, so the
 * /64's budget never refuses a host within its own. It only makes a host that is over its own
 * budget, in a /64 over its budget too, wait longer for each request it sends while refused.
 */
export class HostRateLimiter {
  private readonly perHost: RateLimiter;
  private readonly perNetwork: RateLimiter;

  constructor(limit: RateLimit) {
    this.perHost = new RateLimiter(limit);
    this.perNetwork = new RateLimiter({
      ...limit,
      ratePerSecond: limit.ratePerSecond * NETWORK_BUDGET_FACTOR,
      burst: limit.burst * NETWORK_BUDGET_FACTOR,
    });
  }

  /** Takes one request from the host's budget (and counts it for its /64): 0 if allowed, else the ms until it would be. */
  take(remoteAddress: string | undefined, now: number): number {
    const host = peerKey(remoteAddress);
    const network = addressKey(remoteAddress);
    const waitMs = this.perHost.take(host, now);
    if (network === host) return waitMs;
    // The /64 counts what its hosts were let in for; when it is spent, that is all it records.
    if (waitMs === 0) {
      this.perNetwork.take(network, now);
      return 0;
    }
    return this.perNetwork.spent(network, now) ? this.perHost.charge(host, now) : waitMs;
  }
}
