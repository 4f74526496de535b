import type { ServerResponse } from 'node:http';
import type { Observable, Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';

export const BOUNDARY = 'edgecamframe';
const BOUNDARY_LINE = Buffer.from(`\r\n--${BOUNDARY}\r\n`);

/**
 * One browser's `multipart/x-mixed-replace` stream. The boundary goes out before the first part
 * and right after each JPEG, because browsers show a part only once the next boundary arrives.
 * A viewer that reads slower than frames come gets the newest frame when its socket drains; the
 * frames in between are skipped (counted), never queued.
 */
export class MjpegResponse {
  skipped = 0;
  private waiting = false;
  private pending: CapturedFrame | undefined;
  private readonly sub: Subscription;

  constructor(
    private readonly res: ServerResponse,
    frames$: Observable<CapturedFrame>,
    first: CapturedFrame | undefined,
  ) {
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    });
    res.write(`--${BOUNDARY}\r\n`);
    if (first !== undefined) this.offer(first);
    this.sub = frames$.subscribe({ next: (f) => this.offer(f), complete: () => res.end() });
    res.on('close', () => this.sub.unsubscribe());
    res.on('drain', () => {
      this.waiting = false;
      const next = this.pending;
      this.pending = undefined;
      if (next !== undefined) this.send(next);
    });
  }

  private offer(f: CapturedFrame): void {
    if (this.waiting) {
      if (this.pending !== undefined) this.skipped++;
      this.pending = f;
      return;
    }
    this.send(f);
  }

  private send(f: CapturedFrame): void {
    if (this.res.destroyed) return;
    const res = this.res;
    res.cork();
    res.write(`Content-Type: image/jpeg\r\nContent-Length: ${f.jpeg.length}\r\n\r\n`);
    res.write(f.jpeg);
    const ok = res.write(BOUNDARY_LINE);
    res.uncork();
    if (!ok) this.waiting = true;
  }
}
