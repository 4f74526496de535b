// One H.264 encoder per camera, shared by every H.264 consumer (WebRTC viewers, MSE viewers, a
// publisher). It runs only while someone is attached, and stops idleStopMs after the last leaves:
// the camera's JPEGs go to ffmpeg's stdin (or, with `encoder: copy`, ffmpeg reads the camera's own
// H.264 and copies it), its Annex-B output is cut into access units, and each unit goes to every
// sink by a plain call. A sink that is not ready loses units until the next keyframe (it could not
// decode them anyway), counted; a new sink starts at the newest keyframe.
import { PassThrough } from 'node:stream';
import { Observable, type Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { nowUs } from '@edgecam/runtime';
import type { Logger } from 'pino';
import type { CameraContext } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import { probeRtspTimeoutOption } from '../sources/ffmpeg/ffmpeg-probe.js';
import { FfmpegSupervisor } from '../sources/ffmpeg/ffmpeg-supervisor.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../sources/source-spec.js';
import { AccessUnitSplitter, AccessUnitTooLarge, type AccessUnit } from './access-units.js';
import { fileCopyInput, h264CopyArgs, h264EncoderArgs, JPEG_NEXT_START, rtspCopyInput } from './h264-args.js';
import { checkH264Source, H264_COPY, type H264Config } from './h264-config.js';
import { checkH264Encoder } from './h264-encoders.js';

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
  /** Camera frames not given to the encoder because it was behind (its in-flight limit). */
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

// Bounds of the group of pictures kept for joiners, and of JPEG bytes waiting for the encoder.
const MAX_GOP_UNITS = 600;
const MAX_GOP_BYTES = 32 * 1024 * 1024;
const MAX_PENDING_INPUT_BYTES = 8 * 1024 * 1024;
const MAX_PENDING_TIMES = 256;
// Output bytes are turned into a bitrate over windows of this length.
const BITRATE_WINDOW_US = 2_000_000;
// Frames given to the encoder whose picture has not come out; ffmpeg 4.1 holds one back between
// its MJPEG input and the encoder, so a keeping-up encoder has one or two.
const MAX_FRAMES_IN_FLIGHT = 3;
// ffmpeg writes its output in pieces of at most this size (its I/O buffer), each picture flushed.
const FFMPEG_WRITE_BYTES = 32 * 1024;
/** An access unit delimiter with a 4-byte start code, as h264_metadata=aud=insert writes it. */
const AUD_START = Buffer.from([0, 0, 0, 1, 9]);

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
  private readonly sinks = new Set<Attached>();
  private readonly splitter = new AccessUnitSplitter();
  /** The units since the newest keyframe, for joiners. */
  private gop: AccessUnit[] = [];
  private gopBytes = 0;
  /** Capture times of the frames fed to the encoder and not yet out of it, oldest first. */
  private pendingTimes: number[] = [];
  private input: PassThrough | null = null;
  private supervisor: FfmpegSupervisor | null = null;
  private frames: Subscription | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private encoderCheck: Promise<void> | null = null;
  private closed = false;
  /** Camera frames not given to the encoder because it was behind. */
  private inputDropped = 0;
  private framesIn = 0;
  private unitsOut = 0;
  private keyframesOut = 0;
  /** Units out since the encoder (re)started: 0 means still starting. */
  private unitsSinceSpawn = 0;
  private rateStartUs = 0;
  private rateBytes = 0;
  private bitrateKbps = 0;
  private restartsBefore = 0;

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
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (opts.replay !== false) for (const unit of this.gop) this.deliver(a, unit);
    this.start();
    return () => {
      if (!this.sinks.delete(a)) return;
      if (this.sinks.size === 0 && !this.closed) {
        this.idleTimer = setTimeout(() => void this.stop('idle'), this.config.idleStopMs);
        this.idleTimer.unref();
      }
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
    return this.supervisor !== null;
  }

  /** The encoder's pid while one runs. */
  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  /** Counters and state for /status, /metrics and the benchmarks (counters run from the hub's creation). */
  stats(): H264HubStats {
    let sinkSkipped = 0;
    for (const a of this.sinks) sinkSkipped += a.stats.skipped;
    const state = this.closed ? 'closed' : !this.supervisor ? 'idle' : this.unitsSinceSpawn === 0 ? 'starting' : 'running';
    return {
      state,
      encoder: this.config.encoder,
      frames: this.framesIn,
      units: this.unitsOut,
      keyframes: this.keyframesOut,
      skipped: this.inputDropped,
      sinkSkipped,
      consumers: this.sinks.size,
      bitrateKbps: this.supervisor ? this.bitrateKbps : 0,
      restarts: this.restartsBefore + (this.supervisor?.restarts ?? 0),
      inputDropped: this.inputDropped,
      sinks: this.sinks.size,
      running: this.running,
    };
  }

  /** Stops the encoder for good; resolves once ffmpeg has exited. */
  async close(): Promise<void> {
    this.closed = true;
    this.sinks.clear();
    await this.stop('closing');
  }

  private start(): void {
    if (this.supervisor) return;
    const fps = this.opts.fps ?? (this.ctx.hub.info().fpsConfigured || 30);
    // Passthrough: ffmpeg reads the camera itself; the camera's JPEGs are not needed.
    const input = this.passthrough ? null : new PassThrough({ highWaterMark: 1024 * 1024 });
    this.input = input;
    input?.write(JPEG_NEXT_START);
    this.supervisor = new FfmpegSupervisor({
      ffmpeg: this.opts.ffmpeg,
      args: async () => {
        await this.checkEncoder();
        if (this.opts.args) return this.opts.args(this.config, fps);
        return this.passthrough ? h264CopyArgs(await this.copyInput()) : h264EncoderArgs(this.config, fps);
      },
      logger: this.log,
      ...(input ? { stdin: input } : {}),
      initialBackoffMs: this.opts.initialBackoffMs,
      onStdout: (chunk) => this.onOutput(chunk),
      onSpawn: () => {
        this.splitter.reset();
        this.pendingTimes = [];
        this.unitsSinceSpawn = 0;
        this.clearGop();
      },
    });
    this.rateStartUs = nowUs();
    this.rateBytes = 0;
    this.bitrateKbps = 0;
    this.supervisor.start();
    if (input) this.frames = this.ctx.hub.frames$.subscribe((frame) => this.onFrame(frame));
    this.log.info(
      this.passthrough ? { encoder: H264_COPY } : { encoder: this.config.encoder, bitrateKbps: this.config.bitrateKbps, fps },
      this.passthrough ? 'h264 passthrough starting' : 'h264 encoder starting',
    );
  }

  /** ffmpeg's input arguments for the source whose H.264 is copied. */
  private async copyInput(): Promise<string[]> {
    const source = this.opts.source;
    if (source?.kind === 'rtsp') return rtspCopyInput(source.url, await probeRtspTimeoutOption(this.opts.ffmpeg), source.transport);
    if (source?.kind === 'file') return fileCopyInput(source.path);
    // The constructor refused every other source.
    throw new EdgeServerError('CONFIG_INVALID', `camera ${this.ctx.name}: h264.encoder "copy" needs an rtsp:// or file: source`);
  }

  private async stop(why: string): Promise<void> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    const supervisor = this.supervisor;
    if (!supervisor) return;
    this.supervisor = null;
    this.restartsBefore += supervisor.restarts;
    this.frames?.unsubscribe();
    this.frames = null;
    this.input?.end();
    this.input = null;
    this.clearGop();
    await supervisor.stop();
    this.log.info({ why }, 'h264 encoder stopped');
  }

  private onFrame(frame: CapturedFrame): void {
    const input = this.input;
    if (!input) return;
    // An encoder that cannot keep up loses camera frames here rather than queueing them: each
    // frame waiting in the pipe is a frame time of latency.
    if (this.pendingTimes.length >= MAX_FRAMES_IN_FLIGHT || input.writableLength > MAX_PENDING_INPUT_BYTES) {
      this.inputDropped++;
      return;
    }
    if (this.pendingTimes.length >= MAX_PENDING_TIMES) this.pendingTimes.shift();
    this.pendingTimes.push(frame.captureTimeUs);
    this.framesIn++;
    const jpeg = frame.jpeg;
    // Each JPEG's SOI went out after the previous one (see JPEG_NEXT_START): ffmpeg takes it at once.
    if (jpeg[0] === 0xff && jpeg[1] === 0xd8) {
      input.write(jpeg.subarray(2));
      input.write(JPEG_NEXT_START);
    } else input.write(jpeg);
  }

  private onOutput(chunk: Buffer): void {
    let units: AccessUnit[];
    const wasInUnit = this.splitter.inUnit;
    try {
      units = this.splitter.push(chunk);
    } catch (err) {
      if (err instanceof AccessUnitTooLarge) this.supervisor?.fail(err.message);
      return;
    }
    if (this.wholePicture(chunk, units.length, wasInUnit)) {
      const last = this.splitter.end();
      if (last) units.push(last);
    }
    for (const unit of units) {
      // One picture out per frame in, in order (no B-frames): its capture time is the oldest pending.
      // Passthrough has no frames in: the time it left ffmpeg is the best we know.
      unit.timestampUs = this.pendingTimes.shift() ?? nowUs();
      this.publish(unit);
    }
  }

  /**
   * Whether a read from our encoder is exactly one picture, so it need not wait a frame time for
   * the next one to begin: ffmpeg flushes each picture in writes of up to FFMPEG_WRITE_BYTES, and a
   * write that size into a pipe the reader had emptied is read whole. So: the read is shorter than
   * one write, begins with the picture's delimiter, and holds no other picture (a reader that fell
   * behind reads several, and then the last may be cut anywhere).
   */
  private wholePicture(chunk: Buffer, completed: number, wasInUnit: boolean): boolean {
    if (this.passthrough || this.opts.args || chunk.length >= FFMPEG_WRITE_BYTES) return false;
    if (chunk.compare(AUD_START, 0, AUD_START.length, 0, AUD_START.length) !== 0) return false;
    // Only the unit pending before this read may have ended (at the delimiter that begins it).
    return completed === (wasInUnit ? 1 : 0);
  }

  private publish(unit: AccessUnit): void {
    this.unitsOut++;
    this.unitsSinceSpawn++;
    if (unit.keyframe) this.keyframesOut++;
    this.countRate(unit.data.length);
    if (unit.keyframe) this.clearGop();
    if (unit.keyframe || this.gop.length > 0) {
      if (this.gop.length < MAX_GOP_UNITS && this.gopBytes + unit.data.length <= MAX_GOP_BYTES) {
        this.gop.push(unit);
        this.gopBytes += unit.data.length;
      } else this.clearGop();
    }
    for (const a of this.sinks) this.deliver(a, unit);
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

  private countRate(bytes: number): void {
    this.rateBytes += bytes;
    const now = nowUs();
    const elapsed = now - this.rateStartUs;
    if (elapsed < BITRATE_WINDOW_US) return;
    this.bitrateKbps = Math.round((this.rateBytes * 8 * 1000) / elapsed);
    this.rateStartUs = now;
    this.rateBytes = 0;
  }

  private clearGop(): void {
    this.gop = [];
    this.gopBytes = 0;
  }
}
