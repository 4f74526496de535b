/**
 * Reads the structure of a fragmented MP4 with an H.264 video track (ours, ffmpeg's, any):
 * the track's configuration from moov, and every fragment found by walking the top-level boxes
 * from the start, with its samples (where each one's data lies, its time and whether it is a
 * keyframe). Sizes are checked against the file and nothing is trusted: a file cut anywhere
 * yields its whole fragments, the whole samples of a cut one, and where and why the walk stopped.
 */
import { RecorderError } from './errors.js';
import { type BlockReader, readFileWith } from './file-reader.js';
import { type SpsInfo, codecString, parseSps } from './h264-sps.js';
import { type Box, boxesIn, child, fourccAt, readU64 } from './mp4-box-reader.js';

/** The samples of one fragment, in decode order. */
export interface Mp4Samples {
  /** Absolute offset of each sample's data. */
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  /** Decode time of each sample, in the track's timescale. */
  readonly times: Float64Array;
  readonly durations: Uint32Array;
  /** 1 for a sync sample (a keyframe). */
  readonly sync: Uint8Array;
}

export interface Mp4FragmentRef {
  /** Absolute offset of its moof. */
  readonly offset: number;
  /** moof to the end of its last sample's data. */
  readonly bytes: number;
  readonly sequence: number;
  /** First sample's decode time and the fragment's duration, in the track's timescale. */
  readonly decodeTime: number;
  readonly duration: number;
  /** Whole samples (a fragment cut by the end of the file keeps those before the cut). */
  readonly frames: number;
  /** Its first sample is a keyframe. */
  readonly keyframe: boolean;
  readonly samples: Mp4Samples;
}

/** The video track's decoder configuration. */
export interface Mp4Track {
  readonly id: number;
  readonly timescale: number;
  readonly width: number;
  readonly height: number;
  /** 'avc1' or 'avc3'. */
  readonly sampleEntry: string;
  readonly sps: Uint8Array;
  readonly pps: Uint8Array;
  readonly spsInfo: SpsInfo;
  /** RFC 6381, for MSE: avc1.42c01e. */
  readonly codec: string;
  /** Samples described in moov itself (a non-fragmented file): not read here. */
  readonly moovSamples: number;
}

export interface Mp4Structure {
  readonly path: string;
  readonly fileBytes: number;
  readonly track: Mp4Track;
  readonly fragments: Mp4FragmentRef[];
  /** mfra's entries (decode time, moof offset), when the file has a complete one. */
  readonly index: Array<{ time: number; moofOffset: number }> | undefined;
  /** A fragment left as padding at the end (typed 'free' until whole on disk): its offset. */
  readonly unfinishedAt: number | undefined;
  /** Where the walk stopped early and why (undefined: it reached the end of the file cleanly). */
  readonly stoppedAt: { offset: number; reason: string; truncated: boolean } | undefined;
  /** End of the last whole box (or of the last whole sample of a cut fragment). */
  readonly dataEnd: number;
  /** Where each whole top-level box ends, in order (a repair cuts the file at one of them). */
  readonly boxEnds: number[];
}

/** Largest moov or moof read into memory. */
const MAX_HEADER_BOX_BYTES = 64 * 1024 * 1024;
/** Samples read from one fragment: far more than any real one holds (an hour at 30 fps), and a bound on what a trun without per-sample fields may claim. */
const MAX_FRAGMENT_SAMPLES = 100_000;
const NON_SYNC = 0x00010000;

export async function readMp4Structure(path: string): Promise<Mp4Structure> {
  return readFileWith(path, (r) => readWith(r, path));
}

interface TrackDefaults {
  duration: number;
  size: number;
  flags: number;
}

