// Frames from standard input, for pipelines like `libcamera-vid --codec mjpeg -o - | edgecam-server
// --source stdin`. Both mpjpeg (ffmpeg -f mpjpeg, starts with a `--boundary` line) and bare
// concatenated JPEGs (starts with FFD8) are accepted, told apart by the first byte. They are split
// here, without an ffmpeg in between: no extra process on a small board, and no frame of delay
// (ffmpeg's MJPEG parser only releases a frame once the next one begins).
// When nobody watches, stdin is paused: the producer blocks on a full pipe instead of encoding.
// A frame's way from standard input to a client's socket:
//   stdin chunks (stdinChunks) -> splitMpjpeg() or splitJpegs(), chosen by the first byte
//   (split-frames.ts) -> stampFrames(): CapturedFrame {seq, captureTimeUs} (source.ts)
//   -> SourceEvent 'frame' -> SharedFrameHub.frames$ (frame-hub.ts)
//   -> ClientSession per client (tcp/client-session.ts) -> its socket (tcp/socket-transport.ts)
import { Observable, catchError, concatWith, connect, filter, merge, throwError } from 'rxjs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { CapturedFrame } from '@edgecam/protocol';
import { EdgeServerError } from '../errors.js';
import { fromReadable } from '@edgecam/runtime/rx';
import { JpegSplitter } from './jpeg-splitter.js';
import { MpjpegDecoder } from './mpjpeg-decoder.js';
import { FrameStamper, stampFrames, type FrameSource, type SourceEvent } from './source.js';
import { splitJpegs, splitMpjpeg } from './split-frames.js';

/** Options of createStdinSource. */
export interface StdinSourceOptions {
  input: Readable;
  width: number;
  height: number;
  fps: number;
  logger: Logger;
  maxFrameBytes?: number;
}

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** The input's chunks while subscribed (paused otherwise); its end or failure is SOURCE_ENDED. */
function stdinChunks(input: Readable): Observable<Buffer> {
  return fromReadable(input, { pauseWhenUnsubscribed: true }).pipe(
    catchError((err: Error) => throwError(() => new EdgeServerError('SOURCE_ENDED', `standard input failed: ${err.message}`))),
    concatWith(throwError(() => new EdgeServerError('SOURCE_ENDED', 'standard input ended; no more frames will come'))),
  );
}

/** A source reading JPEGs (raw MJPEG or mpjpeg) from standard input. */
export function createStdinSource(o: StdinSourceOptions): FrameSource {
  const log = o.logger.child({ source: 'stdin' });
  const stamper = new FrameStamper();
  // The byte stream is continuous across subscriptions, so the format and the parsers are kept too.
  let format: 'mpjpeg' | 'jpeg' | null = null;
  const mpjpeg = splitMpjpeg({
    decoder: new MpjpegDecoder({ maxFrameBytes: o.maxFrameBytes }),
    onMalformed: (err) => log.warn({ err: err.message }, 'bad mpjpeg on standard input; resynchronising'),
  });
  const jpegs = splitJpegs({
    splitter: new JpegSplitter({ maxFrameBytes: o.maxFrameBytes }),
    onDropped: (dropped) => log.warn({ dropped }, 'dropped a corrupt or oversized JPEG from standard input'),
  });
  /** False while only whitespace has come; then fixes the format: mpjpeg starts with its `--boundary`. */
  const detected = (chunk: Buffer): boolean => {
    if (format !== null) return true;
    const first = chunk.findIndex((b) => !isWhitespace(b));
    if (first === -1) return false;
    format = chunk[first] === 0x2d ? 'mpjpeg' : 'jpeg';
    log.info({ format }, 'reading frames from standard input');
    return true;
  };
  const frames$ = stdinChunks(o.input).pipe(
    filter(detected),
    connect((chunks$) =>
      merge(
        chunks$.pipe(filter(() => format === 'mpjpeg'), mpjpeg),
        chunks$.pipe(filter(() => format === 'jpeg'), jpegs),
      ),
    ),
    stampFrames(stamper),
  );
  let ended: string | null = null;

  const capture = (): Observable<SourceEvent> =>
    new Observable<SourceEvent>((sub) => {
      if (ended !== null) {
        sub.next({ type: 'state', state: 'restarting', error: ended });
        sub.error(new EdgeServerError('SOURCE_ENDED', ended));
        return;
      }
      sub.next({ type: 'state', state: 'starting' });
      let flowing = false;
      const frames = frames$.subscribe({
        next: (frame: CapturedFrame) => {
          if (!flowing) {
            flowing = true;
            sub.next({ type: 'state', state: 'running' });
          }
          sub.next({ type: 'frame', frame });
        },
        error: (err: Error) => {
          ended = err.message;
          log.error(ended);
          sub.next({ type: 'state', state: 'restarting', error: ended });
          sub.error(new EdgeServerError('SOURCE_ENDED', ended));
        },
      });
      return () => frames.unsubscribe();
    });

  return {
    kind: 'stdin',
    spec: 'stdin',
    width: o.width,
    height: o.height,
    fps: o.fps,
    capture,
    settled: async () => {},
  };
}
