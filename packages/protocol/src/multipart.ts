// The bytes of an MJPEG HTTP stream: multipart/x-mixed-replace, one JPEG per part.
//
// Two kinds of reader want two different byte orders:
//
// - Chromium (and WebKit) shows a part only when the NEXT part's boundary *and its complete
//   header block* have arrived (Blink's MultipartImageResourceParser finishes an image once the
//   next headers parse) and never reads Content-Length. Sending the next headers only with the
//   next frame would show every frame one interval late, and forever when the source stalls.
// - ffmpeg, VLC, Python clients and most NVRs read each part by its Content-Length; ffmpeg 4.x
//   loses its place on a live stream without it.
//
// The next part's length is unknown until the next frame exists, hence two layouts:
//
// 'length-prefixed' (the default for non-browsers): the boundary before the first frame (ffmpeg's
//   probe wants a stream that starts with `--`) and right after each frame:
//     --B CRLF
//     Content-Type: image/jpeg CRLF Content-Length: N CRLF CRLF <JPEG> CRLF --B CRLF
//
// 'headers-ahead' (browsers; µStreamer's `?advance_headers=1`): the boundary AND the next part's
//   whole header block right after each frame, without Content-Length (RFC 2046 ends a part at
//   its boundary):
//     --B CRLF Content-Type: image/jpeg CRLF CRLF
//     <JPEG> CRLF --B CRLF Content-Type: image/jpeg CRLF CRLF
//
// Either way a frame is written as [prefix, jpeg, suffix] without copying the JPEG.

/** Long and unusual, so it practically never occurs inside JPEG entropy-coded data. */
export const MULTIPART_BOUNDARY = 'edgecam-mjpeg-boundary-8e3c1f';

export const MULTIPART_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${MULTIPART_BOUNDARY}`;

export type PartLayout = 'length-prefixed' | 'headers-ahead';

/** The bytes written before and after one JPEG; shared, so never mutate them. */
export interface PartFrame {
  readonly prefix: Buffer;
  readonly suffix: Buffer;
}

const CRLF = '\r\n';
const DELIMITER = `--${MULTIPART_BOUNDARY}${CRLF}`;
const JPEG_PART_TYPE = `Content-Type: image/jpeg${CRLF}`;
/** The next part's boundary and complete headers: what a browser waits for to show a frame. */
const HEADERS_AHEAD = Buffer.from(`${DELIMITER}${JPEG_PART_TYPE}${CRLF}`, 'latin1');
/** Ends a part's body: the CRLF belongs to the delimiter that follows (RFC 2046 5.1.1). */
const AFTER_FRAME_LENGTH_PREFIXED = Buffer.from(`${CRLF}${DELIMITER}`, 'latin1');
const HEADERS_AHEAD_PART: PartFrame = {
  prefix: Buffer.alloc(0),
  suffix: Buffer.concat([Buffer.from(CRLF, 'latin1'), HEADERS_AHEAD]),
};

/**
 * The layout a viewer asked for with `?advance_headers=1` (or `=0`), as µStreamer takes it;
 * without the parameter, browsers (a `Mozilla/` User-Agent) get 'headers-ahead'.
 */
export function choosePartLayout(advanceHeaders: string | null | undefined, userAgent: string | undefined): PartLayout {
  if (advanceHeaders === '1' || advanceHeaders === 'true') return 'headers-ahead';
  if (advanceHeaders === '0' || advanceHeaders === 'false') return 'length-prefixed';
  return userAgent !== undefined && userAgent.includes('Mozilla/') ? 'headers-ahead' : 'length-prefixed';
}

/** What the response body starts with, before any frame is known. */
export function multipartPreamble(layout: PartLayout): Buffer {
  return layout === 'headers-ahead' ? HEADERS_AHEAD : Buffer.from(DELIMITER, 'latin1');
}

/**
 * The bytes around one JPEG of `jpegLength` bytes, in the given layout. With `timestampMs` (Unix
 * ms), a length-prefixed part also says when its frame was taken, as µStreamer does:
 * `X-Timestamp: <seconds>.<ms>`. A headers-ahead part's headers leave before its frame is known,
 * so they never carry one.
 */
export function multipartPart(layout: PartLayout, jpegLength: number, timestampMs?: number): PartFrame {
  if (layout === 'headers-ahead') return HEADERS_AHEAD_PART;
  const stamp = timestampMs === undefined ? '' : `X-Timestamp: ${(timestampMs / 1000).toFixed(3)}${CRLF}`;
  return {
    prefix: Buffer.from(`${JPEG_PART_TYPE}Content-Length: ${jpegLength}${CRLF}${stamp}${CRLF}`, 'latin1'),
    suffix: AFTER_FRAME_LENGTH_PREFIXED,
  };
}

/** Where a part is written: an http.ServerResponse, or any Node Writable. */
export interface PartWriter {
  cork(): void;
  write(chunk: Uint8Array): boolean;
  uncork(): void;
}

/**
 * Writes one JPEG as a part: `part.prefix`, the JPEG itself (never copied), `part.suffix`, corked
 * so they leave in one writev. Returns the last write()'s answer: false means wait for 'drain'.
 */
export function writeMultipartFrame(out: PartWriter, part: PartFrame, jpeg: Uint8Array): boolean {
  out.cork();
  if (part.prefix.length > 0) out.write(part.prefix);
  out.write(jpeg);
  const flushed = out.write(part.suffix);
  out.uncork();
  return flushed;
}

/**
 * Ends a stream cleanly. Both layouts have just opened a part, so it is closed empty:
 * 'length-prefixed' still owes that part's (empty) header block, one CRLF; then CRLF --B--.
 */
export function multipartEpilogue(layout: PartLayout): Buffer {
  const headerEnd = layout === 'headers-ahead' ? '' : CRLF;
  return Buffer.from(`${headerEnd}${CRLF}--${MULTIPART_BOUNDARY}--${CRLF}`, 'latin1');
}
