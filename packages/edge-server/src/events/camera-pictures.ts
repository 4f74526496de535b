// Each camera's picture for its MQTT snapshot topic, so Home Assistant's camera entity shows the
// camera before its first event (and cameras without a detector at all): taken when asked (at
// every connect) and every `everyMs`, from the camera's hub, which starts an idle capture for it.
// A picture still being taken is not asked for again; a failure is logged once per reason.
import type { Logger } from 'pino';
import type { CameraContext } from '../contracts.js';

/** How long one picture may take when the capture has to start first. */
const PICTURE_TIMEOUT_MS = 10_000;

export interface CameraPicturesOptions {
  cameras: readonly CameraContext[];
  /** Between timed pictures; 0: none, not even when asked. */
  everyMs: number;
  logger: Logger;
  /** A camera whose picture is not wanted now (the broker is away, an event's snapshots are showing). */
  skip(camera: string): boolean;
  /** Where a picture goes. */
  deliver(camera: string, jpeg: Buffer): void;
}

/** Timed pictures of every camera, until close(). */
export class CameraPictures {
  private readonly taking = new Set<string>();
  /** Why each camera's last picture failed; absent once one succeeds. */
  private readonly failed = new Map<string, string>();
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: CameraPicturesOptions) {
    if (o.everyMs > 0) this.timer = setInterval(() => this.takeAll(), o.everyMs);
  }

  /** Takes a picture of every camera not skipped and not already being taken. */
  takeAll(): void {
    if (this.closed || this.o.everyMs === 0) return;
    for (const camera of this.o.cameras) {
      if (!this.taking.has(camera.name) && !this.o.skip(camera.name)) this.take(camera);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private take(camera: CameraContext): void {
    this.taking.add(camera.name);
    camera.hub
      .snapshot(PICTURE_TIMEOUT_MS)
      .then(
        (frame) => {
          if (this.closed) return;
          if (this.failed.delete(camera.name)) this.o.logger.info({ camera: camera.name }, 'camera picture for MQTT taken again');
          this.o.deliver(camera.name, frame.jpeg);
        },
        (err: unknown) => {
          if (this.closed) return;
          const why = err instanceof Error ? err.message : String(err);
          // One line per new reason, not one per tick of a camera that stays down.
          if (this.failed.get(camera.name) !== why) this.o.logger.warn({ camera: camera.name, err: why }, 'no camera picture for MQTT; trying again at the next one');
          this.failed.set(camera.name, why);
        },
      )
      .finally(() => this.taking.delete(camera.name));
  }
}
