/**
 * The bytes of a tiny 2-frame AVI, one field per line, written out by hand from the AVI and
 * OpenDML layouts (not computed by the code under test). The writer must produce exactly them,
 * and the reader must read them back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { createRecorder, inspect } from '../src/index.js';
import { tempDir } from './helpers/frames.js';

const cc = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const le16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const zero = (n: number): number[] => new Array<number>(n).fill(0);

/** A 3x2 "JPEG" with just the markers the recorder reads: 23 bytes, odd. */
const JPEG_ODD = [
  0xff, 0xd8, // SOI
  0xff, 0xc0, 0x00, 0x11, // SOF0, segment length 17
  0x08, // precision
  0x00, 0x02, // height 2
  0x00, 0x03, // width 3
  0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, // 3 components
  0xff, 0xd9, // EOI
];
/** The same with a 0x00 pad after EOI: 24 bytes, even. */
const JPEG_EVEN = [...JPEG_ODD, 0x00];

const FIXTURE: number[] = [
  ...cc('RIFF'), // offset 0: RIFF
  ...le32(4716), // file size - 8
  ...cc('AVI '), // form type
  ...cc('LIST'), // 12: LIST
  ...le32(4588), // hdrl size: 'hdrl' + avih 64 + strl 4252 + odml 268
  ...cc('hdrl'),
  ...cc('avih'), // 24: AVIMAINHEADER
  ...le32(56),
  ...le32(40000), // dwMicroSecPerFrame: 25 fps
  ...le32(600), // dwMaxBytesPerSec: largest frame (24) * 25
  ...le32(0), // dwPaddingGranularity
  ...le32(0x910), // dwFlags: HASINDEX | ISINTERLEAVED | TRUSTCKTYPE
  ...le32(2), // dwTotalFrames
  ...le32(0), // dwInitialFrames
  ...le32(1), // dwStreams
  ...le32(24), // dwSuggestedBufferSize: largest frame
  ...le32(3), // dwWidth
  ...le32(2), // dwHeight
  ...zero(16), // dwReserved[4]
  ...cc('LIST'), // 88: LIST strl
  ...le32(4244), // 'strl' + strh 64 + strf 48 + JUNK 4128
  ...cc('strl'),
  ...cc('strh'), // 100: AVISTREAMHEADER
  ...le32(56),
  ...cc('vids'), // fccType
  ...cc('MJPG'), // fccHandler
  ...le32(0), // dwFlags
  ...le16(0), // wPriority
  ...le16(0), // wLanguage
  ...le32(0), // dwInitialFrames
  ...le32(1), // dwScale
  ...le32(25), // dwRate: 25/1 fps
  ...le32(0), // dwStart
  ...le32(2), // dwLength: frames
  ...le32(24), // dwSuggestedBufferSize
  ...le32(0xffffffff), // dwQuality: default
  ...le32(0), // dwSampleSize: variable
  ...le16(0), // rcFrame.left
  ...le16(0), // rcFrame.top
  ...le16(3), // rcFrame.right
  ...le16(2), // rcFrame.bottom
  ...cc('strf'), // 164: BITMAPINFOHEADER
  ...le32(40),
  ...le32(40), // biSize
  ...le32(3), // biWidth
  ...le32(2), // biHeight
  ...le16(1), // biPlanes
  ...le16(24), // biBitCount
  ...cc('MJPG'), // biCompression
  ...le32(18), // biSizeImage: 3 * 2 * 3
  ...le32(0), // biXPelsPerMeter
  ...le32(0), // biYPelsPerMeter
  ...le32(0), // biClrUsed
  ...le32(0), // biClrImportant
  ...cc('JUNK'), // 212: the OpenDML super index, reserved (one RIFF: not used)
  ...le32(4120), // 24 + 256 entries * 16
  ...le16(4), // wLongsPerEntry
  0, // bIndexSubType
  0, // bIndexType: AVI_INDEX_OF_INDEXES
  ...le32(0), // nEntriesInUse
  ...cc('00dc'), // dwChunkId
  ...zero(12), // dwReserved[3]
  ...zero(4096), // 256 free entries
  ...cc('LIST'), // 4340: LIST odml
  ...le32(260),
  ...cc('odml'),
  ...cc('dmlh'), // 4352: AVIEXTHEADER
  ...le32(248),
  ...le32(2), // dwGrandFrames
  ...zero(244), // dwFuture
  ...cc('LIST'), // 4608: LIST movi
  ...le32(68), // 'movi' + 2 chunks of 32 bytes
  ...cc('movi'), // 4616: idx1 offsets count from here
  ...cc('00dc'), // 4620: frame 1
  ...le32(23), // size without the pad
  ...JPEG_ODD,
  0, // pad byte: 23 is odd
  ...cc('00dc'), // 4652: frame 2
  ...le32(24),
  ...JPEG_EVEN,
  ...cc('idx1'), // 4684: AVIOLDINDEX
  ...le32(32), // 2 entries * 16
  ...cc('00dc'), // entry 1: dwChunkId
  ...le32(0x10), // dwFlags: AVIIF_KEYFRAME
  ...le32(4), // dwOffset: 4620 - 4616
  ...le32(23), // dwSize
  ...cc('00dc'), // entry 2
  ...le32(0x10),
  ...le32(36), // 4652 - 4616
  ...le32(24),
];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('fixture')));
afterAll(() => cleanup());

describe('a 2-frame AVI, byte by byte', () => {
  it('is what the writer produces for two frames at a fixed 25 fps', async () => {
    const path = join(dir, 'two.avi');
    const rec = createRecorder(path, { frameRate: 25, checkpointIntervalMs: 0, fsync: false });
    await rec.write(Buffer.from(JPEG_ODD));
    await rec.write(Buffer.from(JPEG_EVEN));
    await rec.close();
    const written = await readFile(path);
    expect(FIXTURE).toHaveLength(4724);
    expect(written.toString('hex')).toBe(Buffer.from(FIXTURE).toString('hex'));
  });

  it('reads back as two frames with their offsets, sizes, rate and size', async () => {
    const path = join(dir, 'fixture.avi');
    await writeFile(path, Buffer.from(FIXTURE));
    const s = await readAviStructure(path);
    expect(s.frames).toEqual([{ offset: 4628, size: 23 }, { offset: 4660, size: 24 }]);
    expect(s.idx1?.entries).toEqual(s.frames);
    expect(s.video).toMatchObject({ handler: 'MJPG', compression: 'MJPG', scale: 1, rate: 25, length: 2, width: 3, height: 2 });
    expect(s.main).toEqual({ microSecPerFrame: 40000, flags: 0x910, totalFrames: 2, width: 3, height: 2 });
    expect(s.grandFrames).toBe(2);
    expect(await inspect(path)).toMatchObject({ frames: 2, width: 3, height: 2, fps: 25, riffs: 1, indexed: true, problems: [] });
  });
});
