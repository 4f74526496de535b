// The public API of @edgecam/protocol: codecs, messages, limits and errors. The RxJS operators
// live in the './rx' subpath, so the codecs load without rxjs (a peer dependency only './rx' uses).
export { ProtocolError, type ProtocolErrorCode, type ProtocolErrorOptions } from './errors.js';
export {
  Command,
  DEFAULT_MAX_CONTROL_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PORT,
  FRAME_HEADER_LENGTH,
  FRAME_META_LENGTH,
  MESSAGE_HEADER_LENGTH,
  MessageType,
  PING_DATA_LENGTH,
  V2_MAGIC,
  type CapturedFrame,
  type CommandChar,
  type MessageTypeValue,
} from './constants.js';
export { encodeFrame } from './frame-encoder.js';
export { encodeCommands, isCommandChar } from './command-encoder.js';
export { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js';
export { CommandDecoder, type CommandEvent } from './command-decoder.js';
export type { ClientMessage, ErrorBody, EventBody, Hello, ServerMessage, Welcome, WelcomeHttp, WelcomeSource } from './messages.js';
export { isFatalErrorCode } from './messages.js';
export {
  encodeCommandMessage,
  encodeErrorMessage,
  encodeEventMessage,
  encodeFrameMessage,
  encodeHello,
  encodePing,
  encodePong,
  encodeWelcome,
} from './message-encoder.js';
export { ClientMessageDecoder, ServerMessageDecoder, type MessageDecoderOptions } from './message-decoder.js';
export { detectProtocol } from './detect-protocol.js';
export { isWholeJpeg, readJpegInfo, type JpegInfo } from './jpeg.js';
export {
  MULTIPART_BOUNDARY,
  MULTIPART_CONTENT_TYPE,
  choosePartLayout,
  multipartEpilogue,
  multipartPart,
  multipartPreamble,
  writeMultipartFrame,
  type PartFrame,
  type PartLayout,
  type PartWriter,
} from './multipart.js';
