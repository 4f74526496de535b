import { MESSAGE_HEADER_LENGTH, MessageType, V2_MAGIC, type Hello } from '@edgecam/protocol';

/**
 * The opening bytes of a v2 connection (magic + HELLO), in one buffer so they leave in one
 * write: the seed server reads `recv(1024)` and strips it, so the whole opening is one unknown
 * command to it, answered with text, and we reconnect for legacy.
 *
 * A legacy clone that acts on commands byte by byte is the other risk: it would obey a `2` or a
 * `3` sitting in the length field or the client name. So the client name we send has no command
 * characters, and the payload is padded with JSON whitespace (which legacy servers skip too) until
 * no length byte is one. Only a token the user chose can still hold such characters: JSON has no
 * way to write a digit without digit bytes. The README says so.
 *
 * This repeats the few lines of @edgecam/protocol's encodeHello on purpose (it cannot pad); the
 * tests check that the protocol's own decoder reads the result back as the same Hello.
 */

/** Bytes a legacy server acts on: the command characters 0, 1, 2, 3 and q. */
const LEGACY_COMMAND_BYTES = new Set([0x30, 0x31, 0x32, 0x33, 0x71]);

export function isLegacyCommandByte(b: number): boolean {
  return LEGACY_COMMAND_BYTES.has(b);
}

/** What we call ourselves in HELLO: no digits 0-3 and no `q`, see above. */
export const CLIENT_NAME = 'edgecam-cli';

export function encodeSafeHello(hello: Hello): Buffer {
  let json = JSON.stringify(hello);
  const header = Buffer.alloc(MESSAGE_HEADER_LENGTH);
  header[0] = MessageType.HELLO;
  for (;;) {
    header.writeUInt32BE(Buffer.byteLength(json, 'utf8'), 1);
    if (!header.some(isLegacyCommandByte)) break;
    json += ' ';
  }
  return Buffer.concat([V2_MAGIC, header, Buffer.from(json, 'utf8')]);
}
