import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ClientMessageDecoder,
  CommandDecoder,
  FrameDecoder,
  ProtocolError,
  ServerMessageDecoder,
  detectProtocol,
  encodeFrame,
  isWholeJpeg,
  readJpegInfo,
  type ClientMessage,
  type CommandChar,
  type ServerMessage,
} from '../src/index.js';
import { cut, decodeChunks, encodeClient, encodeServer } from './helpers.js';

// Bounded runs keep the suite quick on a shared 2-core machine; fast-check reports a seed to replay.
const RUNS = { numRuns: 200 };

/** Random cut points for a stream of `length` bytes (sorted, duplicates allowed: empty chunks). */
const cutsOf = (length: number) =>
  fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 }).map((a) => a.sort((x, y) => x - y));

/** A stream plus random cut points into it. */
function chunked<T>(arb: fc.Arbitrary<{ items: T; bytes: Buffer }>) {
  return arb.chain((s) => cutsOf(s.bytes.length).map((offsets) => ({ ...s, chunks: cut(s.bytes, offsets) })));
}

const jpegs = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 });
const command = fc.constantFrom<CommandChar>('0', '1', '2', '3', 'q');
const text = fc.string({ maxLength: 40 });
const eight = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a));

const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({ token: text, client: text }, { requiredKeys: [] }).map((hello) => ({ type: 'hello' as const, hello })),
  command.map((c) => ({ type: 'command' as const, command: c })),
  eight.map((data) => ({ type: 'ping' as const, data })),
);

const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc
    .record({
      server: text,
      version: text,
      width: fc.nat(10_000),
      height: fc.nat(10_000),
      fps: fc.double({ min: 0, max: 240, noNaN: true }),
      authRequired: fc.boolean(),
    })
    .map((welcome) => ({ type: 'welcome' as const, welcome })),
  fc
    .record({ seq: fc.nat({ max: 0xffff_ffff }), captureTimeUs: fc.maxSafeNat(), jpeg: fc.uint8Array({ maxLength: 300 }) })
    .map((f) => ({ type: 'frame' as const, ...f, jpeg: Buffer.from(f.jpeg) })),
  fc
    .record({ code: fc.string({ minLength: 1, maxLength: 20 }), message: text })
    .map((error) => ({ type: 'error' as const, error })),
  eight.map((data) => ({ type: 'pong' as const, data })),
);

/** Feeds random chunks; a ProtocolError resets the decoder, anything else fails the property. */
function feedRandom(
  decoder: { push(c: Uint8Array, on: (x: unknown) => void): void; reset(): void; readonly bufferedBytes: number },
  chunks: Uint8Array[],
  maxBuffered: number,
): void {
  for (const chunk of chunks) {
    try {
      decoder.push(chunk, () => {});
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      decoder.reset();
    }
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxBuffered);
  }
}

const randomChunks = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 30 });

describe('properties: random chunking gives the same result as one chunk', () => {
  it('v1 frames', () => {
    fc.assert(
      fc.property(
        chunked(jpegs.map((items) => ({ items, bytes: Buffer.concat(items.flatMap((j) => encodeFrame(j))) }))),
        ({ items, chunks }) => {
          const decoder = new FrameDecoder();
          const frames = decodeChunks(decoder, chunks);
          expect(frames.map((f) => Buffer.from(f))).toEqual(items.map((j) => Buffer.from(j)));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it('v1 commands, with whitespace and unknown bytes mixed in', () => {
    fc.assert(
      fc.property(
        chunked(fc.uint8Array({ maxLength: 100 }).map((a) => ({ items: null, bytes: Buffer.from(a) }))),
        ({ bytes, chunks }) => {
          expect(decodeChunks(new CommandDecoder(), chunks)).toEqual(decodeChunks(new CommandDecoder(), [bytes]));
        },
      ),
      RUNS,
    );
  });

  it('v2 client messages', () => {
    fc.assert(
      fc.property(
        chunked(fc.array(clientMessage, { maxLength: 8 }).map((items) => ({ items, bytes: Buffer.concat(items.map(encodeClient)) }))),
        ({ items, chunks }) => {
          expect(decodeChunks(new ClientMessageDecoder(), chunks)).toEqual(items);
        },
      ),
      RUNS,
    );
  });

  it('v2 server messages', () => {
    fc.assert(
      fc.property(
        chunked(fc.array(serverMessage, { maxLength: 8 }).map((items) => ({ items, bytes: Buffer.concat(items.map(encodeServer)) }))),
        ({ items, chunks }) => {
          expect(decodeChunks(new ServerMessageDecoder(), chunks)).toEqual(items);
        },
      ),
      RUNS,
    );
  });
});

describe('properties: random bytes only ever raise the coded error, within the limits', () => {
  it('FrameDecoder', () => {
    fc.assert(
      fc.property(randomChunks, (chunks) => feedRandom(new FrameDecoder({ maxFrameBytes: 1000 }), chunks, 4 + 1000)),
      { numRuns: 500 },
    );
  });

  it('FrameDecoder with random bytes after a valid header prefix', () => {
    // Small lengths make the random bytes complete frames often, so the whole cycle is exercised.
    const prefixed = randomChunks.map((c) => [Buffer.from([0, 0, 0, 3]), ...c]);
    fc.assert(fc.property(prefixed, (chunks) => feedRandom(new FrameDecoder({ maxFrameBytes: 200 }), chunks, 204)), RUNS);
  });

  it('ClientMessageDecoder', () => {
    const typed = randomChunks.map((c) => c.map((a, i) => (i === 0 && a.length > 0 ? Buffer.from([1 + (a[0]! % 3), 0, 0, 0, ...a]) : a)));
    fc.assert(
      fc.property(typed, (chunks) => feedRandom(new ClientMessageDecoder({ maxControlBytes: 100 }), chunks, 5 + 100)),
      { numRuns: 500 },
    );
  });

  it('ServerMessageDecoder', () => {
    const typed = randomChunks.map((c) => c.map((a, i) => (i === 0 && a.length > 0 ? Buffer.from([0x81 + (a[0]! % 4), 0, 0, 0, ...a]) : a)));
    fc.assert(
      fc.property(typed, (chunks) =>
        feedRandom(new ServerMessageDecoder({ maxControlBytes: 100, maxFrameBytes: 300 }), chunks, 17 + 300),
      ),
      { numRuns: 500 },
    );
  });

  it('CommandDecoder never throws at all', () => {
    fc.assert(
      fc.property(randomChunks, (chunks) => {
        const events = decodeChunks(new CommandDecoder(), chunks);
        const total = chunks.reduce((n, c) => n + c.length, 0);
        expect(events.length).toBeLessThanOrEqual(total);
      }),
      RUNS,
    );
  });

  it('detectProtocol', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from([0x45, ...a]))), (head) => {
        try {
          expect(['legacy', 'v2', 'more']).toContain(detectProtocol(head));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          expect(err.code).toBe('BAD_MAGIC');
        }
      }),
      RUNS,
    );
  });

  it('readJpegInfo and isWholeJpeg', () => {
    const jpegish = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from([0xff, 0xd8, 0xff, ...a]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), jpegish), (bytes) => {
        expect(typeof isWholeJpeg(bytes)).toBe('boolean');
        try {
          const info = readJpegInfo(bytes);
          expect(info.width).toBeGreaterThan(0);
          expect(info.height).toBeGreaterThan(0);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          expect(err.code).toBe('INVALID_JPEG');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
