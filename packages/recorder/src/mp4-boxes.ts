/**
 * The boxes of a fragmented MP4 with one H.264 video track (ISO/IEC 14496-12 and 14496-15):
 *
 *   ftyp  moov [mvhd, trak [tkhd, mdia [mdhd, hdlr, minf [vmhd, dinf, stbl (no samples)]]], mvex [trex]]
 *   moof [mfhd, traf [tfhd, tfdt, trun]]  mdat     (one pair per fragment, repeated)
 *   mfra [tfra, mfro]                              (at the end of a finished file: the seek index)
 *
 * Every fragment stands alone: tfhd says default-base-is-moof, so trun's data offset counts from
 * its own moof, and tfdt gives its decode time. A file cut after any fragment is a whole file.
 */
import { type Field, assemble, box, byteLength, fixed16, fourcc, fullBox, i16, raw, reserved, u16, u32, u64, u8, unityMatrix } from './iso-boxes.js';
import type { SpsInfo } from './h264-sps.js';

/** Ticks per second of the media timeline: the 90 kHz clock of MPEG and RTP video. */
export const TIMESCALE = 90_000;
/** The one track's ID. */
export const TRACK_ID = 1;
/** Seconds from 1904-01-01 (the MP4 epoch) to 1970-01-01. */
const MP4_EPOCH_OFFSET_S = 2_082_844_800;

/** Sample flags (14496-12 8.8.3.1): a sync sample depends on no other; the others do and are not sync. */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

/** tfhd flags: the sample data offsets count from the start of the moof. */
const DEFAULT_BASE_IS_MOOF = 0x020000;
/** trun flags: data-offset-present, then per sample: duration, size, flags. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400;

/** What the sample entry needs from the stream. */
export interface TrackConfig {
  readonly sps: Uint8Array;
  readonly pps: Uint8Array;
  readonly spsInfo: SpsInfo;
}

/** ftyp + moov: the init segment. `created` is the wall-clock time (Unix ms) of the first frame. */
export function initSegment(track: TrackConfig, created: number): Buffer {
  return assemble([...ftyp(), ...moov(track, created)]).bytes;
}

function ftyp(): Field[] {
  return box('ftyp', [
    fourcc('isom'), // major_brand
    u32(0x200), // minor_version
    fourcc('isom'), // compatible_brands: ISO base media
    fourcc('iso6'), // fragments with tfdt and default-base-is-moof
    fourcc('avc1'), // H.264 video
    fourcc('mp41'),
  ]);
}

function moov(track: TrackConfig, created: number): Field[] {
  return box('moov', [...mvhd(created), ...trak(track, created), ...box('mvex', trex())]);
}

/** Version 0 times are u32 seconds since 1904 (until 2040); version 1 takes u64 after that. */
function mp4Time(unixMs: number): number {
  return Math.max(0, Math.floor(unixMs / 1000) + MP4_EPOCH_OFFSET_S);
}

function timesVersion(created: number): number {
  return mp4Time(created) > 0xffffffff ? 1 : 0;
}

/** creation_time, modification_time, timescale, duration (0: the samples are in the fragments). */
function times(created: number, timescale: number): Field[] {
  const t = mp4Time(created);
  return timesVersion(created) === 1 ? [u64(t), u64(t), u32(timescale), u64(0)] : [u32(t), u32(t), u32(timescale), u32(0)];
}

function mvhd(created: number): Field[] {
  return fullBox('mvhd', timesVersion(created), 0, [
    ...times(created, 1000), // creation/modification time, timescale 1000, duration 0
    u32(0x00010000), // rate 1.0
    u16(0x0100), // volume 1.0
    reserved(10),
    ...unityMatrix(),
    reserved(24), // pre_defined
    u32(TRACK_ID + 1), // next_track_ID
  ]);
}

function trak(track: TrackConfig, created: number): Field[] {
  return box('trak', [...tkhd(track, created), ...mdia(track, created)]);
}

function tkhd(track: TrackConfig, created: number): Field[] {
  const v = timesVersion(created);
  const t = mp4Time(created);
  return fullBox('tkhd', v, 0x000003, [ // flags: track_enabled | track_in_movie
    ...(v === 1 ? [u64(t), u64(t)] : [u32(t), u32(t)]), // creation_time, modification_time
    u32(TRACK_ID), // track_ID
    reserved(4),
    v === 1 ? u64(0) : u32(0), // duration: in the fragments
    reserved(8),
    i16(0), // layer
    i16(0), // alternate_group
    u16(0), // volume: video
    reserved(2),
    ...unityMatrix(),
    fixed16(track.spsInfo.width), // width
    fixed16(track.spsInfo.height), // height
  ]);
}

function mdia(track: TrackConfig, created: number): Field[] {
  return box('mdia', [
    ...fullBox('mdhd', timesVersion(created), 0, [
      ...times(created, TIMESCALE), // creation/modification time, timescale, duration 0
      u16(0x55c4), // language: 'und' packed as three 5-bit letters
      u16(0), // pre_defined
    ]),
    ...fullBox('hdlr', 0, 0, [
      u32(0), // pre_defined
      fourcc('vide'), // handler_type
      reserved(12),
      raw(Buffer.from('VideoHandler\0', 'latin1')), // name
    ]),
    ...box('minf', [
      ...fullBox('vmhd', 0, 1, [u16(0), u16(0), u16(0), u16(0)]), // graphicsmode copy, opcolor
      ...box('dinf', fullBox('dref', 0, 0, [u32(1), ...fullBox('url ', 0, 1, [])])), // one entry: in this file
      ...box('stbl', [
        ...fullBox('stsd', 0, 0, [u32(1), ...avc1(track)]),
        ...fullBox('stts', 0, 0, [u32(0)]), // no samples in moov
        ...fullBox('stsc', 0, 0, [u32(0)]),
        ...fullBox('stsz', 0, 0, [u32(0), u32(0)]),
        ...fullBox('stco', 0, 0, [u32(0)]),
      ]),
    ]),
  ]);
}

