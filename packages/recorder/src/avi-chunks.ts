/**
 * The AVI structures the writer emits, one factory each, fields in file order with the names the
 * specifications use (Microsoft's aviriff.h and OpenDML 1.02). All values little-endian.
 */
import type { FrameRate } from './frame-rate.js';
import { type Field, assemble, chunk, fourcc, i32, list, u16, u32, u64, u8, zeros } from './riff.js';

export const AVIF_HASINDEX = 0x10; // the file has an idx1
export const AVIF_ISINTERLEAVED = 0x100;
export const AVIF_TRUSTCKTYPE = 0x800; // keyframe flags in the index can be trusted
export const AVIIF_KEYFRAME = 0x10;
/** Bit 31 of an ix## entry's size marks a non-keyframe; MJPEG frames are all keyframes. */
export const IX_NOT_KEYFRAME = 0x80000000;

export const VIDEO_CHUNK_ID = '00dc';
/** Entries reserved in the indx super index: one per RIFF, so at most this many RIFFs. */
export const SUPER_INDEX_ENTRIES = 256;
/** Data bytes of the indx chunk (and of the JUNK that reserves it). */
export const SUPER_INDEX_DATA_BYTES = 24 + 16 * SUPER_INDEX_ENTRIES;
/** Bytes of an ix## chunk holding n entries, header included. */
export const standardIndexBytes = (n: number): number => 8 + 24 + 8 * n;
/** Bytes of an idx1 chunk holding n entries, header included. */
export const legacyIndexBytes = (n: number): number => 8 + 16 * n;
/** 'RIFF' size 'AVIX' 'LIST' size 'movi' */
export const AVIX_HEADER_BYTES = 24;

export interface SuperIndexEntry {
  /** Absolute file offset of an ix00 chunk. */
  readonly offset: number;
  /** Its size, chunk header included. */
  readonly size: number;
  /** Frames it indexes. */
  readonly frames: number;
}

/** What the first RIFF's header says; rewritten whole at every checkpoint and at close. */
export interface AviHeaderValues {
  readonly width: number;
  readonly height: number;
  readonly rate: FrameRate;
  /** Frames in the first RIFF (avih.dwTotalFrames; OpenDML puts the grand total in dmlh). */
  readonly firstRiffFrames: number;
  /** Frames in the whole file (strh.dwLength and dmlh.dwTotalFrames). */
  readonly totalFrames: number;
  /** Largest frame so far: the buffer a player needs. */
  readonly largestFrame: number;
  /** Whether idx1 is on disk (sets AVIF_HASINDEX). */
  readonly hasIdx1: boolean;
  /** First RIFF size field (bytes after it) and its movi LIST size field. */
  readonly riffSize: number;
  readonly moviSize: number;
  /** Closed RIFFs' ix00 chunks; empty keeps the super index as JUNK (a plain AVI 1.0 file). */
  readonly superIndex: readonly SuperIndexEntry[];
}

/** avih: AVIMAINHEADER. */
export function mainHeader(v: AviHeaderValues): Field[] {
  const microSecPerFrame = Math.round((1e6 * v.rate.den) / v.rate.num);
  const maxBytesPerSec = Math.min(0xffffffff, Math.ceil((v.largestFrame * v.rate.num) / v.rate.den));
  return chunk('avih', [
    u32(microSecPerFrame), // dwMicroSecPerFrame
    u32(maxBytesPerSec), // dwMaxBytesPerSec: largest frame at the file's rate
    u32(0), // dwPaddingGranularity
    u32((v.hasIdx1 ? AVIF_HASINDEX : 0) | AVIF_ISINTERLEAVED | AVIF_TRUSTCKTYPE), // dwFlags
    u32(v.firstRiffFrames), // dwTotalFrames: first RIFF only
    u32(0), // dwInitialFrames
    u32(1), // dwStreams
    u32(v.largestFrame), // dwSuggestedBufferSize
    u32(v.width), // dwWidth
    u32(v.height), // dwHeight
    zeros(16), // dwReserved[4]
  ]);
}

