// One camera's H.264 encoder as an Observable: subscribing starts ffmpeg, unsubscribing stops it.
// The camera's JPEGs go to ffmpeg's stdin, a few frames in flight at most (an FfmpegStage), or
// with `encoder: copy` ffmpeg reads the camera's own H.264 and copies it; either way its Annex-B
// output is cut into access units, each stamped with the capture time of its frame.
import { Observable, map, type OperatorFunction } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { nowUs } from '@edgecam/runtime';
import type { Logger } from 'pino';
import type { CameraContext } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import { probeRtspTimeoutOption } from '../sources/ffmpeg/ffmpeg-probe.js';
import { FfmpegStage } from '../sources/ffmpeg/ffmpeg-stage.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../sources/source-spec.js';
import { AccessUnitSplitter, AccessUnitTooLarge, type AccessUnit } from './access-units.js';
import { fileCopyInput, h264CopyArgs, h264EncoderArgs, JPEG_NEXT_START, rtspCopyInput } from './h264-args.js';
import { H264_COPY, type H264Config } from './h264-config.js';

/** What H264Encoder needs. */
export interface H264EncoderOptions {
  ctx: CameraContext;
  config: H264Config;
  ffmpeg: ResolvedFfmpeg;
  logger: Logger;
  /** The camera's source, which `encoder: copy` reads directly (rtsp:// or file:). */
  source?: SourceSpec;
  /** Overrides the capture's configured rate, which sets the keyframe interval in frames. */
  fps?: number;
  /** Restart backoff of ffmpeg (tests shorten it). */
  initialBackoffMs?: number;
  /** The ffmpeg command line; defaults to h264EncoderArgs (tests substitute a fake encoder). */
  args?: (config: H264Config, fps: number) => string[];
  /** Resolves when this ffmpeg has the configured encoder; asked before each run. */
  checkEncoder: () => Promise<void>;
}

/** The encoder's counters, from its creation. */
export interface H264EncoderStats {
  /** idle: no ffmpeg; starting: ffmpeg spawned, no picture out yet; running: pictures flow. */
  state: 'idle' | 'starting' | 'running';
  frames: number;
  skipped: number;
  units: number;
  keyframes: number;
  /** Over the last couple of seconds; 0 while idle. */
  bitrateKbps: number;
  restarts: number;
}

// Bytes of JPEG waiting for ffmpeg past which frames are dropped.
const MAX_PENDING_INPUT_BYTES = 8 * 1024 * 1024;
// Frames given to the encoder whose picture has not come out; ffmpeg 4.1 holds one back between
// its MJPEG input and the encoder, so a keeping-up encoder has one or two.
const MAX_FRAMES_IN_FLIGHT = 3;
// Output bytes are turned into a bitrate over windows of this length.
const BITRATE_WINDOW_US = 2_000_000;
// ffmpeg writes its output in pieces of at most this size (its I/O buffer), each picture flushed.
const FFMPEG_WRITE_BYTES = 32 * 1024;
/** An access unit delimiter with a 4-byte start code, as h264_metadata=aud=insert writes it. */
const AUD_START = Buffer.from([0, 0, 0, 1, 9]);

/** The H.264 encoder of one camera. */
export class H264Encoder {
  private readonly o: H264EncoderOptions;
  /** The running ffmpeg, fed the camera's frames (unless passthrough); null while idle. */
  private stage: FfmpegStage<number> | null = null;
  private readonly stopping = new Set<Promise<void>>();
  private framesIn = 0;
  private skippedBefore = 0;
  private restartsBefore = 0;
  private unitsOut = 0;
  private keyframesOut = 0;
  /** Units out since ffmpeg (re)started: 0 means still starting. */
  private unitsSinceSpawn = 0;
  private rateStartUs = 0;
  private rateBytes = 0;
  private bitrateKbps = 0;

  constructor(o: H264EncoderOptions) {
    this.o = o;
  }

  /** Whether the source's H.264 is copied rather than encoded (`encoder: copy`). */
  get passthrough(): boolean {
    return this.o.config.encoder === H264_COPY;
  }

  /** Whether an ffmpeg is wanted now (subscribed). */
  get running(): boolean {
    return this.stage !== null;
  }

  /** ffmpeg's pid while one runs. */
  get pid(): number | undefined {
    return this.stage?.pid;
  }

  stats(): H264EncoderStats {
    const stage = this.stage;
    return {
      state: !stage ? 'idle' : this.unitsSinceSpawn === 0 ? 'starting' : 'running',
      frames: this.framesIn,
      skipped: this.skippedBefore + (stage?.dropped ?? 0),
      units: this.unitsOut,
      keyframes: this.keyframesOut,
      bitrateKbps: stage ? this.bitrateKbps : 0,
      restarts: this.restartsBefore + (stage?.restarts ?? 0),
    };
  }

  /** Resolves once every ffmpeg stopped so far has exited. */
  async settled(): Promise<void> {
    await Promise.all([...this.stopping]);
  }