/** The AVC sample entry (14496-15 5.4.2): a VisualSampleEntry with the avcC configuration. */
function avc1(track: TrackConfig): Field[] {
  const compressor = Buffer.alloc(32); // compressorname: a Pascal string, empty
  return box('avc1', [
    reserved(6),
    u16(1), // data_reference_index
    reserved(16), // pre_defined, reserved
    u16(track.spsInfo.width), // width
    u16(track.spsInfo.height), // height
    u32(0x00480000), // horizresolution 72 dpi
    u32(0x00480000), // vertresolution 72 dpi
    reserved(4),
    u16(1), // frame_count
    raw(compressor),
    u16(0x0018), // depth
    i16(-1), // pre_defined
    ...avcC(track),
  ]);
}

/** AVCDecoderConfigurationRecord (14496-15 5.3.3.1), NAL unit lengths in 4 bytes. */
function avcC(track: TrackConfig): Field[] {
  const s = track.spsInfo;
  const high = s.profileIdc !== 66 && s.profileIdc !== 77 && s.profileIdc !== 88;
  return box('avcC', [
    u8(1), // configurationVersion
    u8(s.profileIdc), // AVCProfileIndication
    u8(s.constraints), // profile_compatibility
    u8(s.levelIdc), // AVCLevelIndication
    u8(0xfc | 3), // reserved '111111', lengthSizeMinusOne 3
    u8(0xe0 | 1), // reserved '111', numOfSequenceParameterSets
    u16(track.sps.length),
    raw(track.sps),
    u8(1), // numOfPictureParameterSets
    u16(track.pps.length),
    raw(track.pps),
    // The high profiles' extension: chroma format and bit depths, no SPS extensions.
    ...(high ? [u8(0xfc | s.chromaFormatIdc), u8(0xf8 | (s.bitDepthLuma - 8)), u8(0xf8 | (s.bitDepthChroma - 8)), u8(0)] : []),
  ]);
}

function trex(): Field[] {
  return fullBox('trex', 0, 0, [
    u32(TRACK_ID), // track_ID
    u32(1), // default_sample_description_index
    u32(0), // default_sample_duration
    u32(0), // default_sample_size
    u32(0), // default_sample_flags
  ]);
}

/** One sample of a fragment as trun lists it. */
export interface FragmentSample {
  /** Ticks until the next sample. */
  readonly duration: number;
  readonly size: number;
  readonly keyframe: boolean;
}

/** Bytes of moof plus the mdat header for `samples` samples: where the first sample's data starts. */
export function fragmentHeaderBytes(samples: number): number {
  // moof 8 + mfhd 16 + traf 8 + tfhd 16 + tfdt 20 + trun 20 + 12 per sample, then mdat's 8.
  return 96 + 12 * samples;
}

/**
 * moof and the mdat header of one fragment: its samples' data follows, in order, `dataBytes`
 * long. `decodeTime` is the first sample's, in TIMESCALE ticks.
 */
export function fragmentHeader(sequence: number, decodeTime: number, samples: readonly FragmentSample[]): Buffer {
  const dataBytes = samples.reduce((n, s) => n + s.size, 0);
  const perSample: Field[] = [];
  for (const s of samples) {
    perSample.push(u32(s.duration), u32(s.size), u32(s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS));
  }
  const moofBytes = fragmentHeaderBytes(samples.length) - 8;
  const fields = [
    ...box('moof', [
      ...fullBox('mfhd', 0, 0, [u32(sequence)]), // sequence_number
      ...box('traf', [
        ...fullBox('tfhd', 0, DEFAULT_BASE_IS_MOOF, [u32(TRACK_ID)]),
        ...fullBox('tfdt', 1, 0, [u64(decodeTime)]), // baseMediaDecodeTime
        ...fullBox('trun', 0, TRUN_FLAGS, [
          u32(samples.length), // sample_count
          u32(moofBytes + 8), // data_offset: from the moof's first byte to the first sample's
          ...perSample, // sample_duration, sample_size, sample_flags
        ]),
      ]),
    ]),
    u32(8 + dataBytes), // mdat size
    fourcc('mdat'),
  ];
  if (byteLength(fields) !== moofBytes + 8) throw new Error('fragment header size mismatch');
  return assemble(fields).bytes;
}

/** One random access point of the seek index: a fragment that starts with a keyframe. */
export interface RandomAccessPoint {
  /** Decode time of its first sample, in ticks. */
  readonly time: number;
  /** Absolute offset of its moof. */
  readonly moofOffset: number;
}

/** mfra: the fragments a player can start decoding at, found from the end of the file (mfro). */
export function mfra(points: readonly RandomAccessPoint[]): Buffer {
  const entries: Field[] = [];
  for (const p of points) entries.push(u64(p.time), u64(p.moofOffset), u8(1), u8(1), u8(1)); // time, moof_offset, traf, trun, sample numbers
  const tfra = fullBox('tfra', 1, 0, [
    u32(TRACK_ID), // track_ID
    u32(0), // reserved, then length_size_of_traf_num, trun_num, sample_num: 1 byte each
    u32(points.length), // number_of_entry
    ...entries,
  ]);
  const size = 8 + byteLength(tfra) + 16;
  return assemble(box('mfra', [...tfra, ...fullBox('mfro', 0, 0, [u32(size)])])).bytes;
}
