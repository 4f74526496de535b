/**
 * Reads the structure of an AVI (ours, ffmpeg's, any with one MJPEG video stream): headers, RIFFs,
 * indexes, and every complete video chunk found by walking movi from its start. The walk does
 * not trust RIFF and movi sizes (a killed recorder leaves them stale): it follows chunk headers
 * until the end of the file or the first truncated or invalid chunk.
 */
import { RecorderError } from './errors.js';
import { type BlockReader, readFileWith } from './file-reader.js';

export { readBytes } from './file-reader.js';

export interface AviFrameRef {
  /** Absolute offset of the frame's data (chunk start + 8). */
  readonly offset: number;
  readonly size: number;
}

export interface AviRiffInfo {
  /** Absolute offset of 'RIFF'. */
  readonly offset: number;
  /** 'AVI ' or 'AVIX'. */
  readonly form: string;
  /** The declared size (bytes after the size field). */
  readonly size: number;
  /** Absolute offset of this RIFF's 'movi' fourcc, if one was found. */
  movi: number | undefined;
  /** The declared movi LIST size. */
  moviSize: number | undefined;
  /** Video chunks found in this RIFF. */
  frames: number;
}

export interface AviStreamInfo {
  /** Stream number: its chunks are 'NNdc' / 'NNdb'. */
  readonly index: number;
  readonly handler: string;
  readonly compression: string;
  readonly scale: number;
  readonly rate: number;
  readonly length: number;
  readonly width: number;
  readonly height: number;
  /** The super index (indx) entries in use, when the stream has one. */
  readonly superIndex: Array<{ offset: number; size: number; frames: number }>;
}

export interface AviIndexChunk {
  readonly offset: number;
  /** Absolute data offsets and sizes of the video chunks it lists. */
  readonly entries: AviFrameRef[];
}

export interface AviStructure {
  readonly path: string;
  readonly fileBytes: number;
  readonly main: { microSecPerFrame: number; flags: number; totalFrames: number; width: number; height: number };
  readonly video: AviStreamInfo;
  /** dmlh.dwGrandFrames, when the file has an odml header. */
  readonly grandFrames: number | undefined;
  readonly riffs: AviRiffInfo[];
  readonly frames: AviFrameRef[];
  readonly idx1: AviIndexChunk | undefined;
  /** ix## chunks of the video stream. */
  readonly standardIndexes: AviIndexChunk[];
  /** Where the walk stopped early, and why (undefined: it reached the end of the file cleanly). */
  readonly stoppedAt: { offset: number; reason: string } | undefined;
  /** End of the last complete chunk. */
  readonly dataEnd: number;
}

/** Compression fourccs that mean JPEG frames. */
const MJPEG_FOURCCS = new Set(['MJPG', 'JPEG', 'AVRN', 'DMB1', 'MJLS']);

export function isMjpeg(stream: AviStreamInfo): boolean {
  return MJPEG_FOURCCS.has(stream.compression.toUpperCase()) || MJPEG_FOURCCS.has(stream.handler.toUpperCase());
}

