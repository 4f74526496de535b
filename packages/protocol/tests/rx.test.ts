import { describe, expect, it } from 'vitest';
import { concat, defer, firstValueFrom, from, lastValueFrom, of, Subject, throwError, toArray } from 'rxjs';
import {
  decodeClientMessages,
  decodeCommands,
  decodeFrames,
  decodeServerMessages,
  encodeFrames,
  backoffDelay,
  retryWithBackoff,
} from '../src/rx.js';
import {
  ProtocolError,
  encodeCommandMessage,
  encodeFrame,
  encodeFrameMessage,
  encodeHello,
} from '../src/index.js';
import { counting, hex, joined } from './fixtures/bytes.js';
import { byteAtATime } from './helpers.js';

const JPEGS = [Buffer.from(counting(10)), Buffer.from(counting(3)), Buffer.alloc(0)];
const STREAM = Buffer.concat(JPEGS.map((j) => joined(encodeFrame(j))));

async function errorOf(promise: Promise<unknown>): Promise<ProtocolError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  return err as ProtocolError;
}

describe('rx operators', () => {
  it('decodeFrames turns byte chunks into JPEG buffers', async () => {
    const frames = await lastValueFrom(from(byteAtATime(STREAM)).pipe(decodeFrames(), toArray()));
    expect(frames.map(hex)).toEqual(JPEGS.map(hex));
  });

  it('decodeFrames errors with the decoder’s code on a bad length', async () => {
    const err = await errorOf(lastValueFrom(from([Buffer.from([0, 0, 1, 0])]).pipe(decodeFrames({ maxFrameBytes: 255 }))));
    expect(err.code).toBe('FRAME_TOO_LARGE');
  });

  it('decodeFrames errors with TRUNCATED when the source completes inside a frame', async () => {
    const err = await errorOf(lastValueFrom(from([STREAM.subarray(0, 7)]).pipe(decodeFrames(), toArray())));
    expect(err.code).toBe('TRUNCATED');
  });

  it('decodeFrames keeps one decoder per subscription', async () => {
    const source = from([STREAM.subarray(0, 5), STREAM.subarray(5)]);
    const decoded = source.pipe(decodeFrames(), toArray());
    const [a, b] = await Promise.all([lastValueFrom(decoded), lastValueFrom(decoded)]);
    expect(a.map(hex)).toEqual(JPEGS.map(hex));
    expect(b.map(hex)).toEqual(JPEGS.map(hex));
  });

  it('decodeFrames stops feeding after unsubscribe', () => {
    const subject = new Subject<Uint8Array>();
    const seen: Buffer[] = [];
    const sub = subject.pipe(decodeFrames()).subscribe((f) => seen.push(f));
    subject.next(STREAM.subarray(0, 14));
    sub.unsubscribe();
    subject.next(STREAM.subarray(14));
    expect(seen).toHaveLength(1);
    expect(subject.observed).toBe(false);
  });

  it('decodeCommands turns glued bytes into command events', async () => {
    const events = await lastValueFrom(from([Buffer.from('13'), Buffer.from('0q\n2x')]).pipe(decodeCommands(), toArray()));
    expect(events).toEqual([
      { kind: 'command', command: '1' },
      { kind: 'command', command: '3' },
      { kind: 'command', command: '0' },
      { kind: 'command', command: 'q' },
      { kind: 'command', command: '2' },
      { kind: 'unknown', byte: 0x78 },
    ]);
  });

  it('encodeFrames yields [header, jpeg] without copying the JPEG', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const [header, payload] = await firstValueFrom(from([jpeg]).pipe(encodeFrames()));
    expect(hex(header!)).toBe('00000004');
    expect(payload).toBe(jpeg);
  });

  it('encodeFrames and decodeFrames round-trip', async () => {
    const parts = await lastValueFrom(from(JPEGS).pipe(encodeFrames(), toArray()));
    const frames = await lastValueFrom(from(parts.flat()).pipe(decodeFrames(), toArray()));
    expect(frames.map(hex)).toEqual(JPEGS.map(hex));
  });

  it('decodeServerMessages decodes FRAMEs', async () => {
    const bytes = Buffer.concat([...encodeFrameMessage(5, 6, JPEGS[0]!), ...encodeFrameMessage(6, 7, JPEGS[1]!)]);
    const messages = await lastValueFrom(from(byteAtATime(bytes)).pipe(decodeServerMessages(), toArray()));
    expect(messages).toEqual([
      { type: 'frame', seq: 5, captureTimeUs: 6, jpeg: JPEGS[0] },
      { type: 'frame', seq: 6, captureTimeUs: 7, jpeg: JPEGS[1] },
    ]);
  });

  it('decodeClientMessages decodes HELLO and COMMAND, and refuses unframed bytes', async () => {
    const bytes = Buffer.concat([encodeHello({ client: 'c' }), encodeCommandMessage('3')]);
    const messages = await lastValueFrom(from([bytes]).pipe(decodeClientMessages(), toArray()));
    expect(messages).toEqual([
      { type: 'hello', hello: { client: 'c' } },
      { type: 'command', command: '3' },
    ]);
    const err = await errorOf(lastValueFrom(from([Buffer.from('3')]).pipe(decodeClientMessages())));
    expect(err.code).toBe('UNKNOWN_MESSAGE_TYPE');
  });

  it('passes a source error through unchanged', async () => {
    const boom = new Error('socket reset');
    const subject = new Subject<Uint8Array>();
    const done = lastValueFrom(subject.pipe(decodeFrames()));
    subject.error(boom);
    await expect(done).rejects.toBe(boom);
  });
});

describe('retryWithBackoff', () => {
  it('doubles the delay from initialMs up to maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('resubscribes after errors, restarts the backoff after a value, and passes fatal errors on', async () => {
    const delays: number[] = [];
    let subscriptions = 0;
    const source = defer(() => {
      subscriptions++;
      if (subscriptions === 3) return concat(of(subscriptions), throwError(() => new Error('again')));
      if (subscriptions === 5) return throwError(() => new Error('fatal'));
      return throwError(() => new Error('transient'));
    });
    const seen: number[] = [];
    const err = await new Promise<unknown>((resolve) => {
      source
        .pipe(
          retryWithBackoff({
            initialMs: 1,
            maxMs: 4,
            shouldRetry: (e) => (e as Error).message !== 'fatal',
            onRetry: (_e, _n, ms) => delays.push(ms),
          }),
        )
        .subscribe({ next: (v) => seen.push(v), error: resolve });
    });
    expect((err as Error).message).toBe('fatal');
    expect(seen).toEqual([3]);
    expect(delays).toEqual([1, 2, 1, 2]);
  });
});