  /** Cold: one Observable of access units per ffmpeg run; subscribing starts ffmpeg, unsubscribing stops it. */
  readonly runs$: Observable<Observable<AccessUnit>> = new Observable<Observable<AccessUnit>>((sub) => {
    const { ctx, config } = this.o;
    const fps = this.o.fps ?? (ctx.hub.info().fpsConfigured || 30);
    const stage = new FfmpegStage<number>({
      ffmpeg: this.o.ffmpeg,
      logger: this.o.logger,
      args: async () => {
        await this.o.checkEncoder();
        if (this.o.args) return this.o.args(config, fps);
        return this.passthrough ? h264CopyArgs(await this.copyInput()) : h264EncoderArgs(config, fps);
      },
      initialBackoffMs: this.o.initialBackoffMs,
      maxInFlight: MAX_FRAMES_IN_FLIGHT,
      maxQueuedBytes: MAX_PENDING_INPUT_BYTES,
      // Each JPEG's SOI goes out after the previous one (see JPEG_NEXT_START): ffmpeg takes it at once.
      ...(this.passthrough ? {} : { preamble: JPEG_NEXT_START }),
    });
    this.stage = stage;
    this.rateStartUs = nowUs();
    this.rateBytes = 0;
    this.bitrateKbps = 0;
    const runs = stage.runs$
      .pipe(
        map((output$) => {
          this.unitsSinceSpawn = 0;
          return output$.pipe(this.accessUnits(stage));
        }),
      )
      .subscribe(sub);
    stage.start();
    // Passthrough: ffmpeg reads the camera itself; the camera's JPEGs are not needed.
    const frames = this.passthrough ? null : ctx.hub.frames$.subscribe((frame) => this.feed(stage, frame));
    this.o.logger.info(
      this.passthrough ? { encoder: H264_COPY } : { encoder: config.encoder, bitrateKbps: config.bitrateKbps, fps },
      this.passthrough ? 'h264 passthrough starting' : 'h264 encoder starting',
    );
    return () => {
      frames?.unsubscribe();
      runs.unsubscribe();
      this.stage = null;
      this.skippedBefore += stage.dropped;
      this.restartsBefore += stage.restarts;
      const stopped = stage.stop().finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
    };
  });

  /** ffmpeg's input arguments for the source whose H.264 is copied. */
  private async copyInput(): Promise<string[]> {
    const source = this.o.source;
    if (source?.kind === 'rtsp') return rtspCopyInput(source.url, await probeRtspTimeoutOption(this.o.ffmpeg), source.transport);
    if (source?.kind === 'file') return fileCopyInput(source.path);
    // H264Hub's constructor refused every other source.
    throw new EdgeServerError('CONFIG_INVALID', `camera ${this.o.ctx.name}: h264.encoder "copy" needs an rtsp:// or file: source`);
  }

  /** Gives ffmpeg one camera frame, unless it is behind: each frame waiting in the pipe is a frame time of latency. */
  private feed(stage: FfmpegStage<number>, frame: CapturedFrame): void {
    const jpeg = frame.jpeg;
    const soi = jpeg[0] === 0xff && jpeg[1] === 0xd8;
    if (stage.write(soi ? [jpeg.subarray(2), JPEG_NEXT_START] : [jpeg], frame.captureTimeUs)) this.framesIn++;
  }

  /** One run's Annex-B bytes to access units, each stamped with its frame's capture time. */
  private accessUnits(stage: FfmpegStage<number>): OperatorFunction<Buffer, AccessUnit> {
    return (output$) =>
      new Observable<AccessUnit>((sub) => {
        const splitter = new AccessUnitSplitter();
        return output$.subscribe({
          next: (chunk) => {
            let units: AccessUnit[];
            const wasInUnit = splitter.inUnit;
            try {
              units = splitter.push(chunk);
            } catch (err) {
              if (err instanceof AccessUnitTooLarge) stage.fail(err.message);
              return;
            }
            if (this.wholePicture(chunk, units.length, wasInUnit)) {
              const last = splitter.end();
              if (last) units.push(last);
            }
            for (const unit of units) {
              // One picture out per frame in, in order (no B-frames): its capture time is the oldest in flight.
              // Passthrough has no frames in: the time it left ffmpeg is the best we know.
              unit.timestampUs = stage.take() ?? nowUs();
              this.count(unit);
              sub.next(unit);
            }
          },
          complete: () => sub.complete(),
        });
      });
  }

  /**
   * Whether a read from our encoder is exactly one picture, so it need not wait a frame time for
   * the next one to begin: ffmpeg flushes each picture in writes of up to FFMPEG_WRITE_BYTES, and a
   * write that size into a pipe the reader had emptied is read whole. So: the read is shorter than
   * one write, begins with the picture's delimiter, and holds no other picture (a reader that fell
   * behind reads several, and then the last may be cut anywhere).
   */
  private wholePicture(chunk: Buffer, completed: number, wasInUnit: boolean): boolean {
    if (this.passthrough || this.o.args || chunk.length >= FFMPEG_WRITE_BYTES) return false;
    if (chunk.compare(AUD_START, 0, AUD_START.length, 0, AUD_START.length) !== 0) return false;
    // Only the unit pending before this read may have ended (at the delimiter that begins it).
    return completed === (wasInUnit ? 1 : 0);
  }

  private count(unit: AccessUnit): void {
    this.unitsOut++;
    this.unitsSinceSpawn++;
    if (unit.keyframe) this.keyframesOut++;
    this.rateBytes += unit.data.length;
    const now = nowUs();
    const elapsed = now - this.rateStartUs;
    if (elapsed < BITRATE_WINDOW_US) return;
    this.bitrateKbps = Math.round((this.rateBytes * 8 * 1000) / elapsed);
    this.rateStartUs = now;
    this.rateBytes = 0;
  }
}
