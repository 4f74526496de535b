/**
 * Newest-wins delivery to one consumer that may read slower than items arrive. At most one item
 * is in flight; an item offered meanwhile waits in a one-item slot, and a newer one replaces it
 * (the older is counted as dropped). A consumer that never reads costs one item and slows nobody.
 * The TCP session, the HTTP viewer and the client's page all deliver through this one class.
 */
export interface NewestWinsOptions<T> {
  /** Hands one item to the transport; `done` is called once it may take the next. */
  deliver: (item: T, done: () => void) => void;
  /** An item was replaced before it could be delivered. */
  onDrop?: (item: T) => void;
  /** The transport is free and nothing waits (a chance to send something else). */
  onIdle?: () => void;
}

export class NewestWins<T> {
  private readonly opts: NewestWinsOptions<T>;
  private inFlight = false;
  private waiting: T | undefined;
  private droppedCount = 0;

  constructor(opts: NewestWinsOptions<T>) {
    this.opts = opts;
  }

  /** An item is being delivered and `done` has not been called yet. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** Items replaced in the slot before they could be delivered. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Delivers the item now if the transport is free, else keeps it as the newest waiting one. */
  offer(item: T): void {
    if (!this.inFlight) {
      this.start(item);
      return;
    }
    const older = this.waiting;
    this.waiting = item;
    if (older !== undefined) {
      this.droppedCount++;
      this.opts.onDrop?.(older);
    }
  }

  /** Forgets the waiting item without counting it (the consumer no longer wants it). */
  clear(): void {
    this.waiting = undefined;
  }

  private start(item: T): void {
    this.inFlight = true;
    let finished = false;
    this.opts.deliver(item, () => {
      if (finished) return;
      finished = true;
      this.inFlight = false;
      const next = this.waiting;
      this.waiting = undefined;
      if (next !== undefined) this.start(next);
      else this.opts.onIdle?.();
    });
  }
}
