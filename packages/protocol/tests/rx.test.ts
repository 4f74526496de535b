import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';
import {
  decodeClientMessages,
  decodeCommands,
  decodeFrames,
  decodeServerMessages,
  encodeFrames,
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
