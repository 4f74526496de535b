// Seed-era servers answer what they do not understand with raw text (`Unknown command`) on the
// frame socket; read as a frame header, `Unkn` is a 1.4 GB length. Client and gateway tell such
// a reply from a frame with this, so the error can quote the text instead of the absurd length.

/** True when the bytes are printable ASCII (plus tab, CR, LF) with at least 3 letters or digits. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length < 3) return false;
  let alnum = 0;
  for (const b of bytes) {
    const printable = (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d;
    if (!printable) return false;
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) alnum++;
  }
  return alnum >= 3;
}
