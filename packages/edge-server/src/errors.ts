// One error class for everything the server itself refuses or fails at (protocol errors on the
// wire stay ProtocolError from @edgecam/protocol). Codes are stable so tests and callers can
// branch on them instead of on message text.
export type EdgeServerErrorCode =
  | 'CONFIG_INVALID' // a flag or EDGECAM_* variable has a value we do not accept
  | 'FFMPEG_NOT_FOUND' // no ffmpeg in EDGECAM_FFMPEG, ffmpeg-static, @ffmpeg-installer or PATH
  | 'MPJPEG_HEADER_TOO_LARGE' // a part's headers did not end within the header limit
  | 'MPJPEG_BAD_LENGTH' // Content-length missing, not a decimal number, or not positive
  | 'FRAME_TOO_LARGE' // a part claims more bytes than maxFrameBytes
  | 'DECODER_FAILED' // input pushed after a fatal error, before reset()
  | 'SOURCE_UNAVAILABLE' // no frame arrived within the time asked for
  | 'SOURCE_ENDED' // the source cannot deliver any more frames (stdin closed)
  | 'SOURCE_NOT_FOUND' // --source names a file that does not exist
  | 'SOURCE_PROTOCOL' // a network camera broke its protocol (text, an oversized or non-JPEG frame, a bad v2 message)
  | 'SOURCE_REFUSED' // a network camera turned us away (its token, camera name, client limit, or a TLS certificate we do not trust)
  | 'HUB_CLOSED' // the capture was shut down while someone waited for a frame
  | 'H264_ENCODER_MISSING' // h264.encoder names an encoder the resolved ffmpeg does not have
  | 'PUBLISH_PROTOCOL_MISSING' // a publish target needs a protocol the resolved ffmpeg lacks (srt://)
  | 'SETTINGS_FIXED' // a camera's source cannot be started anew with other settings (stdin, a source given by code)
  | 'SETTINGS_ABOVE_LIMIT'; // a settings change above the camera's maxSize or maxFps

/** An error with a stable code, for callers that act on the cause. */
export class EdgeServerError extends Error {
  readonly code: EdgeServerErrorCode;

  constructor(code: EdgeServerErrorCode, message: string) {
    super(message);
    this.name = 'EdgeServerError';
    this.code = code;
  }
}