async function readWith(r: BlockReader, path: string): Promise<Mp4Structure> {
  const notMp4 = (why: string): RecorderError => new RecorderError('NOT_MP4', `${path} is not a readable MP4: ${why}`);
  let track: Mp4Track | undefined;
  let defaults: TrackDefaults = { duration: 0, size: 0, flags: 0 };
  const fragments: Mp4FragmentRef[] = [];
  let index: Mp4Structure['index'];
  let unfinishedAt: number | undefined;
  let stoppedAt: Mp4Structure['stoppedAt'];
  let nextTime = 0;
  let pos = 0;
  let dataEnd = 0;
  const boxEnds: number[] = [];
  let first = true;
  while (pos < r.size) {
    const head = await r.at(pos, Math.min(16, r.size - pos));
    const box = head && head.length >= 8 ? topLevelBox(head, pos, r.size) : undefined;
    if (!box) {
      stoppedAt = { offset: pos, reason: `${r.size - pos} trailing bytes, too few for a box header`, truncated: true };
      break;
    }
    if (first && box.type !== 'ftyp' && box.type !== 'moov' && box.type !== 'styp') throw notMp4(`it starts with '${printable(box.type)}', not ftyp`);
    first = false;
    if (box.size < box.header || !/^[\x20-\x7e]{4}$/.test(box.type)) {
      stoppedAt = { offset: pos, reason: `bytes that are not a box (type ${JSON.stringify(printable(box.type))}, size ${box.size})`, truncated: false };
      break;
    }
    const end = pos + box.size;
    if (box.type === 'moov' || box.type === 'moof') {
      if (end > r.size) {
        stoppedAt = { offset: pos, reason: `the ${box.type} box of ${box.size} bytes runs past the end of the file (${end - r.size} bytes missing)`, truncated: true };
        break;
      }
      if (box.size > MAX_HEADER_BOX_BYTES) throw notMp4(`a ${box.size}-byte ${box.type} box`);
      const content = Buffer.from((await r.at(pos, box.size))!);
      if (box.type === 'moov') {
        if (track) throw notMp4('two moov boxes');
        ({ track, defaults } = parseMoov(content, box.header, notMp4));
      } else {
        if (!track) throw notMp4('a moof before the moov');
        const fragment = parseMoof(content, box.header, pos, track, defaults, nextTime);
        const whole = wholeSamples(fragment, r.size);
        if (whole.frames > 0) {
          fragments.push(whole);
          nextTime = whole.decodeTime + whole.duration;
          dataEnd = Math.max(dataEnd, whole.offset + whole.bytes);
        }
        if (whole.frames < fragment.frames) {
          stoppedAt = { offset: pos, reason: `the fragment at ${pos} holds ${fragment.frames} samples but the file ends after ${whole.frames} of them`, truncated: true };
          break;
        }
      }
    } else if (box.type === 'mfra' && end <= r.size) {
      index = parseMfra(Buffer.from((await r.at(pos, Math.min(box.size, MAX_HEADER_BOX_BYTES)))!), box.header, track?.id);
    } else if (box.type === 'free' && track && (await isHiddenFragment(r, pos, box))) {
      // Our fragment, still padding: the writer was stopped before it was whole on disk.
      unfinishedAt = pos;
      break;
    } else if (end > r.size) {
      // A cut mdat holds the data of the fragment before it, checked sample by sample there.
      if (box.type !== 'mdat') stoppedAt = { offset: pos, reason: `the '${box.type}' box of ${box.size} bytes runs past the end of the file`, truncated: true };
      break;
    }
    if (box.type !== 'moof') dataEnd = Math.max(dataEnd, Math.min(end, r.size));
    if (end <= r.size) boxEnds.push(end);
    pos = end;
  }
  if (!track) throw notMp4(stoppedAt ? `no moov before ${stoppedAt.reason}` : 'no moov box');
  return { path, fileBytes: r.size, track, fragments, index, unfinishedAt, stoppedAt, dataEnd, boxEnds };
}

