/**
 * Stable error codes of the recorder. Callers switch on `code`; messages are for people.
 */
export type RecorderErrorCode =
  | 'INVALID_FRAME' // not a whole JPEG (no SOI/EOI) or no SOF marker; not an Annex-B H.264 picture
  | 'SIZE_MISMATCH' // the frame's width/height (H.264: its SPS/PPS) differ from the recording's first frame
  | 'NOT_KEYFRAME' // H.264: a file, or the stream after a refused unit, must start again at a keyframe
  | 'TOO_LARGE' // frame over maxFrameBytes, or the AVI reached the capacity of its OpenDML index
  | 'QUEUE_FULL' // write() called while the bounded write queue was full (the caller did not await)
  | 'CLOSED' // write() after close() (or after a fatal write error closed the file)
  | 'WRITE_FAILED' // the file system refused a write (ENOSPC, EACCES, EIO...): the file was closed
  | 'INVALID_OPTIONS' // an option out of range, or a file name whose format cannot be told
  | 'NOT_AVI' // inspect/repair: the file is not a RIFF AVI with an MJPEG video stream
  | 'NOT_MP4' // inspectMp4/joinMp4: not a fragmented MP4 with one H.264 track, or nothing to join
  | 'READ_FAILED'; // inspect/repair: the file could not be read

export class RecorderError extends Error {
  override readonly name = 'RecorderError';
  readonly code: RecorderErrorCode;
  /** For WRITE_FAILED / READ_FAILED: the system error code (`ENOSPC`, `EACCES`, `EIO`...). */
  readonly errno: string | undefined;

  constructor(code: RecorderErrorCode, message: string, options?: { cause?: unknown; errno?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = options?.errno;
  }
}

/** The `code` of a Node system error (`ENOSPC`...), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
