// Access units to MPEG transport stream (ISO/IEC 13818-1), one program with one H.264 stream, so
// the publisher's ffmpeg reads each picture with its capture time instead of stamping it on
// arrival: an encoder that lags and then catches up still yields evenly spaced timestamps.
// Annex-B H.264 goes into PES packets unchanged. PAT and PMT precede every keyframe, so a
// demuxer that starts there finds the program.
import type { AccessUnit } from '../h264/access-units.js';

const PACKET = 188;
const HEADER = 4;
const SYNC = 0x47;
const PID_PAT = 0x0000;
const PID_PMT = 0x1000;
const PID_VIDEO = 0x0100;
const STREAM_TYPE_H264 = 0x1b;
const STREAM_ID_VIDEO = 0xe0;
const CLOCK_HZ = 90_000;
const PTS_WRAP = 2 ** 33;
// Adaptation field carrying a PCR: length byte, flags byte, 6 PCR bytes.
const PCR_FIELD = 8;

/** CRC-32/MPEG-2 (polynomial 0x04C11DB7, not reflected, no final xor), which PSI sections end with. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32mpeg(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}

/** A PSI section (table_id to the last field before CRC) with its CRC appended. */
function section(body: number[]): number[] {
  const crc = crc32mpeg(Uint8Array.from(body));
  return [...body, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff];
}

const PAT = section([
  0x00, // table_id: program_association_section
  0xb0, 13, // section_syntax_indicator, section_length
  0x00, 0x01, // transport_stream_id
  0xc1, // version 0, current_next_indicator
  0x00, 0x00, // section_number, last_section_number
  0x00, 0x01, // program_number 1
  0xe0 | (PID_PMT >> 8), PID_PMT & 0xff, // its program_map_PID
]);

const PMT = section([
  0x02, // table_id: TS_program_map_section
  0xb0, 18, // section_syntax_indicator, section_length
  0x00, 0x01, // program_number
  0xc1, // version 0, current_next_indicator
  0x00, 0x00, // section_number, last_section_number
  0xe0 | (PID_VIDEO >> 8), PID_VIDEO & 0xff, // PCR_PID
  0xf0, 0x00, // program_info_length 0
  STREAM_TYPE_H264, 0xe0 | (PID_VIDEO >> 8), PID_VIDEO & 0xff, 0xf0, 0x00, // the H.264 stream, no descriptors
]);

/** Writes one camera's access units as an MPEG-TS byte stream. */
export class MpegTsPacketizer {
  private readonly cc = new Map<number, number>();
  private baseUs: number | null = null;
  private lastPts = -1;

  /** Starts a new stream (a new ffmpeg): timestamps from zero, counters reset. */
  reset(): void {
    this.cc.clear();
    this.baseUs = null;
    this.lastPts = -1;
  }

  /** The unit as TS packets (PAT and PMT first on a keyframe); the buffer is the caller's. */
  packetize(unit: AccessUnit): Buffer {
    this.baseUs ??= unit.timestampUs;
    // Capture times only ever move forward here; a unit stamped no later than the one before
    // gets one tick more, as a muxer needs strictly increasing times.
    let pts = Math.round(((unit.timestampUs - this.baseUs) * CLOCK_HZ) / 1e6);
    if (pts <= this.lastPts) pts = this.lastPts + 1;
    this.lastPts = pts;
    const pes = pesHeader(pts % PTS_WRAP);
    const size = pes.length + unit.data.length;
    // The first packet carries the PCR; the rest carry 184 bytes each, the last stuffed.
    const packets = 1 + Math.max(0, Math.ceil((size - (PACKET - HEADER - PCR_FIELD)) / (PACKET - HEADER)));
    const psi = unit.keyframe ? 2 : 0;
    const out = Buffer.allocUnsafe((psi + packets) * PACKET);
    let at = 0;
    if (unit.keyframe) {
      at = this.psiPacket(out, at, PID_PAT, PAT);
      at = this.psiPacket(out, at, PID_PMT, PMT);
    }
    const payload = Buffer.concat([pes, unit.data], size);
    let taken = 0;
    for (let i = 0; i < packets; i++) {
      const first = i === 0;
      const minField = first ? PCR_FIELD : 0;
      const take = Math.min(size - taken, PACKET - HEADER - minField);
      const field = PACKET - HEADER - take;
      at = this.header(out, at, PID_VIDEO, first, field > 0);
      if (field > 0) at = adaptationField(out, at, field, first ? pts % PTS_WRAP : null, first && unit.keyframe);
      payload.copy(out, at, taken, taken + take);
      at += take;
      taken += take;
    }
    return out;
  }

  private header(out: Buffer, at: number, pid: number, start: boolean, adaptation: boolean): number {
    const cc = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (cc + 1) & 0x0f);
    out[at] = SYNC;
    out[at + 1] = (start ? 0x40 : 0) | (pid >> 8); // payload_unit_start_indicator, PID high bits
    out[at + 2] = pid & 0xff;
    out[at + 3] = (adaptation ? 0x30 : 0x10) | cc; // adaptation_field_control, continuity_counter
    return at + HEADER;
  }

  private psiPacket(out: Buffer, at: number, pid: number, table: number[]): number {
    at = this.header(out, at, pid, true, false);
    out[at++] = 0; // pointer_field
    for (const b of table) out[at++] = b;
    const end = at - table.length - 1 - HEADER + PACKET;
    out.fill(0xff, at, end);
    return end;
  }
}

/** PES header of a video picture with a PTS (and so DTS = PTS: our encoder makes no B-frames). */
function pesHeader(pts: number): Buffer {
  const high = Math.floor(pts / 2 ** 30) & 0x07;
  const low = pts % 2 ** 30;
  return Buffer.from([
    0x00, 0x00, 0x01, STREAM_ID_VIDEO, // packet_start_code_prefix, stream_id
    0x00, 0x00, // PES_packet_length 0: unbounded, allowed for video
    0x80, // marker bits '10'
    0x80, // PTS_DTS_flags '10': PTS only
    5, // PES_header_data_length
    0x20 | (high << 1) | 1, // '0010', PTS[32..30], marker
    (low >> 22) & 0xff, // PTS[29..22]
    ((low >> 14) & 0xfe) | 1, // PTS[21..15], marker
    (low >> 7) & 0xff, // PTS[14..7]
    ((low << 1) & 0xfe) | 1, // PTS[6..0], marker
  ]);
}

/** An adaptation field of exactly `size` bytes (length byte included): the PCR if given, then stuffing. */
function adaptationField(out: Buffer, at: number, size: number, pcr: number | null, randomAccess: boolean): number {
  const end = at + size;
  out[at++] = size - 1; // adaptation_field_length
  if (size === 1) return end;
  out[at++] = (randomAccess ? 0x40 : 0) | (pcr !== null ? 0x10 : 0); // random_access_indicator, PCR_flag
  if (pcr !== null) {
    // program_clock_reference_base (33 bits), 6 reserved bits, extension 0.
    const high = Math.floor(pcr / 2 ** 25) & 0xff;
    const low = pcr % 2 ** 25;
    out[at++] = high;
    out[at++] = (low >> 17) & 0xff;
    out[at++] = (low >> 9) & 0xff;
    out[at++] = (low >> 1) & 0xff;
    out[at++] = ((low & 1) << 7) | 0x7e;
    out[at++] = 0x00;
  }
  out.fill(0xff, at, end);
  return end;
}
