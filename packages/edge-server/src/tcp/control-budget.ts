// Control messages (PING, COMMAND, HELLO, legacy commands) spend a per-connection budget: over it
// they are dropped and reading is paused until the budget refills, so TCP itself slows a flooder
// and it cannot take the event loop from other clients' frames. Far over it, the client is closed.
import type { Logger } from 'pino';
import { RateLimiter } from '../access/rate-limiter.js';
import type { TcpLimits } from './tcp-limits.js';

// The budget is one bucket per connection; RateLimiter keys it, and this is the only key.
const BUCKET = '';

/** What becomes of one control message: answered, dropped (reading is paused), or its sender closed. */
export type Spend = 'answer' | 'drop' | 'close';

/** A connection's reading, as the budget pauses and resumes it. */
export interface Reading {
  pause(): void;
  resume(): void;
}

/** One connection's budget of control messages. */
export class ControlBudget {
  private readonly budget: RateLimiter;
  private readonly overBudget: RateLimiter;
  /** Reading is paused until the budget refills. */
  private throttled = false;
  private dropped = 0;

  constructor(
    private readonly limits: TcpLimits,
    private readonly reading: Reading,
  ) {
    this.budget = new RateLimiter({ ratePerSecond: limits.controlPerSecond, burst: limits.controlBurst, maxAddresses: 1 });
    this.overBudget = new RateLimiter({ ratePerSecond: limits.overBudgetPerSecond, burst: limits.overBudgetBurst, maxAddresses: 1 });
  }

  /** HELLO spends from the budget but is always answered. */
  spendHello(): void {
    this.budget.take(BUCKET, performance.now());
  }

  /**
   * Spends one control message. Over the budget the message is dropped and reading pauses until
   * the budget has room again; far over it the client is to be closed. `log` says which.
   */
  spend(log: Logger): Spend {
    const now = performance.now();
    const waitMs = this.budget.take(BUCKET, now);
    if (waitMs === 0) return 'answer';
    this.dropped++;
    if (this.overBudget.take(BUCKET, now) > 0) {
      log.warn({ dropped: this.dropped }, 'client floods control messages; closing');
      return 'close';
    }
    if (!this.throttled) {
      if (this.dropped === 1) log.warn({ perSecond: this.limits.controlPerSecond }, 'client sends control messages over its budget; slowing it down');
      this.throttled = true;
      this.reading.pause();
      // Wait for a tenth of the burst, so a paused flooder is not woken for every single token.
      const refillMs = Math.max(waitMs, (this.limits.controlBurst / 10 / this.limits.controlPerSecond) * 1000);
      setTimeout(() => {
        this.throttled = false;
        this.reading.resume();
      }, refillMs).unref();
    }
    return 'drop';
  }
}
