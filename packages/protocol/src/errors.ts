/**
 * Stable error codes. Other packages switch on `code` and send it in v2 ERROR messages, so a
 * code, once published, never changes meaning.
 */
export type ProtocolErrorCode =
  | 'FRAME_TOO_LARGE' // v1 frame or v2 FRAME JPEG over maxFrameBytes (decided from the header alone)
  | 'MESSAGE_TOO_LARGE' // v2 control message over its per-type limit
  | 'UNKNOWN_MESSAGE_TYPE' // v2 type byte not valid in this direction
  | 'BAD_MAGIC' // connection began with 'E' but not ECAM\x02
  | 'BAD_PAYLOAD' // v2 payload malformed (wrong fixed size, bad JSON, fails the zod schema)
  | 'INVALID_JPEG' // not a whole JPEG (no SOI/EOI, no SOF)
  | 'DECODER_FAILED' // input pushed after a fatal error, before reset()
  | 'TRUNCATED' // the stream ended inside a frame or message (used by the rx operators)
  | 'UNAUTHORIZED' // (used by servers in v2 ERROR) token missing or wrong
  | 'TOO_MANY_CLIENTS'
  | 'HELLO_TIMEOUT'
  | 'IDLE_TIMEOUT' // (servers) a client that neither streams nor sends anything, for too long
  | 'TOO_MANY_MESSAGES' // (servers) control messages far past the per-connection budget
  | 'NOT_STREAMING'
  | 'SOURCE_UNAVAILABLE'
  | 'UNKNOWN_CAMERA'; // (servers) HELLO names a camera the server does not have

export interface ProtocolErrorOptions {
  /** True when the byte stream cannot be trusted any more (the decoder stops until reset()). */
  fatal?: boolean;
  cause?: unknown;
}

/** The one error class of the package: a stable `code` to branch on and a sentence for humans. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  readonly fatal: boolean;

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.fatal = options.fatal ?? true;
  }
}
