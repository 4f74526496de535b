// Frames from standard input, for pipelines like `libcamera-vid --codec mjpeg -o - | edgecam-server
// --source stdin`. Both mpjpeg (ffmpeg -f mpjpeg, starts with a `--boundary` line) and bare
// concatenated JPEGs (starts with FFD8) are accepted, told apart by the first byte. They are split
// here, without an ffmpeg in between: no extra process on a small board, and no frame of delay
// (ffmpeg's MJPEG parser only releases a frame once the next one begins).
// When nobody watches, stdin is paused: the producer blocks on a full pipe instead of encoding.
import { Observable } from 'rxjs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { nowUs } from '@edgecam/protocol';
import { EdgeServerError } from '../errors.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { MpjpegDecoder } from './mpjpeg-decoder.js';
import { FrameStamper, type FrameSource, type SourceEvent } from './source.js';

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

/** A source reading JPEGs (raw MJPEG or mpjpeg) from standard input. */
export function createStdinSource(o: StdinSourceOptions): FrameSource {
  const log = o.logger.child({ source: 'stdin' });
  const stamper = new FrameStamper();
  // The byte stream is continuous across subscriptions, so the parser state is kept too.
  let format: 'mpjpeg' | 'jpeg' | null = null;
  const mpjpeg = new MpjpegDecoder({ maxFrameBytes: o.maxFrameBytes });
  const jpeg = new JpegSplitter({ maxFrameBytes: o.maxFrameBytes });
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
      let droppedSeen = jpeg.dropped;
      const onFrame = (arrival: number) => (data: Buffer) => {
        const frame = stamper.stamp(data, arrival);
        if (!frame) return;
        if (!flowing) {
          flowing = true;
          sub.next({ type: 'state', state: 'running' });
        }
        sub.next({ type: 'frame', frame });
      };
      const onData = (chunk: Buffer) => {
        const arrival = nowUs();
        if (format === null) {
          const first = chunk.findIndex((b) => !isWhitespace(b));
          if (first === -1) return;
          format = chunk[first] === 0x2d ? 'mpjpeg' : 'jpeg';
          log.info({ format }, 'reading frames from standard input');
        }
        if (format === 'mpjpeg') {
          try {
            mpjpeg.push(chunk, onFrame(arrival));
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'bad mpjpeg on standard input; resynchronising');
            mpjpeg.reset();
          }
        } else {
          jpeg.push(chunk, onFrame(arrival));
          if (jpeg.dropped !== droppedSeen) {
            log.warn({ dropped: jpeg.dropped }, 'dropped a corrupt or oversized JPEG from standard input');
            droppedSeen = jpeg.dropped;
          }
        }
      };
      const finish = (reason: string) => {
        ended = reason;
        log.error(reason);
        sub.next({ type: 'state', state: 'restarting', error: reason });
        sub.error(new EdgeServerError('SOURCE_ENDED', reason));
      };
      const onEnd = () => finish('standard input ended; no more frames will come');
      const onError = (err: Error) => finish(`standard input failed: ${err.message}`);
      o.input.on('data', onData);
      o.input.once('end', onEnd);
      o.input.once('error', onError);
      o.input.resume();
      return () => {
        o.input.off('data', onData);
        o.input.off('end', onEnd);
        o.input.off('error', onError);
        o.input.pause();
      };
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
