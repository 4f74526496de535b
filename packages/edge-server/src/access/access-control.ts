// The one place a token is checked, for v2 HELLOs and HTTP requests alike, so both share one
// count of failures per address. Compared in constant time: both sides are hashed to SHA-256
// first, so timingSafeEqual always compares 32 bytes and neither the token's length nor how much
// of a guess was right shows in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { addressKey, peerKey } from './address-key.js';
import { LogLimiter } from '../log/log-limiter.js';
import { FailureThrottle, type ThrottleTuning } from './failure-throttle.js';

/** Which door a token is presented at. */
export type AccessVia = 'v2' | 'http';

/** Whether a token is accepted, and why not. */
export type AccessVerdict =
  | { ok: true }
  | {
      ok: false;
      /** missing: no token presented; wrong: one that does not match; throttled: too many wrong ones lately. */
      reason: 'missing' | 'wrong' | 'throttled';
      /** For throttled: how long until the address may try again. */
      retryAfterMs: number;
      /** A sentence for the client. */
      message: string;
    };

/** Who presents a token. */
export interface Peer {
  address: string | undefined;
  port?: number | undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Checks tokens for TCP and HTTP alike, slowing down wrong guesses. */
export class AccessControl {
  private readonly expected: Buffer | null;
  private readonly throttle: FailureThrottle;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly logLimiter: LogLimiter;

  /** `logLimiter` bounds the refusal lines peers cause (the server shares one with TCP and HTTP). */
  constructor(
    token: string | null,
    logger: Logger,
    tuning: Partial<ThrottleTuning> = {},
    now: () => number = Date.now,
    logLimiter: LogLimiter = new LogLimiter(),
  ) {
    this.expected = token === null ? null : digest(token);
    this.throttle = new FailureThrottle(tuning);
    this.log = logger.child({ component: 'access' });
    this.now = now;
    this.logLimiter = logLimiter;
  }

  /** True when a token is set. */
  get required(): boolean {
    return this.expected !== null;
  }

  /** True if `presented` is the token (always true when none is set). */
  matches(presented: string): boolean {
    return this.expected === null || timingSafeEqual(digest(presented), this.expected);
  }

  /**
   * Decides whether a peer that presents these candidate tokens (a request may carry one in a
   * header and one in its URL) gets in. Logs every refusal with the peer's address.
   */
  check(peer: Peer, presented: readonly string[], via: AccessVia): AccessVerdict {
    if (this.expected === null) return { ok: true };
    const key = peerKey(peer.address);
    const fields = { peer: peer.port === undefined ? key : `${peer.address}:${peer.port}`, via };
    const now = this.now();
    const log = this.logLimiter.forPeer(this.log, peer.address);
    const blocked = this.throttle.blockedFor(key, now);
    if (blocked > 0) {
      // Debug only, and bounded per peer like every refusal: a guesser must not fill the disk.
      log.debug({ ...fields, retryAfterMs: blocked }, 'access refused: address blocked after failed attempts');
      return {
        ok: false,
        reason: 'throttled',
        retryAfterMs: blocked,
        message: `too many wrong tokens from ${key}; try again in ${Math.ceil(blocked / 1000)} s`,
      };
    }
    if (presented.length === 0) {
      log.info(fields, 'access refused: no token presented');
      return { ok: false, reason: 'missing', retryAfterMs: 0, message: 'this server requires a token' };
    }
    // Every candidate is compared, so the time taken does not depend on which one matched.
    let ok = false;
    for (const p of presented) ok = this.matches(p) || ok;
    if (ok) {
      this.throttle.success(key);
      return { ok: true };
    }
    const blockMs = this.throttle.failure(key, now, addressKey(peer.address));
    log.warn(blockMs > 0 ? { ...fields, blockedForMs: blockMs } : fields, 'access refused: wrong token');
    return { ok: false, reason: 'wrong', retryAfterMs: 0, message: 'wrong token' };
  }
}
