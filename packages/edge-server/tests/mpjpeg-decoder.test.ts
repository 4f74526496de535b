import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { EdgeServerError } from '../src/errors.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { MpjpegDecoder } from '../src/sources/mpjpeg-decoder.js';

/** mpjpeg as ffmpeg writes it: the boundary once, then headers, body, CRLF and boundary per part. */
function mpjpeg(bodies: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('--ffmpeg\r\n')];
  for (const b of bodies) {
    parts.push(Buffer.from(`Content-type: image/jpeg\r\nContent-length: ${b.length}\r\n\r\n`), b, Buffer.from('\r\n--ffmpeg\r\n'));
  }
  return Buffer.concat(parts);
}

function body(n: number, fill: number): Buffer {
  // Bodies full of CR, LF and dashes prove the decoder never scans a body for boundaries.
  const b = Buffer.alloc(n, fill);
  for (let i = 0; i < n; i += 7) b[i] = [0x0d, 0x0a, 0x2d][i % 3] as number;
  return b;
}

function decodeAll(stream: Buffer, chunkSizes: (i: number) => number, d = new MpjpegDecoder()): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  let i = 0;
  while (off < stream.length) {
    const n = Math.max(1, chunkSizes(i++));
    d.push(stream.subarray(off, off + n), (f) => out.push(Buffer.from(f)));
    off += n;
  }
  return out;
}

/** Plain Buffer comparison: vitest's deep equality is far too slow for thousands of runs. */
function same(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((g, i) => g.equals(want[i] as Buffer));
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as EdgeServerError).code;
  }
  return undefined;
}

describe('MpjpegDecoder', () => {
  const bodies = [body(10, 1), body(300, 2), body(1, 3), body(2000, 4)];
  const stream = mpjpeg(bodies);

  it('returns every part of a stream pushed in one chunk, as views of that chunk', () => {
    const got: Buffer[] = [];
    new MpjpegDecoder().push(stream, (f) => got.push(f));
    expect(got).toEqual(bodies);
    for (const f of got) expect(f.buffer).toBe(stream.buffer);
  });

  it('returns the same parts when the stream is fed byte by byte', () => {
    expect(decodeAll(stream, () => 1)).toEqual(bodies);
  });

  it('returns the same parts for every split offset of the stream', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const got: Buffer[] = [];
      const d = new MpjpegDecoder();
      d.push(stream.subarray(0, cut), (f) => got.push(Buffer.from(f)));
      d.push(stream.subarray(cut), (f) => got.push(Buffer.from(f)));
      if (!same(got, bodies)) expect.fail(`wrong parts when split at ${cut}`);
    }
  });

  it('returns the same parts for any random chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        return same(decodeAll(stream, (i) => sizes[i % sizes.length] as number), bodies);
      }),
    );
  });

  it('copies a part spread over chunks once into a buffer of exactly its size', () => {
    const d = new MpjpegDecoder();
    const got: Buffer[] = [];
    const one = mpjpeg([body(100, 9)]);
    d.push(one.subarray(0, 80), (f) => got.push(f));
    expect(d.bufferedBytes).toBeGreaterThan(0);
    d.push(one.subarray(80), (f) => got.push(f));
    expect(got).toHaveLength(1);
    expect(got[0]!.buffer.byteLength).toBe(100);
  });

  it('accepts header names in any case and extra headers', () => {
    const s = Buffer.concat([
      Buffer.from('--b\r\nX-Timestamp: 1\r\ncontent-LENGTH:3\r\n\r\n'),
      Buffer.from('abc'),
      Buffer.from('\r\n--b\r\n'),
    ]);
    const got: Buffer[] = [];
    new MpjpegDecoder().push(s, (f) => got.push(f));
    expect(got.map((f) => f.toString())).toEqual(['abc']);
  });

  it('refuses headers longer than the limit before buffering more of them', () => {
    const d = new MpjpegDecoder({ maxHeaderBytes: 64 });
    const code = codeOf(() => d.push(Buffer.from('--ffmpeg\r\nX: ' + 'a'.repeat(100)), () => {}));
    expect(code).toBe('MPJPEG_HEADER_TOO_LARGE');
    expect(d.bufferedBytes).toBe(0);
  });

  it('refuses a part claiming more than maxFrameBytes from its header alone', () => {
    const d = new MpjpegDecoder({ maxFrameBytes: 1000 });
    expect(codeOf(() => d.push(Buffer.from('--ffmpeg\r\nContent-length: 4294967295\r\n\r\n'), () => {}))).toBe('FRAME_TOO_LARGE');
  });

  it('refuses a part without Content-length, or with one that is not a number', () => {
    expect(codeOf(() => new MpjpegDecoder().push(Buffer.from('--ffmpeg\r\nContent-type: image/jpeg\r\n\r\n'), () => {}))).toBe(
      'MPJPEG_BAD_LENGTH',
    );
    expect(codeOf(() => new MpjpegDecoder().push(Buffer.from('--x\r\nContent-length: -5\r\n\r\n'), () => {}))).toBe('MPJPEG_BAD_LENGTH');
    expect(codeOf(() => new MpjpegDecoder().push(Buffer.from('--x\r\nContent-length: 0\r\n\r\n'), () => {}))).toBe('MPJPEG_BAD_LENGTH');
  });

  it('refuses input after a fatal error until reset, then decodes again', () => {
    const d = new MpjpegDecoder({ maxFrameBytes: 10 });
    expect(codeOf(() => d.push(Buffer.from('--x\r\nContent-length: 11\r\n\r\n'), () => {}))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => d.push(mpjpeg([body(5, 1)]), () => {}))).toBe('DECODER_FAILED');
    d.reset();
    const got: Buffer[] = [];
    d.push(mpjpeg([body(5, 1)]), (f) => got.push(f));
    expect(got).toHaveLength(1);
  });

  it('never throws anything but its coded errors on random input, and stays bounded (property)', () => {
    // Fragments of real mpjpeg mixed with random bytes reach every state of the parser.
    const token = fc.oneof(
      fc.constantFrom('--ffmpeg\r\n', 'Content-length: 12\r\n', 'Content-length: 99999\r\n', '\r\n', 'X: y\r\n', '\n'),
      fc.string({ maxLength: 40 }),
    );
    const piece = fc.oneof(
      token.map((t) => Buffer.from(t)),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const d = new MpjpegDecoder({ maxHeaderBytes: 256, maxFrameBytes: 1024 });
        for (const p of pieces) {
          try {
            d.push(p, () => {});
          } catch (err) {
            if (!(err instanceof EdgeServerError)) throw err;
            d.reset();
          }
          if (d.bufferedBytes > 1024 + 256) return false;
        }
        return true;
      }),
    );
  });

  it("splits ffmpeg's own mpjpeg output into its JPEGs", () => {
    const out = execFileSync(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25',
      '-frames:v', '5', '-c:v', 'mjpeg', '-f', 'mpjpeg', 'pipe:1',
    ]);
    const got = decodeAll(out, (i) => 1 + ((i * 97) % 500));
    expect(got).toHaveLength(5);
    for (const f of got) {
      expect(f.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(f.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    }
  });
});

