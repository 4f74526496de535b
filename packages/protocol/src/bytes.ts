/**
 * Views a Uint8Array as a Buffer without copying, so decoders can hand out Buffer views of what
 * the caller pushed (sockets give Buffers already; tests and browsers may give Uint8Arrays).
 */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Reads a u32 big-endian without bounds checks; callers have checked that 4 bytes are there. */
export function readU32(b: Uint8Array, o: number): number {
  // Multiplying the top byte keeps the result unsigned (a << 24 would go negative).
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
