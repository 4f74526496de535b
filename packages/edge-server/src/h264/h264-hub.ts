// One H.264 encoder per camera, shared by every H.264 consumer (WebRTC viewers, MSE viewers, a
// publisher). It runs only while someone is attached, and stops idleStopMs after the last leaves:
// that lifecycle is RxJS's share() with a delayed reset, over the encoder (h264-encoder.ts), whose
// units fan out from here to every sink by a plain call. A sink that is not ready loses units
// until the next keyframe (it could not decode them anyway), counted; a new sink starts at the
// newest keyframe, which this hub keeps with the units since.
import { Observable, Subject, finalize, share, switchMap, takeUntil, tap, timer } from 'rxjs';
import type { Logger } from 'pino';
import type { CameraContext } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../sources/source-spec.js';
import type { AccessUnit } from './access-units.js';
import { checkH264Source, H264_COPY, type H264Config } from './h264-config.js';
import { checkH264Encoder } from './h264-encoders.js';
import { H264Encoder } from './h264-encoder.js';

/** Something that takes a camera's access units. */
export interface H264Sink {
  /** False while the sink still works on earlier units: this one is skipped (and the rest until a keyframe). */
  ready(): boolean;
  send(unit: AccessUnit): void;
}

/** How a sink fares: what /status could show. */
export interface H264SinkStats {
  sent: number;
  /** Units skipped because the sink was not ready (up to the next keyframe each time). */
  skipped: number;
}

/** What H264Hub.stats() reports, for /status and /metrics. */
export interface H264HubStats {
  /** idle: no ffmpeg (nobody watches); starting: ffmpeg spawned, no picture out yet; running: pictures flow. */
  state: 'idle' | 'starting' | 'running' | 'closed';
  /** The ffmpeg encoder, or `copy` when the source's H.264 is passed through. */
  encoder: string;
  /** Camera frames given to the encoder (0 with copy: ffmpeg reads the camera itself). */
  frames: number;
  /** Access units (pictures) out of ffmpeg, and of those, keyframes. */
  units: number;
  keyframes: number;
  /** Camera frames not given to the encoder because it was behind (its in-flight limit) or restarting. */
  skipped: number;
  /** Units sinks skipped because they were not ready, summed over the sinks attached now. */
  sinkSkipped: number;
  /** Sinks attached now (WebRTC viewers, units$ subscribers such as a publisher). */
  consumers: number;
  /** Output bitrate over the last couple of seconds, kbit/s (0 while idle). */
  bitrateKbps: number;
  /** ffmpeg restarts after a death since this hub started it. */
  restarts: number;
  /** The same as skipped (its earlier name). */
  inputDropped: number;
  /** The same as consumers (its earlier name). */
  sinks: number;
  /** Whether an ffmpeg is wanted now: state starting or running. */
  running: boolean;
}

/** Options of H264Hub beyond the camera and its config. */
export interface H264HubOptions {
  ffmpeg: ResolvedFfmpeg;
  /** The camera's source: required with `encoder: copy`, which reads it directly (rtsp:// or file:). */
  source?: SourceSpec;
  /** Overrides the capture's configured rate, which sets the keyframe interval in frames. */
  fps?: number;
  /** Restart backoff of the encoder (tests shorten it). */
  initialBackoffMs?: number;
  /** The ffmpeg command line; defaults to h264EncoderArgs (tests substitute a fake encoder, split only by the bytes). */
  args?: (config: H264Config, fps: number) => string[];
  /** Skips the `ffmpeg -encoders` check (tests with a fake ffmpeg). */
  skipEncoderCheck?: boolean;
}

// Bounds of the group of pictures kept for joiners.
const MAX_GOP_UNITS = 600;
const MAX_GOP_BYTES = 32 * 1024 * 1024;

interface Attached {
  sink: H264Sink;
  /** join: waiting for a first keyframe; skipping: fell behind, waiting for the next one. */
  state: 'join' | 'live' | 'skipping';
  stats: H264SinkStats;
}

/** The shared H.264 encoder of one camera. */
export class H264Hub {
  private readonly ctx: CameraContext;
  private readonly config: H264Config;
  private readonly opts: H264HubOptions;
  private readonly log: Logger;
  private readonly encoder: H264Encoder;
  /** The encoder's units, shared by every sink while any is attached (and idleStopMs after). */
  private readonly units: Observable<AccessUnit>;
  private readonly sinks = new Set<Attached>();
  /** The units since the newest keyframe, for joiners. */
  private gop: AccessUnit[] = [];
  private gopBytes = 0;
  private encoderCheck: Promise<void> | null = null;
  private readonly closing = new Subject<void>();
  private closed = false;

