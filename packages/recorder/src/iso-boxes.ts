/**
 * Big-endian field builders and ISO-BMFF box factories (ISO/IEC 14496-12), so each MP4 box reads
 * as a list of commented fields (`u32(sequence), // sequence_number`). They share Field, assemble
 * and byteLength with the RIFF builders (riff.ts); only the byte order and the header differ.
 */
import { type Field, byteLength, zeros } from './riff.js';

export { type Field, assemble, byteLength, zeros } from './riff.js';

export function u8(value: number): Field {
  return { bytes: Buffer.from([value & 0xff]) };
}

export function u16(value: number): Field {
  const bytes = Buffer.allocUnsafe(2);
  bytes.writeUInt16BE(value & 0xffff, 0);
  return { bytes };
}

export function i16(value: number): Field {
  const bytes = Buffer.allocUnsafe(2);
  bytes.writeInt16BE(value, 0);
  return { bytes };
}

export function u24(value: number): Field {
  return { bytes: Buffer.from([(value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]) };
}

export function u32(value: number): Field {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0, 0);
  return { bytes };
}

export function i32(value: number): Field {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeInt32BE(value, 0);
  return { bytes };
}

/** u64 from a JS number (decode times and offsets stay far below 2^53). */
export function u64(value: number): Field {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64BE(BigInt(value), 0);
  return { bytes };
}

/** A 16.16 fixed-point number. */
export function fixed16(value: number): Field {
  return u32(Math.round(value * 65536));
}

export function fourcc(code: string): Field {
  if (code.length !== 4) throw new Error(`a box type is 4 characters: ${JSON.stringify(code)}`);
  return { bytes: Buffer.from(code, 'latin1') };
}

export function raw(bytes: Uint8Array): Field {
  return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The identity matrix of mvhd and tkhd: { 1, 0, 0, 0, 1, 0, 0, 0, 1 } in 16.16 and 2.30. */
export function unityMatrix(): Field[] {
  return [u32(0x00010000), u32(0), u32(0), u32(0), u32(0x00010000), u32(0), u32(0), u32(0), u32(0x40000000)];
}

/** A box: u32 size (header included), type, then its fields and children. */
export function box(type: string, content: readonly Field[]): Field[] {
  return [u32(8 + byteLength(content)), fourcc(type), ...content];
}

/** A full box: a box whose content starts with u8 version and u24 flags. */
export function fullBox(type: string, version: number, flags: number, content: readonly Field[]): Field[] {
  return box(type, [u8(version), u24(flags), ...content]);
}

/** `count` zero bytes (reserved fields). */
export function reserved(count: number): Field {
  return zeros(count);
}
