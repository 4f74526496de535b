// Keeps peers from turning the log into an amplifier: every line a peer causes (a connection, a
// refusal, a bad message, a stream started) is written to the device's disk, so without a bound
// a few bytes from a peer become many bytes of log. Lines count against a token bucket per peer
// address and message and against one bucket for all peers; a line over either budget is
// counted instead, and when the window ends one line per message says how many were dropped.
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { peerKey } from '../access/address-key.js';
import { RateLimiter } from '../access/rate-limiter.js';

/** How many lines peers may cause. */
export interface LogLimits {
  /** Lines one peer address may cause with one message: a burst, then this many per second. */
  perPeerBurst: number;
  perPeerPerSecond: number;
  /** Lines all peers together may cause: a burst, then this many per second. */
  overallBurst: number;
  overallPerSecond: number;
  /** Suppressed lines are summed up this long after the first of them, then summarised. */
  summaryAfterMs: number;
  /** Summary lines per window, one per peer and message; the rest are summed up in one more. */
  maxSummaries: number;
  /** (peer, message) budgets remembered at most, least recently used forgotten first. */
  maxKeys: number;
}

/** The limits the server uses unless told otherwise. */
export const DEFAULT_LOG_LIMITS: Readonly<LogLimits> = {
  perPeerBurst: 20,
  perPeerPerSecond: 2,
  overallBurst: 500,
  overallPerSecond: 50,
  summaryAfterMs: 10_000,
  maxSummaries: 20,
  maxKeys: 10_000,
};

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVELS: ReadonlySet<string> = new Set<Level>(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const LEVEL_RANK: Readonly<Record<Level, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const ALL = '';

interface Suppressed {
  /** The logger of the latest suppressed line, so the summary carries its bindings. */
  logger: Logger;
  level: Level;
  peer: string;
  msg: string;
  count: number;
}

/** One budget for the lines peers cause, shared by the TCP and the HTTP side. */
export class LogLimiter {
  private readonly limits: LogLimits;
  private readonly perPeer: RateLimiter;
  private readonly overall: RateLimiter;
  private readonly suppressed = new Map<string, Suppressed>();
  /** Suppressed lines beyond maxSummaries distinct ones, and the logger to summarise them on. */
  private others: { logger: Logger; level: Level; count: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    limits: Partial<LogLimits> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limits = { ...DEFAULT_LOG_LIMITS, ...limits };
    const l = this.limits;
    this.perPeer = new RateLimiter({ ratePerSecond: l.perPeerPerSecond, burst: l.perPeerBurst, maxAddresses: l.maxKeys });
    this.overall = new RateLimiter({ ratePerSecond: l.overallPerSecond, burst: l.overallBurst, maxAddresses: 1 });
  }

  /** (peer, message) budgets and pending summaries held now: both bounded, whatever peers do. */
  get size(): { budgets: number; pending: number } {
    return { budgets: this.perPeer.size, pending: this.suppressed.size };
  }

  /**
   * The logger to use for what a peer at `address` causes: the same logger, but its lines (and
   * those of its children) count against the peer's budget and the overall one.
   */
  forPeer(logger: Logger, address: string | undefined): Logger {
    return this.wrap(logger, peerKey(address));
  }

  /** Writes the pending summaries now (on shutdown, so none is lost). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.suppressed.values()) {
      s.logger[s.level]({ peerAddress: s.peer, suppressed: s.count, like: s.msg }, `${s.count} similar lines suppressed`);
    }
    this.suppressed.clear();
    const others = this.others;
    this.others = null;
    if (others) {
      others.logger[others.level]({ suppressed: others.count, like: 'lines from more peers' }, `${others.count} similar lines suppressed`);
    }
  }

  private wrap(logger: Logger, peer: string): Logger {
    return new Proxy(logger, {
      get: (target, prop) => {
        if (prop === 'child') {
          return (bindings: Bindings, options?: ChildLoggerOptions<never>): Logger => this.wrap(target.child(bindings, options), peer);
        }
        if (typeof prop === 'string' && LEVELS.has(prop)) {
          return (...args: unknown[]) => this.write(target, peer, prop as Level, args);
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private write(logger: Logger, peer: string, level: Level, args: unknown[]): void {
    // A line the level drops costs nothing and must not use up the budget.
    if (!logger.isLevelEnabled(level)) return;
    const msg = typeof args[0] === 'string' ? args[0] : typeof args[1] === 'string' ? args[1] : '';
    const now = this.now();
    const key = `${peer} ${msg}`;
    if (this.perPeer.take(key, now) === 0 && this.overall.take(ALL, now) === 0) {
      (logger[level] as (...a: unknown[]) => void)(...args);
      return;
    }
    this.count(key, logger, peer, level, msg);
  }

  private count(key: string, logger: Logger, peer: string, level: Level, msg: string): void {
    const s = this.suppressed.get(key);
    if (s) {
      s.count++;
      s.logger = logger;
      if (LEVEL_RANK[level] > LEVEL_RANK[s.level]) s.level = level;
    } else if (this.suppressed.size < this.limits.maxSummaries) {
      this.suppressed.set(key, { logger, level, peer, msg, count: 1 });
    } else {
      const o = (this.others ??= { logger, level, count: 0 });
      o.count++;
      if (LEVEL_RANK[level] > LEVEL_RANK[o.level]) o.level = level;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.limits.summaryAfterMs);
      this.timer.unref();
    }
  }
}
