/**
 * The bytes of a tiny fragmented MP4 (three H.264 pictures of 16x16 in two fragments), one field
 * per line, written out by hand from ISO/IEC 14496-12 and 14496-15 (not computed by the code
 * under test). The recorder must produce exactly them, and the reader must read them back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSps } from '../src/h264-sps.js';
import { readMp4Structure } from '../src/mp4-reader.js';
import { createRecorder, inspectMp4 } from '../src/index.js';
import { tempDir } from './helpers/frames.js';

const cc = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const be16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be64 = (n: number): number[] => [...be32(Math.floor(n / 2 ** 32)), ...be32(n >>> 0)];
const zero = (n: number): number[] => new Array<number>(n).fill(0);
const MATRIX = [...be32(0x10000), ...zero(12), ...be32(0x10000), ...zero(12), ...be32(0x40000000)];

/** Baseline profile, level 1.0, one 16x16 macroblock, POC type 2, no VUI: bits 1 1 011 010 0 1 1 1 1 0 0 1. */
const SPS = [0x67, 0x42, 0xc0, 0x0a, 0xda, 0x79];
const PPS = [0x68, 0xce, 0x3c, 0x80];
const AUD = [0, 0, 0, 1, 0x09, 0xf0];
const start = (nal: number[]): number[] => [0, 0, 0, 1, ...nal];
/** Pictures as an encoder writes them (delimiter, parameter sets, slice); the slice bytes are not decoded here. */
const IDR_1 = [...AUD, ...start(SPS), ...start(PPS), ...start([0x65, 0x88, 0x80, 0x40])];
const P_2 = [...AUD, ...start([0x41, 0x9a, 0x02])];
const IDR_3 = [...AUD, ...start(SPS), ...start(PPS), ...start([0x65, 0x88, 0x81])];
/** Capture times: 0, 40 ms, 100 ms after 2023-11-14T22:13:20Z (Unix 1700000000 s). */
const T0 = 1_700_000_000_000_000;
const TIMES = [T0, T0 + 40_000, T0 + 100_000];
/** 1700000000 + 2082844800: seconds since 1904. */
const CREATED = 0xe179a180;

