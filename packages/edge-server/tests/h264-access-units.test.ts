import { describe, expect, it } from 'vitest';
import { AccessUnitSplitter, AccessUnitTooLarge } from '../src/h264/access-units.js';

// Each NAL: start code, header byte (nal_ref_idc | type), a few payload bytes.
const AUD = [0, 0, 0, 1, 0x09, 0xf0]; // access unit delimiter, primary_pic_type 7
const SPS = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e]; // type 7, baseline profile
const PPS = [0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]; // type 8
const IDR = [0, 0, 1, 0x65, 0x88, 0x84, 0x21]; // type 5, first_mb_in_slice 0 (first bit 1)
const P = [0, 0, 1, 0x41, 0x9a, 0x02, 0x03]; // type 1, first_mb_in_slice 0
const P_SECOND_SLICE = [0, 0, 1, 0x41, 0x40, 0x11]; // type 1, first_mb_in_slice > 0 (first bit 0)

const stream = [...AUD, ...SPS, ...PPS, ...IDR, ...AUD, ...P, ...AUD, ...P, ...P_SECOND_SLICE, ...AUD];

function split(chunks: number[][]): { hex: string; keyframe: boolean; hasConfig: boolean }[] {
  const s = new AccessUnitSplitter();
  return chunks
    .flatMap((c) => s.push(Uint8Array.from(c)))
    .map((u) => ({ hex: u.data.toString('hex'), keyframe: u.keyframe, hasConfig: u.hasConfig }));
}

const hex = (bytes: number[]): string => Buffer.from(bytes).toString('hex');
const expected = [
  { hex: hex([...AUD, ...SPS, ...PPS, ...IDR]), keyframe: true, hasConfig: true },
  { hex: hex([...AUD, ...P]), keyframe: false, hasConfig: false },
  { hex: hex([...AUD, ...P, ...P_SECOND_SLICE]), keyframe: false, hasConfig: false },
];

describe('AccessUnitSplitter', () => {
  it('cuts a stream with delimiters into pictures, the last one waiting for the next delimiter', () => {
    expect(split([stream])).toEqual(expected);
  });

  it('gives the same units whatever the chunking, down to one byte at a time', () => {
    expect(split(stream.map((b) => [b]))).toEqual(expected);
    expect(split([stream.slice(0, 5), stream.slice(5, 23), stream.slice(23)])).toEqual(expected);
  });

  it('cuts a stream without delimiters at SPS and at a slice with first_mb_in_slice 0', () => {
    const plain = [...SPS, ...PPS, ...IDR, ...P, ...P_SECOND_SLICE, ...P];
    expect(split([plain])).toEqual([
      { hex: hex([...SPS, ...PPS, ...IDR]), keyframe: true, hasConfig: true },
      { hex: hex([...P, ...P_SECOND_SLICE]), keyframe: false, hasConfig: false },
    ]);
  });

  it('refuses a unit that grows past the limit', () => {
    const s = new AccessUnitSplitter(64);
    expect(() => s.push(Uint8Array.from([...AUD, ...IDR, ...new Array(100).fill(7)]))).toThrow(AccessUnitTooLarge);
  });

  it('hands out units that later input does not overwrite', () => {
    const s = new AccessUnitSplitter();
    const [first] = s.push(Uint8Array.from([...AUD, ...IDR, ...AUD]));
    const before = first!.data.toString('hex');
    s.push(Uint8Array.from([...P, ...AUD, ...P, ...AUD]));
    expect(first!.data.toString('hex')).toBe(before);
  });

  it('ends the pending picture when told the bytes so far end one, and goes on cutting after it', () => {
    const s = new AccessUnitSplitter();
    expect(s.push(Uint8Array.from([...AUD, ...SPS, ...PPS, ...IDR]))).toEqual([]);
    expect(s.inUnit).toBe(true);
    const ended = s.end();
    expect(ended?.data.toString('hex')).toBe(hex([...AUD, ...SPS, ...PPS, ...IDR]));
    expect(ended?.keyframe).toBe(true);
    expect(s.inUnit).toBe(false);
    expect(s.end()).toBeUndefined();
    s.push(Uint8Array.from([...AUD, ...P]));
    expect(s.end()?.data.toString('hex')).toBe(hex([...AUD, ...P]));
    const next = s.push(Uint8Array.from([...AUD, ...P, ...AUD]));
    expect(next.map((u) => u.data.toString('hex'))).toEqual([hex([...AUD, ...P])]);
  });

  it('does not end a unit that holds no slice yet', () => {
    const s = new AccessUnitSplitter();
    s.push(Uint8Array.from([...AUD, ...SPS, ...PPS]));
    expect(s.end()).toBeUndefined();
  });
});