/** A top-level box's header at `pos` (size 0: to the end of the file; size 1: a 64-bit size). */
function topLevelBox(head: Buffer, pos: number, fileSize: number): { type: string; size: number; header: number } {
  const size32 = head.readUInt32BE(0);
  const type = fourccAt(head, 4);
  if (size32 === 1) return head.length >= 16 ? { type, size: readU64(head, 8), header: 16 } : { type, size: 0, header: 16 };
  if (size32 === 0) return { type, size: fileSize - pos, header: 8 };
  return { type, size: size32, header: 8 };
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

async function isHiddenFragment(r: BlockReader, pos: number, box: { header: number }): Promise<boolean> {
  const b = await r.at(pos + box.header, 8);
  return b !== undefined && fourccAt(b, 4) === 'mfhd';
}

function parseMoov(moov: Buffer, header: number, notMp4: (why: string) => RecorderError): { track: Mp4Track; defaults: TrackDefaults } {
  const top: Box = { type: 'moov', start: header, end: moov.length };
  let found: Omit<Mp4Track, 'codec'> | undefined;
  for (const trak of boxesIn(moov, top)) {
    if (trak.type !== 'trak' || found) continue;
    found = parseTrak(moov, trak);
  }
  if (!found) throw notMp4('no H.264 video track (avc1 or avc3 with avcC)');
  const defaults: TrackDefaults = { duration: 0, size: 0, flags: 0 };
  const mvex = child(moov, top, 'mvex');
  for (const trex of mvex ? boxesIn(moov, mvex) : []) {
    if (trex.type !== 'trex' || trex.end - trex.start < 24 || moov.readUInt32BE(trex.start + 4) !== found.id) continue;
    defaults.duration = moov.readUInt32BE(trex.start + 12);
    defaults.size = moov.readUInt32BE(trex.start + 16);
    defaults.flags = moov.readUInt32BE(trex.start + 20);
  }
  return { track: { ...found, codec: codecString(found.spsInfo) }, defaults };
}

/** A trak that is H.264 video: its ID, timescale, size and avcC; undefined for any other. */
function parseTrak(b: Buffer, trak: Box): Omit<Mp4Track, 'codec'> | undefined {
  const tkhd = child(b, trak, 'tkhd');
  const mdia = child(b, trak, 'mdia');
  const mdhd = mdia && child(b, mdia, 'mdhd');
  const hdlr = mdia && child(b, mdia, 'hdlr');
  const stbl = mdia && child(b, mdia, 'minf', 'stbl');
  const stsd = stbl && child(b, stbl, 'stsd');
  if (!tkhd || !mdhd || !hdlr || !stsd || hdlr.end - hdlr.start < 12 || fourccAt(b, hdlr.start + 8) !== 'vide') return undefined;
  const id = b[tkhd.start] === 1 ? b.readUInt32BE(tkhd.start + 20) : b.readUInt32BE(tkhd.start + 12);
  const timescale = b[mdhd.start] === 1 ? b.readUInt32BE(mdhd.start + 20) : b.readUInt32BE(mdhd.start + 12);
  // stsd: version/flags, entry_count, then sample entries; the VisualSampleEntry's boxes start 78 bytes in.
  const entry = boxesIn(b, { type: 'stsd', start: stsd.start + 8, end: stsd.end }).next().value;
  if (!entry || (entry.type !== 'avc1' && entry.type !== 'avc3') || entry.end - entry.start < 78 || timescale === 0) return undefined;
  const avcC = child(b, { type: entry.type, start: entry.start + 78, end: entry.end }, 'avcC');
  if (!avcC) return undefined;
  const sets = parseAvcC(b.subarray(avcC.start, avcC.end));
  if (!sets) return undefined;
  let spsInfo: SpsInfo;
  try {
    spsInfo = parseSps(sets.sps);
  } catch {
    return undefined;
  }
  const stsz = child(b, stbl, 'stsz');
  const moovSamples = stsz && stsz.end - stsz.start >= 12 ? b.readUInt32BE(stsz.start + 8) : 0;
  return { id, timescale, width: spsInfo.width, height: spsInfo.height, sampleEntry: entry.type, sps: sets.sps, pps: sets.pps, spsInfo, moovSamples };
}

/** The first SPS and PPS of an AVCDecoderConfigurationRecord (copies). */
function parseAvcC(c: Buffer): { sps: Buffer; pps: Buffer } | undefined {
  if (c.length < 7 || c[0] !== 1) return undefined;
  let at = 5;
  const sets: Buffer[][] = [[], []];
  for (const k of [0, 1]) {
    if (at >= c.length) return undefined;
    const count = k === 0 ? c[at]! & 0x1f : c[at]!;
    at++;
    for (let i = 0; i < count; i++) {
      if (at + 2 > c.length) return undefined;
      const len = c.readUInt16BE(at);
      if (at + 2 + len > c.length) return undefined;
      sets[k]!.push(Buffer.from(c.subarray(at + 2, at + 2 + len)));
      at += 2 + len;
    }
  }
  const [sps, pps] = [sets[0]![0], sets[1]![0]];
  return sps && pps ? { sps, pps } : undefined;
}

/** One moof's samples of the track: every trun of every traf for it, in order. */
function parseMoof(b: Buffer, header: number, moofOffset: number, track: Mp4Track, d: TrackDefaults, nextTime: number): Mp4FragmentRef {
  const top: Box = { type: 'moof', start: header, end: b.length };
  const mfhd = child(b, top, 'mfhd');
  const sequence = mfhd && mfhd.end - mfhd.start >= 8 ? b.readUInt32BE(mfhd.start + 4) : 0;
  const offsets: number[] = [];
  const sizes: number[] = [];
  const durations: number[] = [];
  const sync: number[] = [];
  let decodeTime = nextTime;
  let sawTime = false;
  for (const traf of boxesIn(b, top)) {
    if (traf.type !== 'traf') continue;
    const tfhd = child(b, traf, 'tfhd');
    if (!tfhd || tfhd.end - tfhd.start < 8 || b.readUInt32BE(tfhd.start + 4) !== track.id) continue;
    // tfhd's optional fields, in order, each present when its flag is set.
    const flags = b.readUInt32BE(tfhd.start) & 0xffffff;
    let at = tfhd.start + 8;
    const field = (flag: number, bytes: 4 | 8): number | undefined => {
      if (!(flags & flag) || at + bytes > tfhd.end) return undefined;
      const v = bytes === 8 ? readU64(b, at) : b.readUInt32BE(at);
      at += bytes;
      return v;
    };
    const base = field(0x1, 8) ?? moofOffset; // base_data_offset; else the moof (default-base-is-moof, or the first traf)
    field(0x2, 4); // sample_description_index
    const duration = field(0x8, 4) ?? d.duration;
    const size = field(0x10, 4) ?? d.size;
    const sampleFlags = field(0x20, 4) ?? d.flags;
    const tfdt = child(b, traf, 'tfdt');
    if (tfdt && !sawTime && tfdt.end - tfdt.start >= 8) {
      decodeTime = b[tfdt.start] === 1 && tfdt.end - tfdt.start >= 12 ? readU64(b, tfdt.start + 4) : b.readUInt32BE(tfdt.start + 4);
      sawTime = true;
    }
    let dataPos = base;
    for (const trun of boxesIn(b, traf)) {
      if (trun.type !== 'trun' || trun.end - trun.start < 8) continue;
      const tf = b.readUInt32BE(trun.start) & 0xffffff;
      const perSample = (tf & 0x100 ? 4 : 0) + (tf & 0x200 ? 4 : 0) + (tf & 0x400 ? 4 : 0) + (tf & 0x800 ? 4 : 0);
      let p = trun.start + 8;
      if (tf & 0x1) {
        if (p + 4 > trun.end) continue;
        dataPos = base + b.readInt32BE(p); // data_offset
        p += 4;
      }
      let firstFlags: number | undefined;
      if (tf & 0x4 && p + 4 <= trun.end) {
        firstFlags = b.readUInt32BE(p); // first_sample_flags
        p += 4;
      }
      const declared = b.readUInt32BE(trun.start + 4);
      const fits = perSample > 0 ? Math.floor((trun.end - p) / perSample) : MAX_FRAGMENT_SAMPLES;
      const count = Math.min(declared, fits, MAX_FRAGMENT_SAMPLES - offsets.length);
      for (let i = 0; i < count; i++) {
        let dur = duration;
        let sz = size;
        let fl = i === 0 && firstFlags !== undefined ? firstFlags : sampleFlags;
        if (tf & 0x100) {
          dur = b.readUInt32BE(p);
          p += 4;
        }
        if (tf & 0x200) {
          sz = b.readUInt32BE(p);
          p += 4;
        }
        if (tf & 0x400) {
          // first_sample_flags, when given, overrides the first sample's own.
          if (!(i === 0 && firstFlags !== undefined)) fl = b.readUInt32BE(p);
          p += 4;
        }
        if (tf & 0x800) p += 4; // composition time offset: presentation order is not needed here
        offsets.push(dataPos);
        sizes.push(sz);
        durations.push(dur);
        sync.push(fl & NON_SYNC ? 0 : 1);
        dataPos += sz;
      }
    }
  }
  const times = new Float64Array(offsets.length);
  let t = decodeTime;
  let end = moofOffset + b.length;
  for (let i = 0; i < offsets.length; i++) {
    times[i] = t;
    t += durations[i]!;
    end = Math.max(end, offsets[i]! + sizes[i]!);
  }
  return {
    offset: moofOffset,
    bytes: end - moofOffset,
    sequence,
    decodeTime,
    duration: t - decodeTime,
    frames: offsets.length,
    keyframe: sync[0] === 1,
    samples: { offsets: Float64Array.from(offsets), sizes: Uint32Array.from(sizes), times, durations: Uint32Array.from(durations), sync: Uint8Array.from(sync) },
  };
}

/** The fragment's samples whose data lies wholly inside a file of `fileSize` bytes, up to the first that does not. */
function wholeSamples(f: Mp4FragmentRef, fileSize: number): Mp4FragmentRef {
  const s = f.samples;
  let n = 0;
  while (n < f.frames && s.offsets[n]! + s.sizes[n]! <= fileSize) n++;
  if (n === f.frames) return f;
  let end = f.offset;
  let duration = 0;
  for (let i = 0; i < n; i++) {
    end = Math.max(end, s.offsets[i]! + s.sizes[i]!);
    duration += s.durations[i]!;
  }
  return {
    ...f,
    bytes: end - f.offset,
    duration,
    frames: n,
    samples: { offsets: s.offsets.slice(0, n), sizes: s.sizes.slice(0, n), times: s.times.slice(0, n), durations: s.durations.slice(0, n), sync: s.sync.slice(0, n) },
  };
}

/** mfra's tfra entries for the track (decode time, moof offset). */
function parseMfra(b: Buffer, header: number, trackId: number | undefined): Array<{ time: number; moofOffset: number }> | undefined {
  const tfra = child(b, { type: 'mfra', start: header, end: b.length }, 'tfra');
  if (!tfra || tfra.end - tfra.start < 16) return undefined;
  const v = b[tfra.start];
  if (trackId !== undefined && b.readUInt32BE(tfra.start + 4) !== trackId) return undefined;
  const lengths = b.readUInt32BE(tfra.start + 8);
  const extra = ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3;
  const entryBytes = (v === 1 ? 16 : 8) + extra;
  const count = Math.min(b.readUInt32BE(tfra.start + 12), Math.floor((tfra.end - tfra.start - 16) / entryBytes));
  const out: Array<{ time: number; moofOffset: number }> = [];
  for (let i = 0, p = tfra.start + 16; i < count; i++, p += entryBytes) {
    out.push(v === 1 ? { time: readU64(b, p), moofOffset: readU64(b, p + 8) } : { time: b.readUInt32BE(p), moofOffset: b.readUInt32BE(p + 4) });
  }
  return out;
}