const FIXTURE: number[] = [
  ...be32(32), ...cc('ftyp'), // 0: ftyp
  ...cc('isom'), // major_brand
  ...be32(0x200), // minor_version
  ...cc('isom'), ...cc('iso6'), ...cc('avc1'), ...cc('mp41'), // compatible_brands
  ...be32(612), ...cc('moov'), // 32: moov
  ...be32(108), ...cc('mvhd'), 0, 0, 0, 0, // 40: mvhd, version 0
  ...be32(CREATED), ...be32(CREATED), // creation_time, modification_time
  ...be32(1000), ...be32(0), // timescale, duration (the samples are in fragments)
  ...be32(0x10000), ...be16(0x100), ...zero(10), // rate 1.0, volume 1.0, reserved
  ...MATRIX,
  ...zero(24), // pre_defined
  ...be32(2), // next_track_ID
  ...be32(456), ...cc('trak'), // 148: trak
  ...be32(92), ...cc('tkhd'), 0, 0, 0, 3, // 156: tkhd, flags enabled | in movie
  ...be32(CREATED), ...be32(CREATED),
  ...be32(1), ...zero(4), ...be32(0), // track_ID, reserved, duration
  ...zero(8), ...be16(0), ...be16(0), ...be16(0), ...zero(2), // reserved, layer, alternate_group, volume, reserved
  ...MATRIX,
  ...be32(16 << 16), ...be32(16 << 16), // width, height: 16.16
  ...be32(356), ...cc('mdia'), // 248: mdia
  ...be32(32), ...cc('mdhd'), 0, 0, 0, 0, // 256: mdhd
  ...be32(CREATED), ...be32(CREATED),
  ...be32(90000), ...be32(0), // timescale: 90 kHz, duration
  ...be16(0x55c4), ...be16(0), // language 'und', pre_defined
  ...be32(45), ...cc('hdlr'), 0, 0, 0, 0, // 288: hdlr
  ...be32(0), ...cc('vide'), ...zero(12), // pre_defined, handler_type, reserved
  ...cc('VideoHandler'), 0, // name
  ...be32(271), ...cc('minf'), // 333: minf
  ...be32(20), ...cc('vmhd'), 0, 0, 0, 1, ...zero(8), // 341: vmhd, graphicsmode and opcolor 0
  ...be32(36), ...cc('dinf'), // 361: dinf
  ...be32(28), ...cc('dref'), 0, 0, 0, 0, ...be32(1), // dref, one entry
  ...be32(12), ...cc('url '), 0, 0, 0, 1, // the data is in this file
  ...be32(207), ...cc('stbl'), // 397: stbl
  ...be32(131), ...cc('stsd'), 0, 0, 0, 0, ...be32(1), // 405: stsd, one sample entry
  ...be32(115), ...cc('avc1'), // 421: AVCSampleEntry
  ...zero(6), ...be16(1), ...zero(16), // reserved, data_reference_index, pre_defined
  ...be16(16), ...be16(16), // width, height
  ...be32(0x480000), ...be32(0x480000), ...zero(4), // 72 dpi, 72 dpi, reserved
  ...be16(1), ...zero(32), // frame_count, compressorname
  ...be16(0x18), ...be16(0xffff), // depth, pre_defined -1
  ...be32(29), ...cc('avcC'), // 507: AVCDecoderConfigurationRecord
  1, 0x42, 0xc0, 0x0a, // version, profile, compatibility, level: from the SPS
  0xff, // 6 bits reserved, lengthSizeMinusOne 3
  0xe1, ...be16(6), ...SPS, // 3 bits reserved, one SPS
  1, ...be16(4), ...PPS, // one PPS
  ...be32(16), ...cc('stts'), 0, 0, 0, 0, ...be32(0), // 536: no samples in moov
  ...be32(16), ...cc('stsc'), 0, 0, 0, 0, ...be32(0),
  ...be32(20), ...cc('stsz'), 0, 0, 0, 0, ...be32(0), ...be32(0),
  ...be32(16), ...cc('stco'), 0, 0, 0, 0, ...be32(0),
  ...be32(40), ...cc('mvex'), // 604: mvex
  ...be32(32), ...cc('trex'), 0, 0, 0, 0, // trex
  ...be32(1), ...be32(1), ...be32(0), ...be32(0), ...be32(0), // track, description 1, no defaults
  // 644: fragment 1, pictures 1 and 2
  ...be32(112), ...cc('moof'),
  ...be32(16), ...cc('mfhd'), 0, 0, 0, 0, ...be32(1), // sequence_number 1
  ...be32(88), ...cc('traf'),
  ...be32(16), ...cc('tfhd'), 0, 0x02, 0, 0, ...be32(1), // default-base-is-moof, track 1
  ...be32(20), ...cc('tfdt'), 1, 0, 0, 0, ...be64(0), // version 1, baseMediaDecodeTime 0
  ...be32(44), ...cc('trun'), 0, 0, 0x07, 0x01, // data offset, then duration, size, flags per sample
  ...be32(2), ...be32(120), // sample_count, data_offset: moof 112 + mdat header 8
  ...be32(3600), ...be32(8), ...be32(0x02000000), // 40 ms, 8 bytes, sync
  ...be32(5400), ...be32(7), ...be32(0x01010000), // 60 ms, 7 bytes, depends on others, not sync
  ...be32(23), ...cc('mdat'), // 756
  ...be32(4), 0x65, 0x88, 0x80, 0x40, // picture 1: the IDR slice (AUD, SPS and PPS are not samples)
  ...be32(3), 0x41, 0x9a, 0x02, // picture 2
  // 779: fragment 2, picture 3 (a keyframe starts a fragment)
  ...be32(100), ...cc('moof'),
  ...be32(16), ...cc('mfhd'), 0, 0, 0, 0, ...be32(2),
  ...be32(76), ...cc('traf'),
  ...be32(16), ...cc('tfhd'), 0, 0x02, 0, 0, ...be32(1),
  ...be32(20), ...cc('tfdt'), 1, 0, 0, 0, ...be64(9000), // 100 ms
  ...be32(32), ...cc('trun'), 0, 0, 0x07, 0x01,
  ...be32(1), ...be32(108),
  ...be32(5400), ...be32(7), ...be32(0x02000000), // the last picture lasts as long as the one before
  ...be32(15), ...cc('mdat'),
  ...be32(3), 0x65, 0x88, 0x81,
  // 894: the seek index
  ...be32(86), ...cc('mfra'),
  ...be32(62), ...cc('tfra'), 1, 0, 0, 0, // version 1: 64-bit time and offset
  ...be32(1), ...be32(0), ...be32(2), // track 1, 1-byte traf/trun/sample numbers, 2 entries
  ...be64(0), ...be64(644), 1, 1, 1, // fragment 1
  ...be64(9000), ...be64(779), 1, 1, 1, // fragment 2
  ...be32(16), ...cc('mfro'), 0, 0, 0, 0, ...be32(86), // mfra's size, read from the end of the file
];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('mp4-fixture')));
afterAll(() => cleanup());

