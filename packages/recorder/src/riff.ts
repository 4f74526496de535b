/**
 * Little-endian field builders and RIFF chunk/list factories, so each AVI structure reads as a
 * list of commented fields (`u32(frames), // dwTotalFrames`). A field can carry a name; assemble()
 * reports where each named field landed, which is how the writer remembers what to patch.
 */

export interface Field {
  readonly bytes: Buffer;
  /** Named fields are reported by assemble() with their absolute offset. */
  readonly name?: string;
}

export function u8(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(1);
  bytes.writeUInt8(value, 0);
  return named(bytes, name);
}

export function u16(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(2);
  bytes.writeUInt16LE(value, 0);
  return named(bytes, name);
}

export function i16(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(2);
  bytes.writeInt16LE(value, 0);
  return named(bytes, name);
}

export function u32(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32LE(value >>> 0, 0);
  return named(bytes, name);
}

export function i32(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeInt32LE(value, 0);
  return named(bytes, name);
}

/** u64 from a JS number (file offsets stay far below 2^53). */
export function u64(value: number, name?: string): Field {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64LE(BigInt(value), 0);
  return named(bytes, name);
}

export function fourcc(code: string, name?: string): Field {
  if (code.length !== 4) throw new Error(`fourcc must be 4 characters: ${JSON.stringify(code)}`);
  return named(Buffer.from(code, 'latin1'), name);
}

export function zeros(length: number, name?: string): Field {
  return named(Buffer.alloc(length), name);
}

/** A chunk: fourcc, u32 size of the data (without pad), data, one 0x00 pad byte if odd. */
export function chunk(id: string, data: readonly Field[], sizeName?: string): Field[] {
  const size = byteLength(data);
  const out: Field[] = [fourcc(id), u32(size, sizeName), ...data];
  if (size & 1) out.push(zeros(1));
  return out;
}

/** A LIST (or RIFF) whose size counts its 4-byte type and children. */
export function list(id: 'LIST' | 'RIFF', type: string, children: readonly Field[], sizeName?: string): Field[] {
  return [fourcc(id), u32(4 + byteLength(children), sizeName), fourcc(type, `${type.trim()}Type`), ...children];
}

export function byteLength(fields: readonly Field[]): number {
  let n = 0;
  for (const f of fields) n += f.bytes.length;
  return n;
}

/** Concatenate fields; named fields' absolute offsets (from `base`) are returned in `at`. */
export function assemble(fields: readonly Field[], base = 0): { bytes: Buffer; at: Map<string, number> } {
  const at = new Map<string, number>();
  let pos = base;
  for (const f of fields) {
    if (f.name !== undefined) at.set(f.name, pos);
    pos += f.bytes.length;
  }
  return { bytes: Buffer.concat(fields.map((f) => f.bytes)), at };
}

function named(bytes: Buffer, name: string | undefined): Field {
  return name === undefined ? { bytes } : { bytes, name };
}
