// Fixtures as commented hex: `hex\`09 74787476 // "txtv"\`` is the bytes, comments and spaces dropped.
export function hex(strings: TemplateStringsArray): Buffer {
  const text = strings.raw.join('').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error(`bad hex fixture: ${text}`);
  return Buffer.from(text, 'hex');
}

/** TXT strings as they go on the wire: each one behind its length byte. */
export function wire(strings: readonly Uint8Array[]): Buffer {
  return Buffer.concat(strings.flatMap((s) => [Buffer.from([s.length]), s]));
}

/** The wire form of TXT rdata back into its strings. */
export function unwire(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 1 + bytes[at]!) out.push(bytes.subarray(at + 1, at + 1 + bytes[at]!));
  return out;
}
