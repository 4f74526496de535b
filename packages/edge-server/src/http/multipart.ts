// The bytes of GET /stream.mjpg: multipart/x-mixed-replace, one JPEG per part.
//
// Two clients want two different things, and no single byte order gives both:
//
// - Chromium (and WebKit) shows a part only when the NEXT part's boundary *and its complete
//   header block* have arrived (Blink's MultipartImageResourceParser finishes the previous image
//   in OnePartInMultipartReceived, called once the next headers parse). It never reads
//   Content-Length. If we only sent the next headers together with the next frame, a browser
//   would always show the frame before the newest one: a whole frame interval late, a second at
//   `?fps=1`, and forever when the source stalls.
// - ffmpeg, VLC, Python clients and most NVRs read each part by its Content-Length. ffmpeg 4.x
//   in particular cannot do without it: its boundary search for parts without a length loses
//   its place on a live stream ("Expected boundary '--' not found").
//
// The next part's Content-Length is unknown until the next frame exists, so headers that carry
// it cannot be sent right after the previous frame. Hence two layouts of the same stream:
//
// 'length-prefixed' (default, every non-browser client): the boundary goes out before the first
//   frame (ffmpeg's mpjpeg probe rejects a stream that does not start with `--`), and the next
//   boundary right after each frame, so a reader never waits for bytes it needs to end a part:
//
//     --B CRLF                                             (when the response starts)
//     Content-Type: image/jpeg CRLF Content-Length: N CRLF CRLF <N bytes of JPEG> CRLF --B CRLF
//     Content-Type: image/jpeg CRLF Content-Length: M CRLF CRLF <M bytes of JPEG> CRLF --B CRLF
//     ...
//
// 'headers-ahead' (browsers: a User-Agent with `Mozilla/`): the boundary AND the next part's
//   whole header block go out right after each frame (and before the first), so the browser can
//   finish and show the frame the moment its last byte arrives. The parts carry no
//   Content-Length (browsers find the end of a part by the boundary, as RFC 2046 intends):
//
//     --B CRLF Content-Type: image/jpeg CRLF CRLF          (when the response starts)
//     <JPEG> CRLF --B CRLF Content-Type: image/jpeg CRLF CRLF
//     <JPEG> CRLF --B CRLF Content-Type: image/jpeg CRLF CRLF
//     ...
//
// Either way a frame is written as [prefix, jpeg, suffix] without copying the JPEG.
import type { CapturedFrame } from '@edgecam/protocol';
import { oncePerFrame } from '../per-frame.js';

/** Long and unusual, so it practically never occurs inside JPEG entropy-coded data. */
export const BOUNDARY = 'edgecam-mjpeg-boundary-8e3c1f';

export const STREAM_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

export type PartLayout = 'length-prefixed' | 'headers-ahead';

const CRLF = '\r\n';
const DELIMITER = `--${BOUNDARY}${CRLF}`;
const JPEG_PART_TYPE = `Content-Type: image/jpeg${CRLF}`;
/** The next part's boundary and complete headers: what a browser waits for to show a frame. */
const HEADERS_AHEAD = Buffer.from(`${DELIMITER}${JPEG_PART_TYPE}${CRLF}`, 'latin1');
/** Ends a part's body: CRLF belongs to the delimiter that follows (RFC 2046 5.1.1). */
const AFTER_FRAME_LENGTH_PREFIXED = Buffer.from(`${CRLF}${DELIMITER}`, 'latin1');
const AFTER_FRAME_HEADERS_AHEAD = Buffer.concat([Buffer.from(CRLF, 'latin1'), HEADERS_AHEAD]);
const EMPTY = Buffer.alloc(0);

/** Browsers show a part late unless its successor's headers follow it (see the top of this file). */
export function layoutForUserAgent(userAgent: string | undefined): PartLayout {
  return userAgent !== undefined && userAgent.includes('Mozilla/') ? 'headers-ahead' : 'length-prefixed';
}

/** What the response body starts with, before any frame is known. */
export function streamPreamble(layout: PartLayout): Buffer {
  return layout === 'headers-ahead' ? HEADERS_AHEAD : Buffer.from(DELIMITER, 'latin1');
}

const HEADERS_AHEAD_PART = { prefix: EMPTY, suffix: AFTER_FRAME_HEADERS_AHEAD };
// The part headers depend only on the frame: built once per frame, shared by every viewer.
const lengthPrefixedPart = oncePerFrame((frame) => ({
  prefix: Buffer.from(`${JPEG_PART_TYPE}Content-Length: ${frame.jpeg.length}${CRLF}${CRLF}`, 'latin1'),
  suffix: AFTER_FRAME_LENGTH_PREFIXED,
}));

/** The bytes written before and after one JPEG (shared: never mutate them); the JPEG goes between, uncopied. */
export function framePart(layout: PartLayout, frame: CapturedFrame): { readonly prefix: Buffer; readonly suffix: Buffer } {
  return layout === 'headers-ahead' ? HEADERS_AHEAD_PART : lengthPrefixedPart(frame);
}

/**
 * Ends the stream cleanly when the server shuts down. Both layouts have just opened a part, so
 * it is closed empty: 'length-prefixed' still owes that part's (empty) header block, one CRLF;
 * then comes the close delimiter, CRLF --B--.
 */
export function streamEpilogue(layout: PartLayout): Buffer {
  const headerEnd = layout === 'headers-ahead' ? '' : CRLF;
  return Buffer.from(`${headerEnd}${CRLF}--${BOUNDARY}--${CRLF}`, 'latin1');
}
