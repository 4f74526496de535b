// A source's bytes to whole JPEGs, as operators: `chunks$.pipe(splitMpjpeg())` for ffmpeg's
// `-f mpjpeg`, `chunks$.pipe(splitJpegs())` for concatenated JPEGs. Per chunk this is one push()
// into the parser and one clock read; each JPEG carries the arrival time of the chunk that
// completed it. stampFrames() (source.ts) turns them into CapturedFrames.
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import { nowUs } from '@edgecam/runtime';
import { JpegSplitter } from './jpeg-splitter.js';
import { MpjpegDecoder } from './mpjpeg-decoder.js';

/** A whole JPEG and when the chunk that completed it arrived (µs, nowUs()). */
export interface ArrivedJpeg {
  jpeg: Buffer;
  arrivalUs: number;
}

/** The push() both parsers share. */
type Parser = (chunk: Buffer, onJpeg: (jpeg: Buffer) => void) => void;

/** Runs each chunk through the parser makeParser builds for a subscription (which may end it with sub.error). */
function splitWith(makeParser: (sub: Subscriber<ArrivedJpeg>) => Parser): OperatorFunction<Buffer, ArrivedJpeg> {
  return (chunks$) =>
    new Observable<ArrivedJpeg>((sub) => {
      let arrivalUs = 0;
      const onJpeg = (jpeg: Buffer): void => sub.next({ jpeg, arrivalUs });
      const push = makeParser(sub);
      return chunks$.subscribe({
        next: (chunk) => {
          arrivalUs = nowUs();
          push(chunk, onJpeg);
        },
        error: (err: unknown) => sub.error(err),
        complete: () => sub.complete(),
      });
    });
}

/** Options of splitMpjpeg. */
export interface SplitMpjpegOptions {
  /** The parser; pass one to keep its state across subscriptions (a continuous stdin). Default: a new one per subscription. */
  decoder?: MpjpegDecoder;
  /** Given: a malformed stream is reported here and parsing starts over. Otherwise it is the stream's error (EdgeServerError). */
  onMalformed?: (err: Error) => void;
}

/** ffmpeg's mpjpeg chunks to JPEGs (MpjpegDecoder). */
export function splitMpjpeg(o: SplitMpjpegOptions = {}): OperatorFunction<Buffer, ArrivedJpeg> {
  return splitWith((sub) => {
    const decoder = o.decoder ?? new MpjpegDecoder();
    return (chunk, onJpeg) => {
      try {
        decoder.push(chunk, onJpeg);
      } catch (err) {
        if (!o.onMalformed) {
          sub.error(err);
          return;
        }
        o.onMalformed(err as Error);
        decoder.reset();
      }
    };
  });
}

/** Options of splitJpegs. */
export interface SplitJpegsOptions {
  /** The parser; pass one to keep its state across subscriptions. Default: a new one per subscription. */
  splitter?: JpegSplitter;
  /** Called after a chunk in which corrupt or oversized frames were dropped, with the total so far. */
  onDropped?: (dropped: number) => void;
}

/** Chunks of concatenated JPEGs (raw MJPEG) to JPEGs (JpegSplitter); corrupt frames are dropped, never an error. */
export function splitJpegs(o: SplitJpegsOptions = {}): OperatorFunction<Buffer, ArrivedJpeg> {
  return splitWith(() => {
    const splitter = o.splitter ?? new JpegSplitter();
    let droppedSeen = splitter.dropped;
    return (chunk, onJpeg) => {
      splitter.push(chunk, onJpeg);
      if (splitter.dropped !== droppedSeen) {
        droppedSeen = splitter.dropped;
        o.onDropped?.(droppedSeen);
      }
    };
  });
}