/** Largest header list (hdrl) or index we read into memory whole. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
export async function readAviStructure(path: string): Promise<AviStructure> {
  return readFileWith(path, (r) => readWith(r, path));
}

function fourccAt(b: Buffer, at: number): string {
  return b.toString('latin1', at, at + 4);
}

function isPrintableFourcc(b: Buffer, at: number): boolean {
  for (let i = at; i < at + 4; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

async function readWith(r: BlockReader, path: string): Promise<AviStructure> {
  const notAvi = (why: string): RecorderError => new RecorderError('NOT_AVI', `${path} is not a readable AVI: ${why}`);
  const head = await r.at(0, 12);
  if (!head || fourccAt(head, 0) !== 'RIFF' || fourccAt(head, 8) !== 'AVI ') throw notAvi('it does not start with RIFF....AVI');
  const riffs: AviRiffInfo[] = [{ offset: 0, form: 'AVI ', size: head.readUInt32LE(4), movi: undefined, moviSize: undefined, frames: 0 }];

  // The first RIFF's top-level chunks up to movi: hdrl holds the headers.
  let pos = 12;
  let hdrl: Buffer | undefined;
  let moviPos: number | undefined;
  while (moviPos === undefined) {
    const h = await r.at(pos, 12);
    if (!h) throw notAvi(hdrl ? 'no movi list' : 'no hdrl list');
    const id = fourccAt(h, 0);
    const size = h.readUInt32LE(4);
    if (id === 'LIST' && fourccAt(h, 8) === 'hdrl') {
      if (size > MAX_HEADER_BYTES) throw notAvi(`a ${size}-byte hdrl list`);
      hdrl = await r.at(pos + 12, size - 4);
      if (!hdrl) throw notAvi('the hdrl list is cut short');
      hdrl = Buffer.from(hdrl);
    } else if (id === 'LIST' && fourccAt(h, 8) === 'movi') {
      moviPos = pos + 8;
      riffs[0]!.movi = moviPos;
      riffs[0]!.moviSize = size;
      break;
    } else if (!isPrintableFourcc(h, 0)) {
      throw notAvi(`invalid chunk at ${pos}`);
    }
    pos += 8 + size + (size & 1);
  }
  if (!hdrl) throw notAvi('no hdrl list before movi');
  const headers = parseHeaders(hdrl);
  if (!headers.main) throw notAvi('no avih header');
  if (!headers.video) throw notAvi('no video stream');

  const video = headers.video;
  const frameIds = new Set([`${pad2(video.index)}dc`, `${pad2(video.index)}db`]);
  const ixId = `ix${pad2(video.index)}`;
  const frames: AviFrameRef[] = [];
  const standardIndexes: AviIndexChunk[] = [];
  let idx1: AviIndexChunk | undefined;
  let idx1Raw: { offset: number; data: Buffer } | undefined;
  let stoppedAt: AviStructure['stoppedAt'];
  let riff = riffs[0]!;

  pos = moviPos + 4;
  let dataEnd = pos;
  while (pos < r.size) {
    const h = await r.at(pos, 12) ?? await r.at(pos, 8);
    if (!h) {
      stoppedAt = { offset: pos, reason: `${r.size - pos} trailing bytes, too few for a chunk header` };
      break;
    }
    const id = fourccAt(h, 0);
    const size = h.readUInt32LE(4);
    const end = pos + 8 + size;
    if (!isPrintableFourcc(h, 0)) {
      stoppedAt = { offset: pos, reason: 'invalid chunk id (not a fourcc)' };
      break;
    }
    if (id === 'RIFF' || id === 'LIST') {
      const type = h.length >= 12 ? fourccAt(h, 8) : '';
      if (id === 'RIFF' && type === 'AVIX') {
        riff = { offset: pos, form: type, size, movi: undefined, moviSize: undefined, frames: 0 };
        riffs.push(riff);
        pos += 12;
        dataEnd = pos;
        continue;
      }
      if (id === 'LIST' && (type === 'movi' || type === 'rec ')) {
        if (type === 'movi' && riff.movi === undefined) {
          riff.movi = pos + 8;
          riff.moviSize = size;
        }
        pos += 12;
        dataEnd = pos;
        continue;
      }
    }
    if (end > r.size) {
      stoppedAt = { offset: pos, reason: `'${id}' chunk of ${size} bytes runs past the end of the file (${end - r.size} bytes missing)` };
      break;
    }
    if (frameIds.has(id)) {
      frames.push({ offset: pos + 8, size });
      riff.frames++;
    } else if (id === ixId) {
      if (size <= MAX_INDEX_BYTES) standardIndexes.push({ offset: pos, entries: parseStandardIndex((await r.at(pos + 8, size))!) });
    } else if (id === 'idx1' && idx1Raw === undefined) {
      if (size <= MAX_INDEX_BYTES) idx1Raw = { offset: pos, data: Buffer.from((await r.at(pos + 8, size))!) };
    }
    pos = Math.min(end + (size & 1), r.size);
    dataEnd = pos;
  }
  if (idx1Raw) idx1 = { offset: idx1Raw.offset, entries: parseIdx1(idx1Raw.data, frameIds, moviPos, frames[0]) };

  return {
    path,
    fileBytes: r.size,
    main: headers.main,
    video,
    grandFrames: headers.grandFrames,
    riffs,
    frames,
    idx1,
    standardIndexes,
    stoppedAt,
    dataEnd,
  };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

interface ParsedHeaders {
  main: AviStructure['main'] | undefined;
  video: AviStreamInfo | undefined;
  grandFrames: number | undefined;
}

/** Walk hdrl's children: avih, each strl (strh, strf, indx), odml/dmlh. */
function parseHeaders(hdrl: Buffer): ParsedHeaders {
  const out: ParsedHeaders = { main: undefined, video: undefined, grandFrames: undefined };
  let streamIndex = 0;
  forEachChunk(hdrl, 0, hdrl.length, (id, data, listType) => {
    if (id === 'avih' && data.length >= 40) {
      out.main = {
        microSecPerFrame: data.readUInt32LE(0),
        flags: data.readUInt32LE(12),
        totalFrames: data.readUInt32LE(16),
        width: data.readUInt32LE(32),
        height: data.readUInt32LE(36),
      };
    } else if (id === 'LIST' && listType === 'strl') {
      const stream = parseStreamList(data, streamIndex++);
      if (stream && !out.video) out.video = stream;
    } else if (id === 'LIST' && listType === 'odml') {
      forEachChunk(data, 0, data.length, (cid, cdata) => {
        if (cid === 'dmlh' && cdata.length >= 4) out.grandFrames = cdata.readUInt32LE(0);
      });
    }
  });
  return out;
}