/** strh: AVISTREAMHEADER for the one MJPEG video stream. */
export function streamHeader(v: AviHeaderValues): Field[] {
  return chunk('strh', [
    fourcc('vids'), // fccType
    fourcc('MJPG'), // fccHandler
    u32(0), // dwFlags
    u16(0), // wPriority
    u16(0), // wLanguage
    u32(0), // dwInitialFrames
    u32(v.rate.den), // dwScale
    u32(v.rate.num), // dwRate: frames per second = dwRate / dwScale
    u32(0), // dwStart
    u32(v.totalFrames), // dwLength: frames in the whole file
    u32(v.largestFrame), // dwSuggestedBufferSize
    u32(0xffffffff), // dwQuality: -1, the default
    u32(0), // dwSampleSize: 0, frames vary in size
    u16(0), // rcFrame.left
    u16(0), // rcFrame.top
    u16(v.width & 0xffff), // rcFrame.right
    u16(v.height & 0xffff), // rcFrame.bottom
  ]);
}

/** strf: BITMAPINFOHEADER. */
export function streamFormat(v: AviHeaderValues): Field[] {
  return chunk('strf', [
    u32(40), // biSize
    i32(v.width), // biWidth
    i32(v.height), // biHeight: positive, as every MJPEG writer does
    u16(1), // biPlanes
    u16(24), // biBitCount
    fourcc('MJPG'), // biCompression
    u32((v.width * v.height * 3) % 2 ** 32), // biSizeImage
    i32(0), // biXPelsPerMeter
    i32(0), // biYPelsPerMeter
    u32(0), // biClrUsed
    u32(0), // biClrImportant
  ]);
}

/**
 * indx: the OpenDML super index (AVISUPERINDEX), one entry per RIFF's ix00. Reserved up front as
 * JUNK of the same size so it can be switched on in place once a second RIFF starts.
 */
export function superIndex(entries: readonly SuperIndexEntry[]): Field[] {
  const used: Field[] = [];
  for (const e of entries) {
    used.push(
      u64(e.offset), // qwOffset
      u32(e.size), // dwSize
      u32(e.frames), // dwDuration: frames, for video
    );
  }
  return chunk(entries.length > 0 ? 'indx' : 'JUNK', [
    u16(4), // wLongsPerEntry
    u8(0), // bIndexSubType
    u8(0), // bIndexType: AVI_INDEX_OF_INDEXES
    u32(entries.length), // nEntriesInUse
    fourcc(VIDEO_CHUNK_ID), // dwChunkId
    zeros(12), // dwReserved[3]
    ...used,
    zeros(16 * (SUPER_INDEX_ENTRIES - entries.length)), // unused entries
  ]);
}

/** LIST odml / dmlh: AVIEXTHEADER, the grand total of frames over every RIFF. */
export function extendedHeader(v: AviHeaderValues): Field[] {
  return list('LIST', 'odml', chunk('dmlh', [
    u32(v.totalFrames), // dwGrandFrames
    zeros(244), // dwFuture[61]
  ]));
}

/**
 * Everything from the start of the file to the first frame: RIFF 'AVI ', LIST hdrl, and the
 * movi LIST header. Its length never changes (HEADER_BYTES), so it is rewritten in place.
 */
export function firstRiffHeader(v: AviHeaderValues): Field[] {
  return [
    fourcc('RIFF'), // RIFF
    u32(v.riffSize, 'riffSize'), // size of the first RIFF after this field
    fourcc('AVI '), // form type
    ...list('LIST', 'hdrl', [
      ...mainHeader(v),
      ...list('LIST', 'strl', [...streamHeader(v), ...streamFormat(v), ...superIndex(v.superIndex)]),
      ...extendedHeader(v),
    ]),
    fourcc('LIST'), // LIST
    u32(v.moviSize, 'moviSize'), // movi LIST size: 'movi' + its chunks
    fourcc('movi', 'movi'), // idx1 offsets and the ix00 base count from here
  ];
}

