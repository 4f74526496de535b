/** TCP port of the seed's server, kept so seed clients connect unchanged. */
export const DEFAULT_PORT = 6810;
/** Largest JPEG a decoder accepts by default: far above any camera frame, far below a DoS. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Largest v2 JSON control message (HELLO, WELCOME, ERROR, EVENT) a decoder accepts by default. */
export const DEFAULT_MAX_CONTROL_BYTES = 4096;
/** v1: each frame starts with its length as a u32 big-endian. */
export const FRAME_HEADER_LENGTH = 4;
/** v2: each message starts with a u8 type and a u32 big-endian payload length. */
export const MESSAGE_HEADER_LENGTH = 5;
/** v2 FRAME: u32be sequence number + u64be capture time (microseconds) before the JPEG. */
export const FRAME_META_LENGTH = 12;
/** v2 PING/PONG payload: 8 opaque bytes echoed back. */
export const PING_DATA_LENGTH = 8;
/** Largest value a u32 length field can carry. */
export const MAX_U32 = 0xffff_ffff;

/** What a v2 client sends first. 'E' is not a legacy command, so one byte tells them apart. */
export const V2_MAGIC: Buffer = Buffer.from([0x45, 0x43, 0x41, 0x4d, 0x02]); // 'E' 'C' 'A' 'M' 2

/** Legacy one-byte commands (client to server), also the payload of a v2 COMMAND. */
export const Command = { SINGLE: '0', ACK: '1', BYE: '2', STREAM: '3', STOP: 'q' } as const;
export type CommandChar = '0' | '1' | '2' | '3' | 'q';

/** v2 message types; the high bit says the server sent it. */
export const MessageType = {
  HELLO: 0x01, // client: JSON { token?, client? }
  COMMAND: 0x02, // client: one legacy command byte
  PING: 0x03, // client: 8 opaque bytes
  WELCOME: 0x81, // server: JSON { server, version, width, height, fps, authRequired }
  FRAME: 0x82, // server: u32be seq, u64be captureTimeUs, JPEG
  ERROR: 0x83, // server: JSON { code, message }
  PONG: 0x84, // server: the 8 bytes of the PING
  EVENT: 0x85, // server: JSON { id, camera, type, phase, startedAt, endedAt?, score }
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** A frame as services pass it around (sources emit it; server, recorder, CLI consume it). */
export interface CapturedFrame {
  seq: number;
  captureTimeUs: number;
  jpeg: Buffer;
}
