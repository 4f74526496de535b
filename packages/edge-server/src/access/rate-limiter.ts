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
    const { ratePerSecond, burst } = this.limit;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerSecond) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 1000) / ratePerSecond);
  }
}

/** How much larger the budget of an IPv6 /64 is than that of one host in it. */
export const NETWORK_BUDGET_FACTOR = 8;

/**
 * Requests per host (peerKey), and per IPv6 /64 (addressKey) a budget NETWORK_BUDGET_FACTOR times
 * larger: on a SLAAC LAN every host shares one /64, so one host must not spend the others' budget,
 * while a host rotating through the addresses of its /64 is still bounded.
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

  /** Takes one request from the host's and its /64's budgets: 0 if allowed, else the ms until it would be. */
  take(remoteAddress: string | undefined, now: number): number {
    const host = peerKey(remoteAddress);
    const network = addressKey(remoteAddress);
    // The host's own budget first, so a host over it spends nothing of what its /64 shares.
    const waitMs = this.perHost.take(host, now);
    if (waitMs > 0 || network === host) return waitMs;
    return this.perNetwork.take(network, now);
  }
}