const layout = assemble(firstRiffHeader({
  width: 0, height: 0, rate: { num: 1, den: 1 }, firstRiffFrames: 0, totalFrames: 0,
  largestFrame: 0, hasIdx1: false, riffSize: 0, moviSize: 0, superIndex: [],
}));
/** Bytes before the first frame chunk. */
export const HEADER_BYTES = layout.bytes.length;
/** Absolute offset of the first RIFF's 'movi' fourcc. */
export const FIRST_MOVI_POS = layout.at.get('movi')!;

export function buildFirstRiffHeader(v: AviHeaderValues): Buffer {
  return assemble(firstRiffHeader(v)).bytes;
}

/** An OpenDML continuation: RIFF 'AVIX' holding one LIST 'movi'. */
export function avixHeader(riffSize: number, moviSize: number): Buffer {
  return assemble([
    fourcc('RIFF'), // RIFF
    u32(riffSize), // size after this field
    fourcc('AVIX'), // form type
    fourcc('LIST'), // LIST
    u32(moviSize), // 'movi' + its chunks
    fourcc('movi'), // ix00 base of this RIFF
  ]).bytes;
}

/** The 8-byte header of a frame chunk: '00dc' and the JPEG's length (without the pad byte). */
export function frameChunkHeader(size: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.write(VIDEO_CHUNK_ID, 0, 'latin1');
  b.writeUInt32LE(size, 4);
  return b;
}

/** The pad byte after an odd-sized chunk. */
export const PAD = Buffer.alloc(1);

/**
 * ix00: an OpenDML standard index (AVISTDINDEX) of one RIFF's frames. `base` is the absolute
 * offset of that RIFF's 'movi' fourcc; entries hold each frame's data offset minus base.
 */
export function standardIndex(base: number, chunkStarts: ArrayLike<number>, sizes: ArrayLike<number>): Buffer {
  const n = chunkStarts.length;
  const header = assemble([
    fourcc('ix00'), // ckid
    u32(24 + 8 * n), // cb
    u16(2), // wLongsPerEntry
    u8(0), // bIndexSubType
    u8(1), // bIndexType: AVI_INDEX_OF_CHUNKS
    u32(n), // nEntriesInUse
    fourcc(VIDEO_CHUNK_ID), // dwChunkId
    u64(base), // qwBaseOffset
    u32(0), // dwReserved3
  ]).bytes;
  const out = Buffer.allocUnsafe(header.length + 8 * n);
  header.copy(out, 0);
  for (let i = 0, p = header.length; i < n; i++, p += 8) {
    out.writeUInt32LE(chunkStarts[i]! + 8 - base, p); // dwOffset: frame data - base
    out.writeUInt32LE(sizes[i]!, p + 4); // dwSize: bit 31 clear = keyframe
  }
  return out;
}

/** idx1: the AVI 1.0 index (AVIOLDINDEX) of the first RIFF; offsets count from 'movi'. */
export function legacyIndex(moviPos: number, chunkStarts: ArrayLike<number>, sizes: ArrayLike<number>): Buffer {
  const n = chunkStarts.length;
  const out = Buffer.allocUnsafe(legacyIndexBytes(n));
  out.write('idx1', 0, 'latin1'); // ckid
  out.writeUInt32LE(16 * n, 4); // cb
  for (let i = 0, p = 8; i < n; i++, p += 16) {
    out.write(VIDEO_CHUNK_ID, p, 'latin1'); // dwChunkId
    out.writeUInt32LE(AVIIF_KEYFRAME, p + 4); // dwFlags
    out.writeUInt32LE(chunkStarts[i]! - moviPos, p + 8); // dwOffset: chunk start - 'movi'
    out.writeUInt32LE(sizes[i]!, p + 12); // dwSize
  }
  return out;
}
