/**
 * What an MP4 needs from an H.264 sequence parameter set (H.264 7.3.2.1.1): the profile and level
 * for avcC and the codec string, the chroma format and bit depths for avcC's high-profile fields,
 * and the picture size after cropping for avc1 and tkhd.
 */

export interface SpsInfo {
  readonly profileIdc: number;
  /** constraint_set0..5 flags and the reserved bits: the byte between profile and level. */
  readonly constraints: number;
  readonly levelIdc: number;
  readonly chromaFormatIdc: number;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  readonly width: number;
  readonly height: number;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Exp-Golomb and fixed-width reads over an RBSP (emulation prevention bytes removed). */
class BitReader {
  private bit = 0;

  constructor(private readonly bytes: Uint8Array) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new Error('the SPS ends early');
      v = v * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new Error('an Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -k / 2;
  }
}

/** The RBSP of a NAL unit: its payload with every 00 00 03's 03 removed. */
export function rbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (its header byte included). Throws an Error saying what is wrong. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new Error('not an SPS NAL unit');
  const r = new BitReader(rbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraints = r.u(8);
  const levelIdc = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw new Error(`chroma_format_idc ${chromaFormatIdc}`);
    if (chromaFormatIdc === 3) separateColourPlane = r.u(1);
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      // seq_scaling_matrix_present_flag
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  else if (pocType === 1) {
    r.u(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) throw new Error(`num_ref_frames_in_pic_order_cnt_cycle ${cycle}`);
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.u(1)) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const mono = chromaFormatIdc === 0 || separateColourPlane === 1;
  const subWidth = chromaFormatIdc === 3 ? 1 : 2;
  const subHeight = chromaFormatIdc === 1 ? 2 : 1;
  const cropX = mono ? 1 : subWidth;
  const cropY = (mono ? 1 : subHeight) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropX * (crop[0]! + crop[1]!);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2]! + crop[3]!);
  if (width <= 0 || height <= 0 || width > 0xffff || height > 0xffff) throw new Error(`a picture of ${width}x${height}`);
  return { profileIdc, constraints, levelIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height };
}

/** The RFC 6381 codec string of a stream with this SPS, as MSE and HLS want it: avc1.64001f. */
export function codecString(sps: SpsInfo): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(sps.profileIdc)}${hex(sps.constraints)}${hex(sps.levelIdc)}`;
}
