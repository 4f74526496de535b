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

interface OpenClip {
  readonly file: string;
  readonly frames: Subject<CapturedFrame>;
  readonly startedAt: number;
  /** Events in this clip that have not ended. */
  readonly open: Set<string>;
  stopTimer: NodeJS.Timeout | null;
  maxTimer: NodeJS.Timeout;
}

/** File name of an event's clip: the id, made safe for a file name. */
export function clipFileName(eventId: string, ext: 'avi' | 'mp4' = 'avi'): string {
  return `${eventId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;
}

/** One camera's pre-roll ring and its clip being recorded; subscribing to frames keeps the capture running. */
export class ClipRecorder implements EventClips {
  private readonly ring: PreRollRing;
  private readonly frameSub: Subscription;
  private clip: OpenClip | null = null;
  private readonly done = new Set<Promise<void>>();

  constructor(
    private readonly camera: CameraContext,
    private readonly config: ClipsConfig,
  ) {
    mkdirSync(config.dir, { recursive: true });
    this.ring = new PreRollRing(config.preRoll, MAX_PRE_ROLL_BYTES);
    this.frameSub = camera.hub.frames$.subscribe((f) => {
      this.ring.push(f);
      this.clip?.frames.next(f);
    });
  }

  /** Starts, extends or ends the clip for this event; returns the clip's file name. */
  handle(e: CameraEvent): string | undefined {
    if (e.phase === 'start' || (e.phase === 'update' && this.clip === null)) {
      if (this.clip === null) this.open(e);
      const clip = this.clip!;
      clip.open.add(e.id);
      if (clip.stopTimer) clearTimeout(clip.stopTimer);
      clip.stopTimer = null;
      return clip.file;
    }
    const clip = this.clip;
    if (clip === null || !clip.open.has(e.id)) return undefined;
    if (e.phase === 'end') {
      clip.open.delete(e.id);
      if (clip.open.size === 0) {
        clip.stopTimer = setTimeout(() => this.finish(clip), this.config.postRoll);
        clip.stopTimer.unref();
      }
    }
    return clip.file;
  }

  /** Ends any clip now and stops holding frames; resolves when files are closed. */
  async close(): Promise<void> {
    this.frameSub.unsubscribe();
    if (this.clip) this.finish(this.clip);
    this.ring.clear();
    await Promise.all(this.done);
  }

  private open(e: CameraEvent): void {
    const file = clipFileName(e.id);
    const frames = new Subject<CapturedFrame>();
    const log = this.camera.logger.child({ clip: file });
    const done = new Promise<void>((resolve) => {
      frames
        .pipe(recordTo({ path: join(this.config.dir, file), format: 'avi' }))
        .subscribe({
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
    });
    this.done.add(done);
    void done.then(() => this.done.delete(done));
    const maxTimer = setTimeout(() => {
      log.warn({ maxLengthMs: this.config.maxLength }, 'event clip reached its maximum length; closing it');
      if (this.clip) this.finish(this.clip);
    }, this.config.maxLength);
    maxTimer.unref();
    this.clip = { file, frames, startedAt: e.startedAt, open: new Set(), stopTimer: null, maxTimer };
    for (const f of this.ring.snapshot()) frames.next(f);
  }

  private finish(clip: OpenClip): void {
    if (this.clip !== clip) return;
    this.clip = null;
    if (clip.stopTimer) clearTimeout(clip.stopTimer);
    clearTimeout(clip.maxTimer);
    clip.frames.complete();
  }
}

/** Writes [fromMs, toMs] of a camera's recording to `path` (the recording feature's writeClip). */
export type ClipWriter = (fromMs: number, toMs: number, path: string) => Promise<void>;

/** A camera's event clips, one file per event (or run of overlapping events). */
export interface EventClips {
  /** Starts, extends or ends the clip for this event; returns the clip's file name. */
  handle(e: CameraEvent): string | undefined;
  close(): Promise<void>;
}

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
export class RecordedClips implements EventClips {
  private clip: { file: string; fromMs: number; toMs: number; open: Set<string>; stopTimer: NodeJS.Timeout | null; maxTimer: NodeJS.Timeout } | null = null;
  private readonly done = new Set<Promise<void>>();
  private readonly log: CameraContext['logger'];

  constructor(
    camera: CameraContext,
    private readonly config: ClipsConfig,
    private readonly write: ClipWriter,
  ) {
    mkdirSync(config.dir, { recursive: true });
    this.log = camera.logger.child({ component: 'clips' });
  }

  handle(e: CameraEvent): string | undefined {
    if (e.phase === 'start' || (e.phase === 'update' && this.clip === null)) {
      if (this.clip === null) {
        const maxTimer = setTimeout(() => this.finish(Date.now()), this.config.maxLength);
        maxTimer.unref();
        this.clip = { file: clipFileName(e.id, 'mp4'), fromMs: e.startedAt - this.config.preRoll, toMs: e.startedAt, open: new Set(), stopTimer: null, maxTimer };
      }
      const clip = this.clip;
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
        clip.stopTimer = setTimeout(() => this.finish(clip.toMs), this.config.postRoll + FRAGMENT_WAIT_MS);
        clip.stopTimer.unref();
      }
    }
    return clip.file;
  }

  /** Writes any clip now with what is recorded, and waits for the clips being written. */
  async close(): Promise<void> {
    if (this.clip) this.finish(Date.now());
    await Promise.all(this.done);
  }

  private finish(toMs: number): void {
    const clip = this.clip;
    if (clip === null) return;
    this.clip = null;
    if (clip.stopTimer) clearTimeout(clip.stopTimer);
    clearTimeout(clip.maxTimer);
    const log = this.log.child({ clip: clip.file });
    const done = this.write(clip.fromMs, Math.max(clip.fromMs, toMs), join(this.config.dir, clip.file)).then(
      () => log.info('event clip written'),
      (err: unknown) => log.warn({ err: (err as Error).message }, 'event clip not written: the recording holds no frame of the event (was it recording then?)'),
    );
    this.done.add(done);
    void done.then(() => this.done.delete(done));
  }
}
