import { FRAME_HEADER_LENGTH, MAX_U32 } from './constants.js';
import { ProtocolError } from './errors.js';

/**
 * v1: builds the 4-byte length header of a frame. The JPEG is returned as given, never copied,
 * so a server can `cork(); write(header); write(jpeg); uncork()` or `writev` both.
 */
export function encodeFrame(jpeg: Uint8Array): [header: Buffer, jpeg: Uint8Array] {
  const length = jpeg.byteLength;
  if (length > MAX_U32) {
    throw new ProtocolError('FRAME_TOO_LARGE', `a frame of ${length} bytes does not fit a u32 length`, {
      fatal: false,
    });
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  header.writeUInt32BE(length, 0);
  return [header, jpeg];
}
