// One ffmpeg per camera turning the camera's JPEGs into small grayscale pictures. The JPEGs go in
// on stdin; `-lowres` makes the decoder compute only 1/2 to 1/8 of each JPEG's size (at 1/8 it
// reads little more than the DC coefficients), so the decode is nearly free, and the scaler
// averages the rest down. Pictures come out raw, one byte per pixel, in the order the JPEGs went in,
// each once the next JPEG has begun (one analysed frame of delay).
import { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import { readJpegInfo, type CapturedFrame, type JpegInfo } from '@edgecam/protocol';
import { FfmpegSupervisor } from '../sources/ffmpeg/ffmpeg-supervisor.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';

/** JPEGs handed to ffmpeg whose picture has not come back yet; more are dropped, not queued. */
const MAX_IN_FLIGHT = 8;
/** A JPEG waiting this long for its picture means ffmpeg hangs: it is killed and restarted. */
const STALL_MS = 10_000;

/** The analysed size and ffmpeg's `-lowres` for a camera picture of srcWidth x srcHeight. */
export function graySize(srcWidth: number, srcHeight: number, width: number): { width: number; height: number; lowres: number } {
  const w = Math.min(width, srcWidth);
  const height = Math.max(2, Math.round((w * srcHeight) / srcWidth / 2) * 2);
  let lowres = 0;
  while (lowres < 3 && srcWidth >> (lowres + 1) >= w && srcHeight >> (lowres + 1) >= height) lowres++;
  return { width: w, height, lowres };
}

/** The ffmpeg arguments that read JPEGs on stdin and write `width`x`height` gray pictures on stdout. */
export function grayArgs(size: { width: number; height: number; lowres: number }): string[] {
  return [
    '-hide_banner', '-loglevel', 'error',
    // One thread: frame threading would hold pictures back, and a few small frames a second need no more.
    '-threads', '1',
    '-f', 'mjpeg', '-lowres', String(size.lowres), '-i', 'pipe:0',
    '-an', '-vf', `scale=${size.width}:${size.height}:flags=area,format=gray`,
    // Exactly one picture out per JPEG in, whatever the timestamps say.
    '-vsync', 'passthrough',
    '-f', 'rawvideo', 'pipe:1',
  ];
}

/** Options of GrayDecoder. */
export interface GrayDecoderOptions {
  ffmpeg: ResolvedFfmpeg;
  logger: Logger;
  /** Width of the pictures; the height keeps the camera's aspect. */
  width: number;
  /** Called with each picture (valid only during the call) and the JPEG it came from. */
  onPicture: (gray: Uint8Array, width: number, height: number, source: CapturedFrame) => void;
}

/** Small grayscale pictures from JPEGs, through one supervised ffmpeg started at the first JPEG. */
export class GrayDecoder {
  private readonly opts: GrayDecoderOptions;
  private readonly input = new PassThrough();
  private supervisor: FfmpegSupervisor | null = null;
  private size: { width: number; height: number; lowres: number; srcWidth: number; srcHeight: number } | null = null;
  private picture = Buffer.alloc(0);
  private filled = 0;
  private readonly inFlight: Array<{ frame: CapturedFrame; at: number }> = [];
  private running = false;
  private stopped = false;
  /** JPEGs not handed to ffmpeg because it was behind, restarting or not started. */
  dropped = 0;
  /** Why ffmpeg last failed, while it restarts. */
  lastError: string | null = null;

  constructor(opts: GrayDecoderOptions) {
    this.opts = opts;
    // ffmpeg dying mid-write must not crash us; the supervisor reports the death.
    this.input.on('error', () => {});
  }

  /** ffmpeg's pid while it runs. */
  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  /** Restarts of ffmpeg so far. */
  get restarts(): number {
    return this.supervisor?.restarts ?? 0;
  }

  /** The analysed size, once the first JPEG told the camera's. */
  get pictureSize(): { width: number; height: number } | null {
    return this.size && { width: this.size.width, height: this.size.height };
  }

  /** Hands one JPEG to ffmpeg; false when it was dropped instead. */
  push(frame: CapturedFrame): boolean {
    if (this.stopped) return false;
    let info: JpegInfo;
    try {
      info = readJpegInfo(frame.jpeg);
    } catch {
      this.dropped++;
      return false;
    }
    if (this.size === null) this.begin(info.width, info.height);
    else if (info.width !== this.size.srcWidth || info.height !== this.size.srcHeight) {
      this.resize(info.width, info.height);
      this.supervisor?.fail(`the camera's picture changed to ${info.width}x${info.height}`);
    }
    // ffmpeg's mjpeg demuxer gives a picture out once the next JPEG starts, so the newest JPEG
    // always waits; the one after the oldest waiting long means ffmpeg hangs.
    const second = this.inFlight[1];
    if (second && performance.now() - second.at > STALL_MS) {
      this.supervisor?.fail(`no picture from ffmpeg for ${STALL_MS / 1000} s`);
    }
    if (!this.running || this.inFlight.length >= MAX_IN_FLIGHT) {
      this.dropped++;
      return false;
    }
    this.inFlight.push({ frame, at: performance.now() });
    this.input.write(frame.jpeg);
    return true;
  }

  /** Kills ffmpeg; resolves once it has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    // End of input makes ffmpeg finish at once; blocked on a read of stdin it may ignore SIGTERM.
    this.input.end();
    await this.supervisor?.stop();
    this.input.destroy();
  }

  private resize(srcWidth: number, srcHeight: number): void {
    const size = graySize(srcWidth, srcHeight, this.opts.width);
    this.size = { ...size, srcWidth, srcHeight };
    this.picture = Buffer.alloc(size.width * size.height);
    this.filled = 0;
  }

  private begin(srcWidth: number, srcHeight: number): void {
    this.resize(srcWidth, srcHeight);
    this.supervisor = new FfmpegSupervisor({
      ffmpeg: this.opts.ffmpeg,
      logger: this.opts.logger,
      args: () => grayArgs(this.size!),
      stdin: this.input,
      // Without JPEGs going in (the camera is lost) nothing comes out; push() watches for a hang instead.
      stallTimeoutMs: 0,
      onStdout: (chunk) => this.read(chunk),
      onSpawn: () => {
        this.running = true;
        this.lastError = null;
        this.inFlight.length = 0;
        this.filled = 0;
      },
      onExit: (exit) => {
        this.running = false;
        this.lastError = exit.reason;
      },
    });
    this.supervisor.start();
  }

  private read(chunk: Buffer): void {
    const size = this.size;
    if (!size) return;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.picture.length - this.filled);
      chunk.copy(this.picture, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled < this.picture.length) break;
      this.filled = 0;
      // A picture whose JPEG is unknown (written before a restart) is skipped.
      const source = this.inFlight.shift();
      if (source) this.opts.onPicture(this.picture, size.width, size.height, source.frame);
    }
  }
}
