import type { ServerResponse } from 'node:http';
import type { Observable, Subscription } from 'rxjs';
import {
  MULTIPART_CONTENT_TYPE,
  multipartEpilogue,
  multipartPart,
  multipartPreamble,
  writeMultipartFrame,
  type CapturedFrame,
  type PartLayout,
} from '@edgecam/protocol';
import { NewestWins } from '@edgecam/runtime';

/**
 * One viewer's `multipart/x-mixed-replace` stream, in the layout it asked for (see protocol's
 * multipart.ts). A viewer that reads slower than frames come gets the newest frame when its
 * socket drains; the frames in between are skipped (counted), never queued.
 */
export class MjpegResponse {
  private readonly slot: NewestWins<CapturedFrame>;
  private readonly sub: Subscription;

  constructor(
    private readonly res: ServerResponse,
    private readonly layout: PartLayout,
    frames$: Observable<CapturedFrame>,
    first: CapturedFrame | undefined,
  ) {
    this.slot = new NewestWins({ deliver: (f, done) => this.send(f, done) });
    res.writeHead(200, {
      'Content-Type': MULTIPART_CONTENT_TYPE,
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    });
    res.write(multipartPreamble(layout));
    if (first !== undefined) this.slot.offer(first);
    this.sub = frames$.subscribe({
      next: (f) => this.slot.offer(f),
      complete: () => {
        if (!res.destroyed) res.end(multipartEpilogue(layout));
      },
    });
    res.on('close', () => {
      this.sub.unsubscribe();
      this.slot.clear();
    });
  }

  /** Frames skipped because this viewer was still reading an older one. */
  get skipped(): number {
    return this.slot.dropped;
  }

  private send(f: CapturedFrame, done: () => void): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const ok = writeMultipartFrame(res, multipartPart(this.layout, f.jpeg.length), f.jpeg);
    if (ok) done();
    else res.once('drain', done);
  }
}
