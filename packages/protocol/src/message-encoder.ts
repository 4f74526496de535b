import {
  DEFAULT_MAX_CONTROL_BYTES,
  FRAME_META_LENGTH,
  MAX_U32,
  MESSAGE_HEADER_LENGTH,
  MessageType,
  PING_DATA_LENGTH,
  type CommandChar,
} from './constants.js';
import { isCommandChar } from './command-encoder.js';
import { ProtocolError } from './errors.js';
import {
  describeIssues,
  errorBodySchema,
  eventBodySchema,
  helloSchema,
  welcomeSchema,
  type ErrorBody,
  type EventBody,
  type Hello,
  type Welcome,
} from './messages.js';
import type { z } from 'zod';

/** Encoders refuse what a decoder would refuse, so we never send a peer something it must reject. */
function invalid(message: string): ProtocolError {
  return new ProtocolError('BAD_PAYLOAD', message, { fatal: false });
}

/** Writes `[u8 type][u32be length]` followed by `payload` into one buffer (control messages are small). */
function message(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_LENGTH + payload.byteLength);
  out[0] = type;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, MESSAGE_HEADER_LENGTH);
  return out;
}

function jsonMessage<T>(type: number, name: string, schema: z.ZodType<T>, value: T): Buffer {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw invalid(`${name} is not valid: ${describeIssues(parsed.error)}`);
  }
  // Serialise the parsed value: it holds exactly the schema's fields, in a stable order.
  const payload = Buffer.from(JSON.stringify(parsed.data), 'utf8');
  if (payload.length > DEFAULT_MAX_CONTROL_BYTES) {
    throw new ProtocolError(
      'MESSAGE_TOO_LARGE',
      `${name} is ${payload.length} bytes of JSON, over the ${DEFAULT_MAX_CONTROL_BYTES}-byte limit peers accept`,
      { fatal: false },
    );
  }
  return message(type, payload);
}

function eightBytes(name: string, data: Uint8Array): Uint8Array {
  if (data.byteLength !== PING_DATA_LENGTH) {
    throw invalid(`${name} data must be exactly ${PING_DATA_LENGTH} bytes, got ${data.byteLength}`);
  }
  return data;
}

/** v2 HELLO (client). The whole message, without the ECAM\x02 magic that precedes the first one. */
export function encodeHello(h: Hello): Buffer {
  return jsonMessage(MessageType.HELLO, 'HELLO', helloSchema, h);
}

/** v2 COMMAND (client): one legacy command byte. */
export function encodeCommandMessage(c: CommandChar): Buffer {
  if (typeof c !== 'string' || !isCommandChar(c)) {
    throw invalid(`${JSON.stringify(c)} is not a command (expected one of 0 1 2 3 q)`);
  }
  return message(MessageType.COMMAND, Buffer.from(c, 'latin1'));
}

/** v2 PING (client): exactly 8 opaque bytes, echoed in the PONG. */
export function encodePing(data: Uint8Array): Buffer {
  return message(MessageType.PING, eightBytes('PING', data));
}

/** v2 WELCOME (server). */
export function encodeWelcome(w: Welcome): Buffer {
  return jsonMessage(MessageType.WELCOME, 'WELCOME', welcomeSchema, w);
}

/** v2 ERROR (server). */
export function encodeErrorMessage(e: ErrorBody): Buffer {
  return jsonMessage(MessageType.ERROR, 'ERROR', errorBodySchema, e);
}

/** v2 EVENT (server): sent only to clients whose HELLO asked for `events`. */
export function encodeEventMessage(e: EventBody): Buffer {
  return jsonMessage(MessageType.EVENT, 'EVENT', eventBodySchema, e);
}

/** v2 PONG (server): the 8 bytes of the PING. */
export function encodePong(data: Uint8Array): Buffer {
  return message(MessageType.PONG, eightBytes('PONG', data));
}

/**
 * v2 FRAME (server): the 17-byte header `[0x82][u32be 12 + N][u32be seq][u64be captureTimeUs]`
 * and the JPEG as given, never copied, for a corked write or writev.
 */
export function encodeFrameMessage(
  seq: number,
  captureTimeUs: number,
  jpeg: Uint8Array,
): [header: Buffer, jpeg: Uint8Array] {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_U32) {
    throw invalid(`FRAME seq must be an integer from 0 to ${MAX_U32}, got ${seq}`);
  }
  if (!Number.isSafeInteger(captureTimeUs) || captureTimeUs < 0) {
    throw invalid(`FRAME captureTimeUs must be a non-negative safe integer, got ${captureTimeUs}`);
  }
  const length = FRAME_META_LENGTH + jpeg.byteLength;
  if (length > MAX_U32) {
    throw new ProtocolError('FRAME_TOO_LARGE', `a frame of ${jpeg.byteLength} bytes does not fit a u32 length`, {
      fatal: false,
    });
  }
  const header = Buffer.allocUnsafe(MESSAGE_HEADER_LENGTH + FRAME_META_LENGTH);
  header[0] = MessageType.FRAME;
  header.writeUInt32BE(length, 1);
  header.writeUInt32BE(seq, 5);
  // u64 as two u32 halves: exact for safe integers and cheaper than a BigInt per frame.
  header.writeUInt32BE(Math.floor(captureTimeUs / 0x1_0000_0000), 9);
  header.writeUInt32BE(captureTimeUs % 0x1_0000_0000, 13);
  return [header, jpeg];
}
