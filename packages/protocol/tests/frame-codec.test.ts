import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../src/index.js';
import { hex, joined } from './fixtures/bytes.js';
import { frameErrorFixtures, frameFixtures } from './fixtures/v1-frames.js';
import { decodeChunks, expectProtocolError } from './helpers.js';

describe('v1 frame fixtures', () => {
  it.each(frameFixtures)('decodes $name', ({ frames, bytes }) => {
    const decoded = decodeChunks(new FrameDecoder(), [Buffer.from(bytes)]);
    expect(decoded.map(hex)).toEqual(frames.map(hex));
  });

  it.each(frameFixtures)('encodes $name to the fixture bytes', ({ frames, bytes }) => {
    const encoded = Buffer.concat(frames.map((f) => joined(encodeFrame(Buffer.from(f)))));
    expect(hex(encoded)).toBe(hex(bytes));
  });

  it.each(frameFixtures)('round-trips $name', ({ frames }) => {
    const chunks = frames.map((f) => joined(encodeFrame(Buffer.from(f))));
    const decoded = decodeChunks(new FrameDecoder(), chunks);
    expect(decoded.map(hex)).toEqual(frames.map(hex));
  });
});

describe('v1 frame error fixtures', () => {
  it.each(frameErrorFixtures)('refuses $name with $code and emits nothing after it', (f) => {
    const decoder = new FrameDecoder({ maxFrameBytes: f.maxFrameBytes });
    const frames: Buffer[] = [];
    const err = expectProtocolError(() => decoder.push(Buffer.from(f.bytes), (j) => frames.push(j)), f.code);
    expect(err.fatal).toBe(true);
    expect(frames).toHaveLength(f.framesBefore);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it.each(frameErrorFixtures)('refuses $name the same way when fed byte by byte', (f) => {
    const decoder = new FrameDecoder({ maxFrameBytes: f.maxFrameBytes });
    const frames: Buffer[] = [];
    const err = expectProtocolError(() => {
      for (const b of f.bytes) decoder.push(Buffer.from([b]), (j) => frames.push(j));
    }, f.code);
    expect(err.fatal).toBe(true);
    expect(frames).toHaveLength(f.framesBefore);
  });
});

describe('encodeFrame', () => {
  it('returns the caller’s JPEG object itself, not a copy', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const [header, payload] = encodeFrame(jpeg);
    expect(payload).toBe(jpeg);
    expect(header).toHaveLength(4);
  });

  it('accepts a plain Uint8Array', () => {
    const [header, payload] = encodeFrame(new Uint8Array(3));
    expect(hex(header)).toBe('00000003');
    expect(payload).toBeInstanceOf(Uint8Array);
  });

  it('returns a fresh header per call so queued writes are never overwritten', () => {
    const [a] = encodeFrame(new Uint8Array(1));
    const [b] = encodeFrame(new Uint8Array(2));
    expect(hex(a)).toBe('00000001');
    expect(hex(b)).toBe('00000002');
  });
});
