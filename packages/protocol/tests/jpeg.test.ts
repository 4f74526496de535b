import { describe, expect, it } from 'vitest';
import { isWholeJpeg, readJpegInfo } from '../src/index.js';
import { TINY_JPEG, TINY_JPEG_HEIGHT, TINY_JPEG_WIDTH } from './fixtures/tiny-jpeg.js';
import { expectProtocolError } from './helpers.js';

/** A hand-made SOFn segment: marker, length 17, precision 8, height, width, 3 components. */
function sof(marker: number, width: number, height: number): number[] {
  return [
    0xff, marker, // SOFn
    0x00, 0x11, // length: 17
    0x08, // precision: 8 bits
    height >> 8, height & 0xff, // height
    width >> 8, width & 0xff, // width
    0x03, // components: 3
    0x01, 0x22, 0x00, // Y: sampling 2x2, table 0
    0x02, 0x11, 0x01, // Cb
    0x03, 0x11, 0x01, // Cr
  ];
}

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];
const SOS = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]; // 1 component, then data

/** An APP1 EXIF segment as phones and many cameras write before the frame header. */
function app1Exif(): number[] {
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00]; // big-endian TIFF, 0 IFD entries
  const body = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const length = body.length + 2;
  return [0xff, 0xe1, length >> 8, length & 0xff, ...body];
}

describe('readJpegInfo', () => {
  it('reads the size of a real JPEG made by ffmpeg (after APP0, COM, DQT and DHT)', () => {
    expect(readJpegInfo(TINY_JPEG)).toEqual({ width: TINY_JPEG_WIDTH, height: TINY_JPEG_HEIGHT });
  });

  it('reads the size of a JPEG with an EXIF APP1 segment before SOF', () => {
    const withExif = Buffer.concat([TINY_JPEG.subarray(0, 2), Buffer.from(app1Exif()), TINY_JPEG.subarray(2)]);
    expect(readJpegInfo(withExif)).toEqual({ width: 16, height: 8 });
    expect(isWholeJpeg(withExif)).toBe(true);
  });

  it.each([
    ['SOF0 baseline (0xc0)', 0xc0],
    ['SOF1 extended (0xc1)', 0xc1],
    ['SOF2 progressive (0xc2)', 0xc2],
    ['SOF3 lossless (0xc3)', 0xc3],
    ['SOF9 arithmetic (0xc9)', 0xc9],
    ['SOF15 (0xcf)', 0xcf],
  ])('reads the size from %s', (_name, marker) => {
    const jpeg = Buffer.from([...SOI, ...sof(marker, 1920, 1080), ...SOS, ...EOI]);
    expect(readJpegInfo(jpeg)).toEqual({ width: 1920, height: 1080 });
  });

  it.each([
    ['DHT (0xc4)', 0xc4],
    ['JPG (0xc8)', 0xc8],
    ['DAC (0xcc)', 0xcc],
  ])('does not take %s for a frame header', (_name, marker) => {
    const notSof = sof(marker, 1, 1);
    const jpeg = Buffer.from([...SOI, ...notSof, ...sof(0xc0, 640, 480), ...EOI]);
    expect(readJpegInfo(jpeg)).toEqual({ width: 640, height: 480 });
  });

  it('skips 0xFF fill bytes before a marker and standalone RST markers', () => {
    const jpeg = Buffer.from([...SOI, 0xff, 0xd0, 0xff, 0xff, ...sof(0xc0, 320, 240), ...EOI]);
    expect(readJpegInfo(jpeg)).toEqual({ width: 320, height: 240 });
  });

  it('answers for a JPEG cut after its headers, since only they are needed', () => {
    expect(readJpegInfo(TINY_JPEG.subarray(0, 240))).toEqual({ width: 16, height: 8 });
  });

  it.each([
    ['an empty buffer', []],
    ['no SOI', [0x00, 0x00, ...sof(0xc0, 1, 1)]],
    ['only SOI', SOI],
    ['the scan before any SOF', [...SOI, ...SOS, ...EOI]],
    ['EOI before any SOF', [...SOI, ...EOI]],
    ['a segment running past the end', [...SOI, 0xff, 0xe0, 0x01, 0x00, 0x00]],
    ['a segment length below 2', [...SOI, 0xff, 0xe0, 0x00, 0x01]],
    ['a byte that is not a marker', [...SOI, 0x12, 0x34]],
    ['a SOF too short to hold the size', [...SOI, 0xff, 0xc0, 0x00, 0x05, 0x08, 0x00, 0x01]],
    ['a zero width', [...SOI, ...sof(0xc0, 0, 8), ...EOI]],
    ['a height left to DNL (zero)', [...SOI, ...sof(0xc0, 8, 0), ...EOI]],
    ['a cut inside a marker', [...SOI, 0xff]],
    ['a cut inside a segment length', [...SOI, 0xff, 0xe0, 0x00]],
  ])('throws INVALID_JPEG for %s', (_name, bytes) => {
    const err = expectProtocolError(() => readJpegInfo(Buffer.from(bytes)), 'INVALID_JPEG');
    expect(err.fatal).toBe(false);
  });

  it('reads from a plain Uint8Array', () => {
    expect(readJpegInfo(new Uint8Array(TINY_JPEG))).toEqual({ width: 16, height: 8 });
  });
});

describe('isWholeJpeg', () => {
  it('is true for a real JPEG', () => {
    expect(isWholeJpeg(TINY_JPEG)).toBe(true);
  });

  it('allows trailing 0x00 padding after EOI', () => {
    expect(isWholeJpeg(Buffer.concat([TINY_JPEG, Buffer.alloc(3)]))).toBe(true);
  });

  it('is false for a JPEG cut before EOI', () => {
    expect(isWholeJpeg(TINY_JPEG.subarray(0, TINY_JPEG.length - 1))).toBe(false);
  });

  it('is false without SOI', () => {
    expect(isWholeJpeg(TINY_JPEG.subarray(2))).toBe(false);
  });

  it('is false for too few bytes to hold SOI and EOI, and for padding alone', () => {
    expect(isWholeJpeg(Buffer.from([0xff, 0xd9]))).toBe(false);
    expect(isWholeJpeg(Buffer.from([0xff, 0xd8, 0xd9]))).toBe(false);
    expect(isWholeJpeg(Buffer.alloc(8))).toBe(false);
  });

  it('is true for the smallest whole JPEG, SOI then EOI', () => {
    expect(isWholeJpeg(Buffer.from([...SOI, ...EOI]))).toBe(true);
  });
});
