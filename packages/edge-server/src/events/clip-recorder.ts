// Event clips of one camera: an AVI (recorder's recordTo) of the pre-roll, the event and the
// post-roll, named by the event's id; or, for a camera recording MP4, an MP4 joined from its
// recording (RecordedClips). An event that starts while a clip still records (in its post-roll)
// goes into that clip, which then runs to that event's end plus post-roll.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Subject, type Subscription } from 'rxjs';
import { recordTo } from '@edgecam/recorder';
import type { CapturedFrame } from '@edgecam/protocol';
import type { CameraContext, CameraEvent } from '../contracts.js';
import type { ClipsConfig } from './events-config.js';
import { PreRollRing } from './pre-roll.js';

/** Pre-roll bytes held per camera at most, whatever the duration asks. */
const MAX_PRE_ROLL_BYTES = 32 * 1024 * 1024;

/** What both kinds of clip track: the events in it that have not ended, and its timers. */
interface Grouping {
  readonly file: string;
  readonly open: Set<string>;
  /** Where the clip ends as things stand: the last ended event's end plus the post-roll. */
  toMs: number;
  stopTimer: NodeJS.Timeout | null;
  maxTimer: NodeJS.Timeout;
}

interface OpenClip extends Grouping {
  readonly frames: Subject<CapturedFrame>;
}

