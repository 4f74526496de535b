// v2 EVENT messages to one TCP client that asked for them. They share the socket with frames:
// an event is written between whole messages at once while the socket keeps up, and while it
// does not, a few wait for 'drain' and the oldest are dropped (counted), so a client that reads
// nothing costs a bounded few hundred bytes.
import type { Socket } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import { encodeEventMessage } from '@edgecam/protocol';
import type { CameraEvent } from '../contracts.js';

const MAX_QUEUED = 8;
// Over this much unsent (a frame in flight, say), events wait for 'drain' instead.
const WRITE_NOW_BELOW = 64 * 1024;

/** The EVENT message of a camera event (no picture: the event's snapshot URL serves that). */
export function encodeCameraEvent(e: CameraEvent): Buffer {
  return encodeEventMessage({
    id: e.id,
    camera: e.camera,
    type: e.type,
    phase: e.phase,
    startedAt: Math.round(e.startedAt),
    ...(e.endedAt !== undefined ? { endedAt: Math.round(e.endedAt) } : {}),
    score: Math.min(1, Math.max(0, e.score)),
  });
}

/** Writes one client's EVENTs; close() stops it. */
export class EventSender {
  private readonly queue: Buffer[] = [];
  private readonly sub: Subscription;
  private waiting = false;
  /** Events this client could not take. */
  dropped = 0;

  constructor(
    private readonly socket: Socket,
    events$: Observable<CameraEvent>,
    private readonly log: Logger,
  ) {
    this.sub = events$.subscribe((e) => this.offer(e));
  }

  close(): void {
    this.sub.unsubscribe();
    this.queue.length = 0;
  }

  private offer(e: CameraEvent): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    let message: Buffer;
    try {
      message = encodeCameraEvent(e);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, event: e.id }, 'event not sent: it does not fit an EVENT message');
      return;
    }
    if (!this.waiting && this.socket.writableLength < WRITE_NOW_BELOW) {
      this.socket.write(message);
      return;
    }
    this.queue.push(message);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      if (this.dropped++ === 0) this.log.info('client reads events slower than they come; dropping the oldest');
    }
    if (!this.waiting) {
      this.waiting = true;
      this.socket.once('drain', () => this.flush());
    }
  }

  private flush(): void {
    this.waiting = false;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    while (this.queue.length > 0 && this.socket.writableLength < WRITE_NOW_BELOW) this.socket.write(this.queue.shift()!);
    if (this.queue.length > 0) {
      this.waiting = true;
      this.socket.once('drain', () => this.flush());
    }
  }
}
