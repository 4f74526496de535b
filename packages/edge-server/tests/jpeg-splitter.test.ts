import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isWholeJpeg } from '@edgecam/protocol';
import { JpegSplitter } from '../src/sources/jpeg-splitter.js';
import { testPatternJpegs } from './support/jpegs.js';

let jpegs: Buffer[];

beforeAll(async () => {
  jpegs = await testPatternJpegs(96, 64, 4);
});

function split(stream: Buffer, sizes: number[], s = new JpegSplitter()): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  let i = 0;
  while (off < stream.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] as number);
    s.push(stream.subarray(off, off + n), (f) => out.push(Buffer.from(f)));
    off += n;
  }
  return out;
}

function same(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((g, i) => g.equals(want[i] as Buffer));
}

/** A JPEG whose APP1 (EXIF) segment carries a whole thumbnail JPEG, SOI to EOI. */
function withThumbnail(outer: Buffer, thumb: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumb]);
  const app1 = Buffer.alloc(4);
  app1[0] = 0xff;
  app1[1] = 0xe1;
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([outer.subarray(0, 2), app1, payload, outer.subarray(2)]);
}

describe('JpegSplitter', () => {
  it("returns each of ffmpeg's JPEGs from a concatenated stream, as views when one chunk holds them", () => {
    const stream = Buffer.concat(jpegs);
    const got: Buffer[] = [];
    new JpegSplitter().push(stream, (f) => got.push(f));
    expect(same(got, jpegs)).toBe(true);
    for (const f of got) expect(f.buffer).toBe(stream.buffer);
  });

  it('returns the same JPEGs for any chunking, byte by byte included (property)', () => {
    const stream = Buffer.concat(jpegs);
    expect(same(split(stream, [1]), jpegs)).toBe(true);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }), (sizes) =>
        same(split(stream, sizes), jpegs),
      ),
      { numRuns: 200 },
    );
  });

  it('does not end a frame at the EOI of an EXIF thumbnail inside it', () => {
    const big = withThumbnail(jpegs[0]!, jpegs[1]!);
    const stream = Buffer.concat([big, jpegs[2]!]);
    for (const sizes of [[stream.length], [1], [7, 300, 5]]) {
      const got = split(stream, sizes);
      expect(same(got, [big, jpegs[2]!])).toBe(true);
    }
  });

  it('keeps stuffed FF00 bytes and RST markers inside scan data', () => {
    // SOI, SOS header (length 8), scan data holding FF00, RST3, fill+RST4, then EOI.
    const jpeg = Buffer.from([
      0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 0x3f, 0,
      0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56, 0xff, 0xff, 0xd4, 0x78, 0xff, 0xd9,
    ]);
    expect(same(split(Buffer.concat([jpeg, jpeg]), [3]), [jpeg, jpeg])).toBe(true);
  });

  it('skips bytes between frames (padding, garbage) and stays in sync', () => {
    const stream = Buffer.concat([Buffer.from('garbage\0\0\xff\xff', 'latin1'), jpegs[0]!, Buffer.alloc(13), jpegs[1]!]);
    const s = new JpegSplitter();
    expect(same(split(stream, [11], s), [jpegs[0]!, jpegs[1]!])).toBe(true);
    expect(s.dropped).toBe(0);
  });

  it('drops a frame cut short by the next SOI, counts it, and returns the next one whole', () => {
    const cut = jpegs[0]!.subarray(0, 700);
    const s = new JpegSplitter();
    const got = split(Buffer.concat([cut, jpegs[1]!]), [64], s);
    expect(same(got, [jpegs[1]!])).toBe(true);
    expect(s.dropped).toBe(1);
  });

  it('drops a frame growing past maxFrameBytes without holding more than that', () => {
    const s = new JpegSplitter({ maxFrameBytes: 1000 });
    const big = jpegs[0]!;
    expect(big.length).toBeGreaterThan(1000);
    let peak = 0;
    const out: Buffer[] = [];
    for (let off = 0; off < big.length; off += 100) {
      s.push(big.subarray(off, off + 100), (f) => out.push(f));
      peak = Math.max(peak, s.bufferedBytes);
    }
    expect(out).toHaveLength(0);
    expect(s.dropped).toBe(1);
    expect(peak).toBeLessThanOrEqual(1100);
    const small = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    s.push(small, (f) => out.push(f));
    expect(out).toEqual([small]);
  });

  it('emits only whole JPEGs from random input mixed with real frames (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(...jpegs),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.constantFrom(Buffer.from([0xff, 0xd8]), Buffer.from([0xff]), Buffer.from([0xff, 0xda, 0, 2])),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.integer({ min: 1, max: 500 }), (pieces, size) => {
        const s = new JpegSplitter({ maxFrameBytes: 64 * 1024 });
        const got = split(Buffer.concat(pieces), [size], s);
        return got.every((f) => f[0] === 0xff && f[1] === 0xd8 && f.at(-2) === 0xff && f.at(-1) === 0xd9) && s.bufferedBytes <= 64 * 1024;
      }),
    );
    expect(jpegs.every((j) => isWholeJpeg(j))).toBe(true);
  });
});

/** Random damage to real bytes: overwritten, inserted and deleted bytes, and a cut end. */
const damage = fc.array(
  fc.record({ kind: fc.constantFrom('set', 'insert', 'delete', 'cut'), at: fc.nat(), byte: fc.constantFrom(0x00, 0xff, 0xd8, 0xd9, 0xda, 0xd0, 0xe1, 0x01) }),
  { maxLength: 12 },
);

function applyDamage(input: Buffer, edits: { kind: string; at: number; byte: number }[]): Buffer {
  let b = Buffer.from(input);
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    if (e.kind === 'set') b[at] = e.byte;
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else b = b.subarray(0, at);
  }
  return b;
}

describe('JpegSplitter on damaged input', () => {
  it('never throws, holds at most maxFrameBytes after every push, and returns only whole JPEGs within the limit (property)', () => {
    fc.assert(
      fc.property(damage, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 200, max: 20_000 }), (edits, sizes, max) => {
        const stream = applyDamage(Buffer.concat(jpegs), edits);
        const s = new JpegSplitter({ maxFrameBytes: max });
        const out: Buffer[] = [];
        let off = 0;
        for (let i = 0; off < stream.length; i++) {
          const n = sizes[i % sizes.length] as number;
          s.push(stream.subarray(off, off + n), (f) => out.push(Buffer.from(f)));
          off += n;
          if (s.bufferedBytes > max) return false;
        }
        return out.every((f) => f.length <= max && f[0] === 0xff && f[1] === 0xd8 && f.at(-2) === 0xff && f.at(-1) === 0xd9);
      }),
      { numRuns: 300 },
    );
  });

  it('returns a JPEG fed a few bytes at a time whole, joining the pieces as it goes', () => {
    const big = Buffer.concat([jpegs[0]!, jpegs[1]!]);
    for (const step of [1, 3, 17]) expect(same(split(big, [step]), [jpegs[0]!, jpegs[1]!])).toBe(true);
    expect(jpegs[0]!.length / 3).toBeGreaterThan(64); // far more pieces than are kept as views
  });
});
