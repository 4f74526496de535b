// Headers that depend only on the frame are built once per frame and shared by every client.
import { describe, expect, it } from 'vitest';
import { encodeFrame, type CapturedFrame } from '@edgecam/protocol';
import { oncePerFrame } from '../src/camera/per-frame.js';
import { framePart } from '../src/http/mjpeg-viewer.js';

function frame(seq: number, size: number): CapturedFrame {
  return { seq, captureTimeUs: 1_700_000_000_000_000 + seq, jpeg: Buffer.alloc(size, seq) };
}

describe('work done once per frame', () => {
  it('runs the computation once per frame object, and again for another frame', () => {
    const calls: number[] = [];
    const encode = oncePerFrame((f) => {
      calls.push(f.seq);
      return encodeFrame(f.jpeg);
    });
    const a = frame(1, 100);
    const b = frame(2, 300);
    const first = encode(a);
    for (let client = 0; client < 10; client++) expect(encode(a)).toBe(first);
    expect(encode(b)).not.toBe(first);
    expect(calls).toEqual([1, 2]);
    expect((first[0] as Buffer).readUInt32BE(0)).toBe(100);
    expect((encode(b)[0] as Buffer).readUInt32BE(0)).toBe(300);
  });

  it('keeps the newest frame and the one before it, and computes an older one again to equal bytes', () => {
    const calls: number[] = [];
    const encode = oncePerFrame((f) => {
      calls.push(f.seq);
      return encodeFrame(f.jpeg);
    });
    const [a, b, c] = [frame(1, 10), frame(2, 20), frame(3, 30)];
    const first = encode(a);
    encode(b);
    expect(encode(a)).toBe(first);
    encode(c);
    expect(encode(b)).toBe(encode(b));
    expect(calls).toEqual([1, 2, 3]);
    const again = encode(a);
    expect(again).not.toBe(first);
    expect(Buffer.concat(again as Buffer[])).toEqual(Buffer.concat(first as Buffer[]));
    expect(encode(c)).toBe(encode(c));
    expect(calls).toEqual([1, 2, 3, 1]);
  });

  it('gives every stream viewer the same part headers for a frame, with that frame\'s length', () => {
    const a = frame(1, 1234);
    const b = frame(2, 56);
    const partA = framePart('length-prefixed', a);
    expect(framePart('length-prefixed', a).prefix).toBe(partA.prefix);
    expect(partA.prefix.toString('latin1')).toBe('Content-Type: image/jpeg\r\nContent-Length: 1234\r\n\r\n');
    expect(framePart('length-prefixed', b).prefix.toString('latin1')).toContain('Content-Length: 56\r\n');
    expect(framePart('headers-ahead', a).prefix.length).toBe(0);
  });
});
