import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameDecoder, ProtocolError, encodeFrame } from '../src/index.js';
import { counting, hex, joined } from './fixtures/bytes.js';
import { byteAtATime, cut, decodeChunks, expectProtocolError } from './helpers.js';

/** Three frames of different sizes, including an empty one, as one stream. */
const FRAMES = [Buffer.from(counting(9)), Buffer.alloc(0), Buffer.from(counting(5).reverse())];
const STREAM = Buffer.concat(FRAMES.map((f) => joined(encodeFrame(f))));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FrameDecoder chunking', () => {
  it('returns the same frames for a stream cut at every single offset', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const decoded = decodeChunks(new FrameDecoder(), cut(STREAM, [i]));
      expect(decoded.map(hex), `cut at ${i}`).toEqual(FRAMES.map(hex));
    }
  });

  it('returns the same frames for a stream cut at every pair of offsets', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j++) {
        const decoder = new FrameDecoder();
        const decoded = decodeChunks(decoder, cut(STREAM, [i, j]));
        expect(decoded.map(hex), `cut at ${i} and ${j}`).toEqual(FRAMES.map(hex));
        expect(decoder.bufferedBytes).toBe(0);
      }
    }
  });

  it('returns the frames when fed one byte at a time', () => {
    const decoder = new FrameDecoder();
    expect(decodeChunks(decoder, byteAtATime(STREAM)).map(hex)).toEqual(FRAMES.map(hex));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('returns a thousand frames from one chunk, all as views of it', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(counting(i % 97)));
    const chunk = Buffer.concat(frames.map((f) => joined(encodeFrame(f))));
    const decoded = decodeChunks(new FrameDecoder(), [chunk]);
    expect(decoded.map(hex)).toEqual(frames.map(hex));
    expect(decoded.every((f) => f.buffer === chunk.buffer)).toBe(true);
  });

  it('returns a frame split across three chunks', () => {
    const jpeg = Buffer.from(counting(100));
    const bytes = joined(encodeFrame(jpeg));
    const decoded = decodeChunks(new FrameDecoder(), cut(bytes, [2, 50]));
    expect(decoded.map(hex)).toEqual([hex(jpeg)]);
  });

  it('accepts plain Uint8Arrays and returns Buffers', () => {
    const u8 = new Uint8Array(STREAM);
    const decoded = decodeChunks(new FrameDecoder(), [u8.subarray(0, 7), u8.subarray(7)]);
    expect(decoded.every((f) => Buffer.isBuffer(f))).toBe(true);
    expect(decoded.map(hex)).toEqual(FRAMES.map(hex));
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameDecoder();
    const decoded = decodeChunks(decoder, [Buffer.alloc(0), STREAM.subarray(0, 2), Buffer.alloc(0), STREAM.subarray(2)]);
    expect(decoded.map(hex)).toEqual(FRAMES.map(hex));
  });
});

describe('FrameDecoder ownership', () => {
  it('returns a frame that lies inside one chunk as a view of that chunk', () => {
    const chunk = joined(encodeFrame(Buffer.from(counting(10))));
    const [frame] = decodeChunks(new FrameDecoder(), [chunk]);
    expect(frame!.buffer).toBe(chunk.buffer);
    expect(frame!.byteOffset).toBe(chunk.byteOffset + 4);
    expect(frame!.length).toBe(10);
  });

  it('copies a frame spread over chunks once into a buffer of exactly its size', () => {
    const jpeg = Buffer.from(counting(10));
    const chunks = cut(joined(encodeFrame(jpeg)), [6, 9]);
    const [frame] = decodeChunks(new FrameDecoder(), chunks);
    expect(frame!.buffer.byteLength).toBe(10);
    expect(frame!.byteOffset).toBe(0);
    for (const c of chunks) expect(frame!.buffer).not.toBe(c.buffer);
    // The copy is the caller's: scribbling on the chunks afterwards does not change it.
    for (const c of chunks) c.fill(0xee);
    expect(hex(frame!)).toBe(hex(jpeg));
  });

  it('allocates a spanning frame once, when its header is decoded, and never again while it fills', () => {
    const jpeg = Buffer.from(counting(5000));
    const chunks = byteAtATime(joined(encodeFrame(jpeg)));
    const slow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const decoder = new FrameDecoder();
    const frames = decodeChunks(decoder, chunks);
    expect(slow).toHaveBeenCalledTimes(1);
    expect(slow).toHaveBeenCalledWith(5000);
    expect(hex(frames[0]!)).toBe(hex(jpeg));
  });
});