describe('a 3-picture fragmented MP4, byte by byte', () => {
  it('parses the hand-made SPS as 16x16 baseline level 1.0', () => {
    expect(parseSps(Buffer.from(SPS))).toEqual({
      profileIdc: 66, constraints: 0xc0, levelIdc: 10, chromaFormatIdc: 1, bitDepthLuma: 8, bitDepthChroma: 8, width: 16, height: 16,
    });
  });

  it('is what the recorder writes for three access units and their capture times', async () => {
    const path = join(dir, 'three.mp4');
    const rec = createRecorder(path, { checkpointIntervalMs: 0, fsync: false });
    for (const [i, unit] of [IDR_1, P_2, IDR_3].entries()) await rec.write({ h264: Buffer.from(unit), captureTimeUs: TIMES[i] });
    const summary = await rec.close();
    expect(FIXTURE).toHaveLength(980);
    expect((await readFile(path)).toString('hex')).toBe(Buffer.from(FIXTURE).toString('hex'));
    expect(summary.files[0]).toMatchObject({ format: 'mp4', frames: 3, bytes: 980, width: 16, height: 16, fragments: 2, durationSeconds: 0.16 });
  });

  it('reads back as two fragments with their samples, times and keyframes', async () => {
    const path = join(dir, 'fixture.mp4');
    await writeFile(path, Buffer.from(FIXTURE));
    const s = await readMp4Structure(path);
    expect(s.track).toMatchObject({ id: 1, timescale: 90000, width: 16, height: 16, sampleEntry: 'avc1', codec: 'avc1.42c00a', moovSamples: 0 });
    expect(Buffer.from(s.track.sps).equals(Buffer.from(SPS))).toBe(true);
    expect(s.fragments.map((f) => [f.offset, f.bytes, f.sequence, f.decodeTime, f.duration, f.frames, f.keyframe])).toEqual([
      [644, 135, 1, 0, 9000, 2, true],
      [779, 115, 2, 9000, 5400, 1, true],
    ]);
    const first = s.fragments[0]!.samples;
    expect([...first.offsets]).toEqual([764, 772]);
    expect([...first.sizes]).toEqual([8, 7]);
    expect([...first.times]).toEqual([0, 3600]);
    expect([...first.sync]).toEqual([1, 0]);
    expect(s.index).toEqual([{ time: 0, moofOffset: 644 }, { time: 9000, moofOffset: 779 }]);
    expect(await inspectMp4(path)).toMatchObject({
      frames: 3, width: 16, height: 16, durationSeconds: 14400 / 90000, indexed: true, problems: [],
      fragments: [
        { offset: 644, bytes: 135, startSeconds: 0, durationSeconds: 0.1, frames: 2, keyframe: true },
        { offset: 779, bytes: 115, startSeconds: 0.1, durationSeconds: 0.06, frames: 1, keyframe: true },
      ],
    });
  });
});