/** File name of an event's clip: the id, made safe for a file name. */
export function clipFileName(eventId: string, ext: 'avi' | 'mp4' = 'avi'): string {
  return `${eventId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;
}

/** A camera's event clips, one file per event (or run of overlapping events). */
export interface EventClips {
  /** Starts, extends or ends the clip for this event; returns the clip's file name. */
  handle(e: CameraEvent): string | undefined;
  close(): Promise<void>;
}

/**
 * The one grouping of events into clips both kinds share: an event that starts while a clip is
 * open (in its post-roll too) joins it; the clip ends a post-roll after its last event ends, or
 * at maxLength; `end` makes the file.
 */
abstract class GroupedClips<C extends Grouping> implements EventClips {
  protected clip: C | null = null;
  private readonly done = new Set<Promise<void>>();

  constructor(
    protected readonly config: ClipsConfig,
    protected readonly log: CameraContext['logger'],
    /** How long after the post-roll the clip is ended: what it is made from may still be on its way. */
    private readonly settleMs: number,
  ) {
    mkdirSync(config.dir, { recursive: true });
  }

  /** A new clip for the event that opens it; its maxTimer from maxTimer(). */
  protected abstract begin(e: CameraEvent): C;
  /** Makes the clip's file, with what was recorded up to toMs; resolves when it is written (or failed, logged). */
  protected abstract end(clip: C, toMs: number): Promise<void> | undefined;

  handle(e: CameraEvent): string | undefined {
    if (e.phase === 'start' || (e.phase === 'update' && this.clip === null)) {
      const clip = (this.clip ??= this.begin(e));
      clip.open.add(e.id);
      if (clip.stopTimer) clearTimeout(clip.stopTimer);
      clip.stopTimer = null;
      return clip.file;
    }
    const clip = this.clip;
    if (clip === null || !clip.open.has(e.id)) return undefined;
    if (e.phase === 'end') {
      clip.open.delete(e.id);
      clip.toMs = Math.max(clip.toMs, (e.endedAt ?? Date.now()) + this.config.postRoll);
      if (clip.open.size === 0) {
        clip.stopTimer = setTimeout(() => this.finish(clip, clip.toMs), this.config.postRoll + this.settleMs);
        clip.stopTimer.unref();
      }
    }
    return clip.file;
  }

  /** Ends any clip now, with what there is, and waits for the clips being written. */
  async close(): Promise<void> {
    if (this.clip) this.finish(this.clip, Date.now());
    await Promise.all(this.done);
  }

  protected maxTimer(file: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.log.warn({ clip: file, maxLengthMs: this.config.maxLength }, 'event clip reached its maximum length; closing it');
      if (this.clip) this.finish(this.clip, Date.now());
    }, this.config.maxLength);
    timer.unref();
    return timer;
  }

  /** Counts a clip being written until it is, so close() can wait for it. */
  protected track(done: Promise<void>): void {
    this.done.add(done);
    void done.then(() => this.done.delete(done));
  }

  private finish(clip: C, toMs: number): void {
    if (this.clip !== clip) return;
    this.clip = null;
    if (clip.stopTimer) clearTimeout(clip.stopTimer);
    clearTimeout(clip.maxTimer);
    const done = this.end(clip, toMs);
    if (done) this.track(done);
  }
}

/** One camera's pre-roll ring and its clip being recorded as AVI; subscribing to frames keeps the capture running. */
export class ClipRecorder extends GroupedClips<OpenClip> {
  private readonly ring: PreRollRing;
  private readonly frameSub: Subscription;

  constructor(camera: CameraContext, config: ClipsConfig) {
    super(config, camera.logger, 0);
    this.ring = new PreRollRing(config.preRoll, MAX_PRE_ROLL_BYTES);
    this.frameSub = camera.hub.frames$.subscribe((f) => {
      this.ring.push(f);
      this.clip?.frames.next(f);
    });
  }

  /** Ends any clip now and stops holding frames; resolves when files are closed. */
  override async close(): Promise<void> {
    this.frameSub.unsubscribe();
    const closed = super.close();
    this.ring.clear();
    await closed;
  }

  protected begin(e: CameraEvent): OpenClip {
    const file = clipFileName(e.id);
    const frames = new Subject<CapturedFrame>();
    const log = this.log.child({ clip: file });
    this.track(
      new Promise<void>((resolve) => {
        frames.pipe(recordTo({ path: join(this.config.dir, file), format: 'avi' })).subscribe({
          next: (ev) => {
            if (ev.type === 'rejected') log.debug({ err: ev.error.message }, 'clip frame refused');
          },
          error: (err: unknown) => {
            log.warn({ err: (err as Error).message }, 'event clip failed');
            resolve();
          },
          complete: () => {
            log.info('event clip written');
            resolve();
          },
        });
      }),
    );
    for (const f of this.ring.snapshot()) frames.next(f);
    return { file, frames, toMs: e.startedAt, open: new Set(), stopTimer: null, maxTimer: this.maxTimer(file) };
  }

  protected end(clip: OpenClip): undefined {
    // Its promise, tracked since begin, resolves when the file is closed.
    clip.frames.complete();
    return undefined;
  }
}

/** Writes [fromMs, toMs] of a camera's recording to `path` (the recording feature's writeClip). */
export type ClipWriter = (fromMs: number, toMs: number, path: string) => Promise<void>;

/**
 * How long after the post-roll a recorded clip is written: the recording's last fragment with
 * the post-roll in it is on disk by then (fragments close about every second).
 */
const FRAGMENT_WAIT_MS = 2500;

/**
 * Event clips of a camera that records MP4: the same H.264, joined from its segments over the
 * pre-roll, the events and the post-roll once the post-roll is recorded, as `<id>.mp4`. No frame
 * is held: the recording already has them.
 */
export class RecordedClips extends GroupedClips<Grouping & { fromMs: number }> {
  constructor(
    camera: CameraContext,
    config: ClipsConfig,
    private readonly write: ClipWriter,
  ) {
    super(config, camera.logger.child({ component: 'clips' }), FRAGMENT_WAIT_MS);
  }

  protected begin(e: CameraEvent): Grouping & { fromMs: number } {
    const file = clipFileName(e.id, 'mp4');
    return { file, fromMs: e.startedAt - this.config.preRoll, toMs: e.startedAt, open: new Set(), stopTimer: null, maxTimer: this.maxTimer(file) };
  }

  protected end(clip: Grouping & { fromMs: number }, toMs: number): Promise<void> {
    const log = this.log.child({ clip: clip.file });
    return this.write(clip.fromMs, Math.max(clip.fromMs, toMs), join(this.config.dir, clip.file)).then(
      () => log.info('event clip written'),
      (err: unknown) => log.warn({ err: (err as Error).message }, 'event clip not written: the recording holds no frame of the event (was it recording then?)'),
    );
  }
}
