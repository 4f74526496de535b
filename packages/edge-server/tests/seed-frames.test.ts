// The seed's byte stream to JPEGs (seed-frames.ts): frames across any chunking, and each way the
// seed's server breaks its own framing named for what it is. Fixtures are bytes, one field a line.
import { describe, expect, it } from 'vitest';
import { EdgeServerError } from '../src/errors.js';
import { SeedFrameReader } from '../src/sources/seed-frames.js';

const stream = (...fields: number[][]): Buffer => Buffer.from(fields.flat());
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** A 6-byte "JPEG": SOI, one byte, EOI. */
const JPEG_A = [0xff, 0xd8, 0x0a, 0xff, 0xd9];
const JPEG_B = [0xff, 0xd8, 0x0b, 0x0b, 0xff, 0xd9];

const TWO_FRAMES = stream(
  [0x00, 0x00, 0x00, 0x05], // length 5
  JPEG_A, // SOI 0a EOI
  [0x00, 0x00, 0x00, 0x06], // length 6
  JPEG_B, // SOI 0b 0b EOI
);

/** Pushes the stream in chunks of `size` bytes; the JPEGs, or the error it stopped at. */
function read(bytes: Buffer, size: number, maxFrameBytes = 1024): { jpegs: string[]; error?: EdgeServerError; reader: SeedFrameReader } {
  const reader = new SeedFrameReader(maxFrameBytes);
  const jpegs: string[] = [];
  try {
    for (let off = 0; off < bytes.length; off += size) {
      reader.push(Buffer.from(bytes.subarray(off, off + size)), (j) => jpegs.push(j.toString('hex')));
    }
  } catch (err) {
    return { jpegs, error: err as EdgeServerError, reader };
  }
  return { jpegs, reader };
}

describe('SeedFrameReader', () => {
  it.each([1, 2, 3, 4, 5, 7, 64])('returns both frames when the stream comes in chunks of %i bytes', (size) => {
    const r = read(TWO_FRAMES, size);
    expect(r.error).toBeUndefined();
    expect(r.jpegs).toEqual(['ffd80affd9', 'ffd80b0bffd9']);
    expect(r.reader.bufferedBytes).toBe(0);
  });

  it('skips a frame of length 0, which the protocol allows, and counts it', () => {
    const r = read(stream([0x00, 0x00, 0x00, 0x00] /* length 0 */, [0x00, 0x00, 0x00, 0x05] /* length 5 */, JPEG_A), 64);
    expect(r.jpegs).toEqual(['ffd80affd9']);
    expect(r.reader.empty).toBe(1);
  });

  it.each([1, 3, 64])('quotes "Unknown command" written between frames (chunks of %i) instead of its length', (size) => {
    const bytes = stream(
      [0x00, 0x00, 0x00, 0x05], // length 5
      JPEG_A,
      ascii('Unknown command'), // the seed's answer to `3q`, unframed: 'Unkn' reads as 1433299822 bytes
    );
    const r = read(bytes, size);
    expect(r.jpegs).toEqual(['ffd80affd9']);
    expect(r.error).toBeInstanceOf(EdgeServerError);
    expect(r.error!.code).toBe('SOURCE_PROTOCOL');
    // Quoted as far as it has arrived: the header's 4 bytes and the rest of their chunk.
    expect(r.error!.message).toMatch(/^the camera sent text where a frame should be: "Unkn[a-z ]*"; it answers a command it does not know with text/);
    if (size === 64) expect(r.error!.message).toContain('"Unknown command"');
  });

  it('names the announced length when it is over the limit and no text', () => {
    const r = read(stream([0x7f, 0xff, 0xff, 0xff] /* length 2147483647 */, [0xff, 0xd8]), 64, 16 * 1024 * 1024);
    expect(r.error!.code).toBe('SOURCE_PROTOCOL');
    expect(r.error!.message).toBe('the camera announced a frame of 2147483647 bytes, over the limit of 16777216 bytes; refusing it');
  });

  it('refuses a frame that is not a JPEG, showing its first bytes', () => {
    const r = read(stream([0x00, 0x00, 0x00, 0x0a] /* length 10 */, [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]), 64);
    expect(r.error!.code).toBe('SOURCE_PROTOCOL');
    expect(r.error!.message).toBe('the camera sent a frame that is not a JPEG (10 bytes: 00 01 02 03 04 05 06 07 …); its stream cannot be trusted');
  });

  it('quotes text that landed inside a frame (the seed writes it between a header and its JPEG)', () => {
    const text = ascii('Unknown command');
    const r = read(stream([0x00, 0x00, 0x00, text.length] /* length 15 */, text), 64);
    expect(r.error!.message).toBe(
      'the camera sent text inside a frame: "Unknown command"; it answers a command it does not know with text, so its frames cannot be told apart any more',
    );
  });

  it('shows bytes with control characters as hex, never as text', () => {
    const text = ascii('Unknown\x1b[2J');
    const r = read(stream([0x00, 0x00, 0x00, text.length] /* length 11 */, text), 64);
    expect(r.error!.message).toBe('the camera sent a frame that is not a JPEG (11 bytes: 55 6e 6b 6e 6f 77 6e 1b …); its stream cannot be trusted');
  });

  it('emits nothing after an error, and refuses further bytes', () => {
    const reader = new SeedFrameReader(1024);
    const jpegs: Buffer[] = [];
    expect(() => reader.push(Buffer.from(ascii('Unknown command')), (j) => jpegs.push(j))).toThrow(EdgeServerError);
    expect(() => reader.push(TWO_FRAMES, (j) => jpegs.push(j))).toThrow();
    expect(jpegs).toEqual([]);
  });
});
