// What --max-per-address counts: open TCP connections, and open HTTP streams, per host (peerKey,
// not the /64: on a SLAAC LAN every host shares one /64).

/** Open things per host, each taken on open and given back once on close. */
export class PerHostCount {
  private readonly open = new Map<string, number>();

  /** `max` 0 means no limit. */
  constructor(readonly max: number) {}

  /** Whether `host` has its fill right now. */
  full(host: string): boolean {
    return this.max > 0 && (this.open.get(host) ?? 0) >= this.max;
  }

  /** Counts one more for `host`; the returned function gives it back (once, however often called). */
  take(host: string): () => void {
    this.open.set(host, (this.open.get(host) ?? 0) + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(host) ?? 1) - 1;
      if (left > 0) this.open.set(host, left);
      else this.open.delete(host);
    };
  }
}
