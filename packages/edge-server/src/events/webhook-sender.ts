// POSTs events to one webhook URL, one request at a time, in order. A failed request (network
// error, timeout, 5xx, 429) is retried with doubling delays; the queue is bounded and drops its
// oldest event when a dead endpoint lets it fill, counting what it dropped.
import type { Logger } from 'pino';
import { backoffDelay } from '@edgecam/runtime';
import type { EventJson } from '../camera/event-bus.js';
import type { WebhookConfig } from './events-config.js';
import { basicAuthFromUrl, showUrl } from '../sources/url-credentials.js';

export interface WebhookTuning {
  /** Events waiting at most, besides the one being sent. Default 100. */
  maxQueue?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Attempts per event before it is given up. Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubling up to maxDelayMs. Default 1 s and 30 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Counters of one webhook. */
export interface WebhookStats {
  sent: number;
  /** Dropped from a full queue. */
  dropped: number;
  /** Given up after maxAttempts. */
  failed: number;
  retries: number;
}

class RetryableError extends Error {}

/** One webhook's queue and its one request in flight. */
export class WebhookSender {
  /** Events waiting; the one being sent (or waiting to be retried) is not in here. */
  private readonly queue: EventJson[] = [];
  private busy = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private inFlight: AbortController | null = null;
  private readonly t: Required<WebhookTuning>;
  readonly stats: WebhookStats = { sent: 0, dropped: 0, failed: 0, retries: 0 };
  private readonly phases: ReadonlySet<string>;
  /** Where requests go: the URL without user and password, which go in `headers` as Basic auth. */
  private readonly target: string;
  private readonly headers: Record<string, string>;
  /** As logs show the URL: its path (a Home Assistant webhook id) is the secret. */
  private readonly shownUrl: string;

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger,
    tuning: WebhookTuning = {},
  ) {
    this.t = { maxQueue: 100, timeoutMs: 10_000, maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000, ...tuning };
    this.phases = new Set(config.events);
    const { url, authorization } = basicAuthFromUrl(config.url);
    this.target = url;
    const configured = config.headers ?? {};
    // A configured Authorization header wins over the URL's user and password.
    this.headers = { 'Content-Type': 'application/json', 'User-Agent': 'edgecam-server' };
    if (authorization && !Object.keys(configured).some((k) => k.toLowerCase() === 'authorization')) this.headers.Authorization = authorization;
    Object.assign(this.headers, configured);
    this.shownUrl = showUrl(config.url, { path: false });
  }

  /** Queues an event if this webhook wants its phase. */
  offer(e: EventJson): void {
    if (this.closed || !this.phases.has(e.phase)) return;
    this.queue.push(e);
    if (this.queue.length > this.t.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 100 === 0) {
        this.log.warn({ url: this.shownUrl, dropped: this.stats.dropped }, 'webhook queue full; dropping the oldest events');
      }
    }
    if (!this.busy) void this.next(1);
  }

  /** Stops sending; queued events are dropped. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.inFlight?.abort();
  }

  /** Sends `e` (the queue's next when absent), retrying it, then goes on with the queue. */
  private async next(attempt: number, e: EventJson | undefined = this.queue.shift()): Promise<void> {
    if (this.closed || e === undefined) {
      this.busy = false;
      return;
    }
    this.busy = true;
    try {
      await this.post(e);
      this.stats.sent++;
      return this.next(1);
    } catch (err) {
      if (this.closed) return;
      const retryable = err instanceof RetryableError || (err as Error).name === 'TimeoutError' || err instanceof TypeError;
      if (!retryable || attempt >= this.t.maxAttempts) {
        this.stats.failed++;
        this.log.warn({ url: this.shownUrl, event: e.id, attempts: attempt, err: (err as Error).message }, 'webhook failed; event given up');
        return this.next(1);
      }
      const ms = backoffDelay(attempt, this.t.initialDelayMs, this.t.maxDelayMs);
      this.stats.retries++;
      this.log.info({ url: this.shownUrl, event: e.id, attempt, retryInMs: ms, err: (err as Error).message }, 'webhook failed; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.next(attempt + 1, e);
      }, ms);
      this.retryTimer.unref();
    }
  }

  private async post(e: EventJson): Promise<void> {
    const abort = new AbortController();
    this.inFlight = abort;
    const timer = setTimeout(() => abort.abort(Object.assign(new Error(`no answer within ${this.t.timeoutMs} ms`), { name: 'TimeoutError' })), this.t.timeoutMs);
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(e),
        signal: abort.signal,
        redirect: 'error',
      });
      await discardBody(res);
      if (res.status >= 500 || res.status === 429) throw new RetryableError(`HTTP ${res.status}`);
      if (res.status >= 400) throw new Error(`HTTP ${res.status} (not retried: the endpoint refuses the request)`);
    } catch (err) {
      if (abort.signal.aborted && abort.signal.reason instanceof Error) throw abort.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      this.inFlight = null;
    }
  }
}

// An endpoint's answer is read only so that a short one leaves the connection reusable; past this
// much it is cancelled, since an endless body would otherwise be read whole into memory.
const MAX_RESPONSE_BYTES = 4096;

/** Reads at most MAX_RESPONSE_BYTES of `res`'s body and cancels the rest. */
async function discardBody(res: Response): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  try {
    for (let read = 0; read <= MAX_RESPONSE_BYTES; ) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A body that breaks off says nothing the status did not.
  }
}