  /** Throws CONFIG_INVALID when `encoder: copy` is set on a source that carries no H.264 (or none is given). */
  constructor(ctx: CameraContext, config: H264Config, opts: H264HubOptions) {
    this.ctx = ctx;
    this.config = config;
    this.opts = opts;
    this.log = ctx.logger.child({ component: 'h264' });
    if (opts.source) checkH264Source(config, opts.source, ctx.name);
    else if (this.passthrough && !opts.args) {
      throw new EdgeServerError('CONFIG_INVALID', `camera ${ctx.name}: h264.encoder "copy" needs the camera's source to read from; give H264Hub its source`);
    }
    this.encoder = new H264Encoder({
      ctx,
      config,
      ffmpeg: opts.ffmpeg,
      logger: this.log,
      checkEncoder: () => this.checkEncoder(),
      ...(opts.source ? { source: opts.source } : {}),
      ...(opts.fps !== undefined ? { fps: opts.fps } : {}),
      ...(opts.initialBackoffMs !== undefined ? { initialBackoffMs: opts.initialBackoffMs } : {}),
      ...(opts.args ? { args: opts.args } : {}),
    });
    this.units = this.encoder.runs$.pipe(
      // Each ffmpeg run starts at a keyframe of its own: what the last one left is no use to a joiner.
      switchMap((units$) => {
        this.clearGop();
        return units$;
      }),
      tap((unit) => this.keep(unit)),
      finalize(() => {
        const why = this.closed ? 'closing' : 'idle';
        this.clearGop();
        void this.encoder.settled().then(() => this.log.info({ why }, 'h264 encoder stopped'));
      }),
      takeUntil(this.closing),
      share({
        connector: () => new Subject<AccessUnit>(),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: () => timer(config.idleStopMs),
      }),
    );
  }

  /** The `h264:` block's STUN/TURN servers, for this camera's WebRTC viewers. */
  get iceServers(): H264Config['iceServers'] {
    return this.config.iceServers;
  }

  /** Whether the source's H.264 is copied rather than encoded (`encoder: copy`). */
  get passthrough(): boolean {
    return this.config.encoder === H264_COPY;
  }

  /** Resolves when this ffmpeg has the configured encoder; rejects with an error naming the config key otherwise. */
  checkEncoder(): Promise<void> {
    if (this.opts.skipEncoderCheck || this.passthrough) return Promise.resolve();
    this.encoderCheck ??= checkH264Encoder(this.opts.ffmpeg, this.config.encoder, this.ctx.name);
    return this.encoderCheck;
  }

  /** Hot stream of access units; each subscription is a sink that never falls behind (it only copies references). */
  readonly units$: Observable<AccessUnit> = new Observable<AccessUnit>((sub) =>
    this.attach({ ready: () => true, send: (u) => sub.next(u) }),
  );

  /**
   * Adds a sink, starting the encoder if idle. With replay (the default) the sink first gets the
   * units since the newest keyframe; without, it starts at the next keyframe. Returns detach.
   */
  attach(sink: H264Sink, opts: { replay?: boolean } = {}): () => void {
    if (this.closed) throw new EdgeServerError('HUB_CLOSED', `the H.264 encoder of camera ${this.ctx.name} is shut down`);
    const a: Attached = { sink, state: 'join', stats: { sent: 0, skipped: 0 } };
    this.sinks.add(a);
    if (opts.replay !== false) for (const unit of this.gop) this.deliver(a, unit);
    const units = this.units.subscribe((unit) => this.deliver(a, unit));
    return () => {
      if (this.sinks.delete(a)) units.unsubscribe();
    };
  }

  /** A sink's counts (the object stays live while it is attached). */
  statsOf(sink: H264Sink): H264SinkStats | undefined {
    for (const a of this.sinks) if (a.sink === sink) return a.stats;
    return undefined;
  }

  /** Sinks attached now. */
  get sinkCount(): number {
    return this.sinks.size;
  }

  /** Whether an encoder process is wanted now (attached sinks, or the idle grace period). */
  get running(): boolean {
    return this.encoder.running;
  }

  /** The encoder's pid while one runs. */
  get pid(): number | undefined {
    return this.encoder.pid;
  }

  /** Counters and state for /status, /metrics and the benchmarks (counters run from the hub's creation). */
  stats(): H264HubStats {
    let sinkSkipped = 0;
    for (const a of this.sinks) sinkSkipped += a.stats.skipped;
    const e = this.encoder.stats();
    return {
      state: this.closed ? 'closed' : e.state,
      encoder: this.config.encoder,
      frames: e.frames,
      units: e.units,
      keyframes: e.keyframes,
      skipped: e.skipped,
      sinkSkipped,
      consumers: this.sinks.size,
      bitrateKbps: e.bitrateKbps,
      restarts: e.restarts,
      inputDropped: e.skipped,
      sinks: this.sinks.size,
      running: this.running,
    };
  }

  /** Stops the encoder for good; resolves once ffmpeg has exited. */
  async close(): Promise<void> {
    this.closed = true;
    this.sinks.clear();
    this.closing.next();
    await this.encoder.settled();
  }

  /** Keeps the units since the newest keyframe, within bounds, for joiners. */
  private keep(unit: AccessUnit): void {
    if (unit.keyframe) this.clearGop();
    if (!unit.keyframe && this.gop.length === 0) return;
    if (this.gop.length < MAX_GOP_UNITS && this.gopBytes + unit.data.length <= MAX_GOP_BYTES) {
      this.gop.push(unit);
      this.gopBytes += unit.data.length;
    } else this.clearGop();
  }

  private deliver(a: Attached, unit: AccessUnit): void {
    if (a.state !== 'live') {
      if (!unit.keyframe) {
        if (a.state === 'skipping') a.stats.skipped++;
        return;
      }
      a.state = 'live';
    }
    if (!a.sink.ready()) {
      a.state = 'skipping';
      a.stats.skipped++;
      return;
    }
    a.stats.sent++;
    a.sink.send(unit);
  }

  private clearGop(): void {
    this.gop = [];
    this.gopBytes = 0;
  }
}