describe('FrameDecoder limits', () => {
  it('refuses a claimed 4 GB frame from its header without allocating anything', () => {
    const decoder = new FrameDecoder(); // its own 4-byte header scratch is allocated here, before
    const spies = [
      vi.spyOn(Buffer, 'allocUnsafeSlow'),
      vi.spyOn(Buffer, 'allocUnsafe'),
      vi.spyOn(Buffer, 'alloc'),
    ];
    expectProtocolError(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff]), () => {}), 'FRAME_TOO_LARGE');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('refuses a claimed 4 GB frame whose header arrives split, without allocating anything', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from([0xff, 0xff]), () => {});
    const slow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    expectProtocolError(() => decoder.push(Buffer.from([0xff, 0xff]), () => {}), 'FRAME_TOO_LARGE');
    expect(slow).not.toHaveBeenCalled();
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 64 });
    const jpeg = Buffer.from(counting(64));
    const decoded = decodeChunks(decoder, cut(joined(encodeFrame(jpeg)), [3, 40]));
    expect(decoded.map(hex)).toEqual([hex(jpeg)]);
  });

  it('says in its message which limit was hit and what the header claimed', () => {
    const err = expectProtocolError(
      () => new FrameDecoder({ maxFrameBytes: 10 }).push(Buffer.from([0, 0, 0, 11]), () => {}),
      'FRAME_TOO_LARGE',
    );
    expect(err.message).toContain('11');
    expect(err.message).toContain('maxFrameBytes');
  });

  it('rejects a limit that is not a non-negative integer', () => {
    expect(() => new FrameDecoder({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 1.5 })).toThrow(RangeError);
  });

  it('counts the bytes of the incomplete frame, header included', () => {
    const decoder = new FrameDecoder();
    const bytes = joined(encodeFrame(Buffer.from(counting(10))));
    decoder.push(bytes.subarray(0, 2), () => {});
    expect(decoder.bufferedBytes).toBe(2);
    decoder.push(bytes.subarray(2, 9), () => {});
    expect(decoder.bufferedBytes).toBe(9);
    decoder.push(bytes.subarray(9), () => {});
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe('FrameDecoder failure', () => {
  it('throws DECODER_FAILED after a fatal error until reset', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4 });
    expectProtocolError(() => decoder.push(Buffer.from([0, 0, 0, 5]), () => {}), 'FRAME_TOO_LARGE');
    const failed = expectProtocolError(() => decoder.push(STREAM, () => {}), 'DECODER_FAILED');
    expect(failed.fatal).toBe(true);
    decoder.reset();
    const frames = decodeChunks(decoder, [joined(encodeFrame(Buffer.from([1, 2])))]);
    expect(frames.map(hex)).toEqual(['0102']);
  });

  it('forgets a partial frame on reset', () => {
    const decoder = new FrameDecoder();
    decoder.push(STREAM.subarray(0, 6), () => {});
    expect(decoder.bufferedBytes).toBe(6);
    decoder.reset();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decodeChunks(decoder, [STREAM]).map(hex)).toEqual(FRAMES.map(hex));
  });

  it('fails when the frame callback throws, since the rest of the chunk is lost', () => {
    const decoder = new FrameDecoder();
    const boom = new Error('consumer bug');
    expect(() =>
      decoder.push(STREAM, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expectProtocolError(() => decoder.push(STREAM, () => {}), 'DECODER_FAILED');
  });

  it('throws only ProtocolError instances carrying a code and fatal flag', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 0 });
    const err = expectProtocolError(() => decoder.push(Buffer.from([0, 0, 0, 1, 0]), () => {}), 'FRAME_TOO_LARGE');
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.name).toBe('ProtocolError');
  });
});