function parseStreamList(strl: Buffer, index: number): AviStreamInfo | undefined {
  let strh: Buffer | undefined;
  let strf: Buffer | undefined;
  let indx: Buffer | undefined;
  forEachChunk(strl, 0, strl.length, (id, data) => {
    if (id === 'strh') strh = data;
    else if (id === 'strf') strf = data;
    else if (id === 'indx') indx = data;
  });
  if (!strh || strh.length < 36 || fourccAt(strh, 0) !== 'vids') return undefined;
  const superIndex: AviStreamInfo['superIndex'] = [];
  if (indx && indx.length >= 24 && indx.readUInt16LE(0) === 4 && indx[3] === 0) {
    const n = Math.min(indx.readUInt32LE(4), Math.floor((indx.length - 24) / 16));
    for (let i = 0, p = 24; i < n; i++, p += 16) {
      superIndex.push({ offset: Number(indx.readBigUInt64LE(p)), size: indx.readUInt32LE(p + 8), frames: indx.readUInt32LE(p + 12) });
    }
  }
  return {
    index,
    handler: fourccAt(strh, 4),
    compression: strf && strf.length >= 20 ? fourccAt(strf, 16) : '',
    scale: strh.readUInt32LE(20),
    rate: strh.readUInt32LE(24),
    length: strh.readUInt32LE(32),
    width: strf && strf.length >= 12 ? Math.abs(strf.readInt32LE(4)) : 0,
    height: strf && strf.length >= 12 ? Math.abs(strf.readInt32LE(8)) : 0,
    superIndex,
  };
}

/** Call `fn` for each chunk in buf[start, end); LISTs get their type and their children's bytes. */
function forEachChunk(buf: Buffer, start: number, end: number, fn: (id: string, data: Buffer, listType?: string) => void): void {
  let pos = start;
  while (pos + 8 <= end) {
    const id = fourccAt(buf, pos);
    const size = buf.readUInt32LE(pos + 4);
    const dataEnd = Math.min(pos + 8 + size, end);
    if (id === 'LIST' && pos + 12 <= end) fn(id, buf.subarray(pos + 12, dataEnd), fourccAt(buf, pos + 8));
    else fn(id, buf.subarray(pos + 8, dataEnd));
    pos += 8 + size + (size & 1);
  }
}

/** ix## (AVISTDINDEX): entries as absolute data offsets. */
function parseStandardIndex(data: Buffer): AviFrameRef[] {
  if (data.length < 24 || data.readUInt16LE(0) !== 2 || data[3] !== 1) return [];
  const n = Math.min(data.readUInt32LE(4), Math.floor((data.length - 24) / 8));
  const base = Number(data.readBigUInt64LE(12));
  const out: AviFrameRef[] = [];
  for (let i = 0, p = 24; i < n; i++, p += 8) {
    out.push({ offset: base + data.readUInt32LE(p), size: data.readUInt32LE(p + 4) & 0x7fffffff });
  }
  return out;
}

/**
 * idx1 (AVIOLDINDEX): the video entries as absolute data offsets. Offsets count from the 'movi'
 * fourcc, except in files that made them absolute: told apart by where the first one lands.
 */
function parseIdx1(data: Buffer, ids: Set<string>, moviPos: number, firstFrame: AviFrameRef | undefined): AviFrameRef[] {
  const out: AviFrameRef[] = [];
  let base: number | undefined;
  for (let p = 0; p + 16 <= data.length; p += 16) {
    if (!ids.has(fourccAt(data, p))) continue;
    const offset = data.readUInt32LE(p + 8);
    if (base === undefined) base = firstFrame && offset === firstFrame.offset - 8 ? 0 : moviPos;
    out.push({ offset: base + offset + 8, size: data.readUInt32LE(p + 12) });
  }
  return out;
}
