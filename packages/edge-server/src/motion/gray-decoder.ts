// One ffmpeg per camera turning the camera's JPEGs into small grayscale pictures. The JPEGs go in
// on stdin; `-lowres` makes the decoder compute only 1/2 to 1/8 of each JPEG's size (at 1/8 it
// reads little more than the DC coefficients), so the decode is nearly free, and the scaler
// averages the rest down. Pictures come out raw, one byte per pixel, in the order the JPEGs went in,
// each once the next JPEG has begun (one analysed frame of delay).
import type { Logger } from 'pino';
import { Observable, switchMap, type OperatorFunction } from 'rxjs';
import { readJpegInfo, type CapturedFrame, type JpegInfo } from '@edgecam/protocol';
import { FfmpegStage } from '../sources/ffmpeg/ffmpeg-stage.js';
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

/** One picture out of ffmpeg (its bytes valid until the next) and the JPEG it came from. */
interface Picture {
  gray: Buffer;
  width: number;
  height: number;
  source: CapturedFrame;
}

/** Small grayscale pictures from JPEGs, through one supervised ffmpeg started at the first JPEG. */
export class GrayDecoder {
  private readonly opts: GrayDecoderOptions;
  private stage: FfmpegStage<CapturedFrame> | null = null;
  private size: { width: number; height: number; lowres: number; srcWidth: number; srcHeight: number } | null = null;
  private stopped = false;
  /** JPEGs that could not be read. */
  private invalid = 0;
  /** Why ffmpeg last failed, while it restarts. */
  lastError: string | null = null;

  constructor(opts: GrayDecoderOptions) {
    this.opts = opts;
  }

  /** ffmpeg's pid while it runs. */
  get pid(): number | undefined {
    return this.stage?.pid;
  }

  /** Restarts of ffmpeg so far. */
  get restarts(): number {
    return this.stage?.restarts ?? 0;
  }

  /** JPEGs not handed to ffmpeg: unreadable, or ffmpeg was behind, restarting or not started. */
  get dropped(): number {
    return this.invalid + (this.stage?.dropped ?? 0);
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
      this.invalid++;
      return false;
    }
    if (this.size === null) this.begin(info.width, info.height);
    else if (info.width !== this.size.srcWidth || info.height !== this.size.srcHeight) {
      this.resize(info.width, info.height);
      this.stage?.fail(`the camera's picture changed to ${info.width}x${info.height}`);
    }
    return this.stage!.write([frame.jpeg], frame);
  }

  /** Kills ffmpeg; resolves once it has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.stage?.stop();
  }

  private resize(srcWidth: number, srcHeight: number): void {
    const size = graySize(srcWidth, srcHeight, this.opts.width);
    this.size = { ...size, srcWidth, srcHeight };
  }

  private begin(srcWidth: number, srcHeight: number): void {
    this.resize(srcWidth, srcHeight);
    const stage = new FfmpegStage<CapturedFrame>({
      ffmpeg: this.opts.ffmpeg,
      logger: this.opts.logger,
      args: () => grayArgs(this.size!),
      maxInFlight: MAX_IN_FLIGHT,
      // ffmpeg's mjpeg demuxer gives a picture out once the next JPEG starts, so the newest JPEG
      // always waits; the one after the oldest waiting long means ffmpeg hangs.
      outputStallMs: STALL_MS,
      heldBack: 1,
      // Without JPEGs going in (the camera is lost) nothing comes out; outputStallMs watches for a hang instead.
      stallTimeoutMs: 0,
      onExit: (exit) => {
        this.lastError = exit.reason;
      },
    });
    this.stage = stage;
    stage.runs$
      .pipe(
        switchMap((output$) => {
          this.lastError = null;
          return output$.pipe(this.pictures(stage));
        }),
      )
      .subscribe(({ gray, width, height, source }) => this.opts.onPicture(gray, width, height, source));
    stage.start();
  }

  /** One run's raw bytes to whole pictures of the size it was started with, each with the JPEG it came from. */
  private pictures(stage: FfmpegStage<CapturedFrame>): OperatorFunction<Buffer, Picture> {
    return (output$) =>
      new Observable<Picture>((sub) => {
        const { width, height } = this.size!;
        const picture = Buffer.alloc(width * height);
        let filled = 0;
        return output$.subscribe({
          next: (chunk) => {
            let offset = 0;
            while (offset < chunk.length) {
              const n = Math.min(chunk.length - offset, picture.length - filled);
              chunk.copy(picture, filled, offset, offset + n);
              filled += n;
              offset += n;
              if (filled < picture.length) break;
              filled = 0;
              // A picture whose JPEG is unknown (written before a restart) is skipped.
              const source = stage.take();
              if (source) sub.next({ gray: picture, width, height, source });
            }
          },
          complete: () => sub.complete(),
        });
      });
  }
}
