// The one place camera events go through. Every output (SSE, v2 EVENT, webhooks, MQTT) reads
// the bus; the bus keeps a small backlog for SSE resume and the snapshots of recent events, both
// bounded whatever the detectors publish.
import { Subject, filter, map, merge, type Observable, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CapturedFrame, EventBody } from '@edgecam/protocol';
import type { CameraEvent } from '../contracts.js';

/** An event as it went through the bus: numbered in order, with its clip's file name if one is made. */
export interface BusEvent {
  /** 1, 2, 3…: the SSE id, so a client resumes after the last one it saw. */
  readonly seq: number;
  readonly event: CameraEvent;
  /** File name (in the clips directory) of the clip that holds this event. */
  readonly clip?: string;
}

/** What SSE, webhooks and MQTT send: the v2 EVENT's body, and the JPEG as a URL instead of bytes. */
export interface EventJson extends EventBody {
  /** Path on the HTTP port, while the server remembers the event's snapshot. */
  snapshot?: string;
  clip?: string;
}

export interface EventBusOptions {
  /** Events kept for SSE Last-Event-ID resume. Default 100. */
  backlog?: number;
  /** Events whose snapshot is kept for /events/ID/snapshot.jpg. Default 50. */
  snapshots?: number;
  /** Bytes of snapshots kept at most. Default 16 MiB. */
  snapshotBytes?: number;
  /** Names the clip an event goes into (the clip recorder), called before the event goes out. */
  clipFor?: (e: CameraEvent) => string | undefined;
}

/** The path of an event's snapshot on the HTTP port. */
export function snapshotPath(id: string): string {
  return `/events/${encodeURIComponent(id)}/snapshot.jpg`;
}

/** The event's public JSON. */
export function eventJson(b: BusEvent, hasSnapshot: boolean): EventJson {
  const e = b.event;
  return {
    id: e.id,
    camera: e.camera,
    type: e.type,
    phase: e.phase,
    startedAt: e.startedAt,
    ...(e.endedAt !== undefined ? { endedAt: e.endedAt } : {}),
    score: e.score,
    ...(hasSnapshot ? { snapshot: snapshotPath(e.id) } : {}),
    ...(b.clip !== undefined ? { clip: b.clip } : {}),
  };
}

/** Camera events in, one ordered hot stream out, with a bounded memory of the recent ones. */
export class EventBus {
  private readonly subject = new Subject<BusEvent>();
  private readonly backlog: BusEvent[] = [];
  private readonly maxBacklog: number;
  private readonly maxSnapshots: number;
  private readonly maxSnapshotBytes: number;
  // Insertion-ordered, so the first key is the oldest snapshot.
  private readonly snapshots = new Map<string, CapturedFrame>();
  private snapshotBytes = 0;
  private seq = 0;
  private clipFor: ((e: CameraEvent) => string | undefined) | undefined;

  /** Hot: every event from now on, synchronously as published. */
  readonly events$: Observable<BusEvent> = this.subject.asObservable();

  constructor(opts: EventBusOptions = {}) {
    this.maxBacklog = opts.backlog ?? 100;
    this.maxSnapshots = opts.snapshots ?? 50;
    this.maxSnapshotBytes = opts.snapshotBytes ?? 16 * 1024 * 1024;
    this.clipFor = opts.clipFor;
  }

  /** Names the clip each event goes into from now on (the clip recorder, when clips are configured). */
  nameClipsWith(clipFor: (e: CameraEvent) => string | undefined): void {
    this.clipFor = clipFor;
  }

  /**
   * Publishes each camera's events (its detector's) until unsubscribed, under the name the camera
   * is configured with whatever a detector says; a detector that fails is logged and its events stop.
   */
  feed(sources: Readonly<Record<string, Observable<CameraEvent>>>, log: Logger): Subscription {
    return merge(...Object.entries(sources).map(([name, events$]) => events$.pipe(map((e) => (e.camera === name ? e : { ...e, camera: name }))))).subscribe({
      next: (e) => this.publish(e),
      error: (err: unknown) => log.error({ err: (err as Error).message }, 'a detector failed; its events stop'),
    });
  }

  /** One camera's events, as a v2 client following it gets them. */
  eventsOf(camera: string): Observable<CameraEvent> {
    return this.events$.pipe(
      filter((b) => b.event.camera === camera),
      map((b) => b.event),
    );
  }

  /** Sends one event to every output. */
  publish(event: CameraEvent): BusEvent {
    if (event.snapshot) this.keepSnapshot(event.id, event.snapshot);
    const clip = this.clipFor?.(event);
    const b: BusEvent = { seq: ++this.seq, event, ...(clip !== undefined ? { clip } : {}) };
    this.backlog.push(b);
    if (this.backlog.length > this.maxBacklog) this.backlog.shift();
    this.subject.next(b);
    return b;
  }

  /** The remembered events after `seq`, oldest first (all of them when seq is older than the backlog). */
  since(seq: number): BusEvent[] {
    return this.backlog.filter((b) => b.seq > seq);
  }

  /** The newest snapshot of an event, while it is remembered. */
  snapshot(id: string): CapturedFrame | undefined {
    return this.snapshots.get(id);
  }

  /** The event's public JSON (with its snapshot URL when the snapshot is remembered). */
  json(b: BusEvent): EventJson {
    return eventJson(b, this.snapshots.has(b.event.id));
  }

  /** Ends events$ (outputs finish); later publishes go nowhere. */
  close(): void {
    this.subject.complete();
  }

  private keepSnapshot(id: string, frame: CapturedFrame): void {
    const old = this.snapshots.get(id);
    if (old) {
      this.snapshotBytes -= old.jpeg.length;
      this.snapshots.delete(id);
    }
    this.snapshots.set(id, frame);
    this.snapshotBytes += frame.jpeg.length;
    while (this.snapshots.size > this.maxSnapshots || (this.snapshotBytes > this.maxSnapshotBytes && this.snapshots.size > 1)) {
      const [oldestId, oldest] = this.snapshots.entries().next().value as [string, CapturedFrame];
      this.snapshots.delete(oldestId);
      this.snapshotBytes -= oldest.jpeg.length;
    }
  }
}