describe('MpjpegDecoder on damaged ffmpeg output', () => {
  it('throws only its coded errors, stays bounded, and decodes clean output again after reset (property)', () => {
    const real = execFileSync(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25',
      '-frames:v', '3', '-c:v', 'mjpeg', '-f', 'mpjpeg', 'pipe:1',
    ]);
    const edit = fc.record({ at: fc.nat(), byte: fc.constantFrom(0x0d, 0x0a, 0x2d, 0x3a, 0x30, 0x39, 0x20, 0x41) , cut: fc.boolean() });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 8 }), fc.integer({ min: 1, max: 400 }), (edits, size) => {
        let stream = Buffer.from(real);
        for (const e of edits) {
          if (stream.length === 0) break;
          const at = e.at % stream.length;
          if (e.cut) stream = stream.subarray(0, at);
          else stream[at] = e.byte;
        }
        const d = new MpjpegDecoder({ maxHeaderBytes: 256, maxFrameBytes: 64 * 1024 });
        for (let off = 0; off < stream.length; off += size) {
          try {
            d.push(stream.subarray(off, off + size), () => {});
          } catch (err) {
            if (!(err instanceof EdgeServerError)) throw err;
            d.reset();
          }
          if (d.bufferedBytes > 64 * 1024 + 256) return false;
        }
        // Whatever state the damage left: after reset, a clean stream decodes completely.
        d.reset();
        return decodeAll(real, () => size, d).length === 3;
      }),
      { numRuns: 300 },
    );
  });
});

describe('MpjpegDecoder with a boundary (HTTP cameras that omit Content-length)', () => {
  /** Parts without Content-length, each ending at CRLF and the boundary line. */
  function unsized(bodies: Buffer[], boundary = 'cam'): Buffer {
    const parts: Buffer[] = [];
    for (const b of bodies) parts.push(Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`), b, Buffer.from('\r\n'));
    parts.push(Buffer.from(`--${boundary}\r\n`));
    return Buffer.concat(parts);
  }

  it('ends each part at the next boundary, however the stream is chunked', () => {
    const bodies = [body(300, 1), body(5, 2), body(1000, 3)];
    const stream = unsized(bodies);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }), (sizes) =>
        same(decodeAll(stream, (i) => sizes[i % sizes.length] as number, new MpjpegDecoder({ boundary: 'cam' })), bodies),
      ),
      { numRuns: 300 },
    );
  });

  it('accepts a boundary parameter that already carries the dashes, and parts with and without Content-length mixed', () => {
    const a = body(50, 4);
    const b = body(60, 5);
    const stream = Buffer.concat([
      Buffer.from(`--frame\r\nContent-length: ${a.length}\r\n\r\n`), a, Buffer.from('\r\n'),
      Buffer.from('--frame\r\nContent-Type: image/jpeg\r\n\r\n'), b, Buffer.from('\r\n--frame\r\n'),
    ]);
    expect(same(decodeAll(stream, () => 7, new MpjpegDecoder({ boundary: '--frame' })), [a, b])).toBe(true);
  });

  it('refuses a part that grows past maxFrameBytes without a boundary, holding no more than that', () => {
    const d = new MpjpegDecoder({ boundary: 'cam', maxFrameBytes: 1000 });
    d.push(Buffer.from('--cam\r\nContent-Type: image/jpeg\r\n\r\n'), () => {});
    const push = (): void => d.push(Buffer.alloc(100, 0x41), () => {});
    for (let i = 0; i < 10; i++) push();
    expect(d.bufferedBytes).toBeLessThanOrEqual(1000);
    expect(codeOf(push)).toBe('FRAME_TOO_LARGE');
  });
});
