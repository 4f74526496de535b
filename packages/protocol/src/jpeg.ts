import { ProtocolError } from './errors.js';

export interface JpegInfo {
  width: number;
  height: number;
}

function invalid(message: string): ProtocolError {
  // Not fatal: a bad JPEG says nothing about the byte stream it came in.
  return new ProtocolError('INVALID_JPEG', message, { fatal: false });
}

/** SOF0..SOF15 carry the frame size; 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length: TEM and RST0..RST7. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/**
 * Reads width and height from the first SOF segment, walking the marker segments after SOI
 * (APPn such as EXIF, DQT, DHT, COM ... are skipped by their lengths). Only the headers are
 * needed, so a JPEG cut after its SOF still answers; isWholeJpeg checks the ends.
 * Throws INVALID_JPEG when there is no SOI, no SOF before the scan, a segment runs past the end,
 * or the size is zero (a height defined later by DNL is not supported).
 */
export function readJpegInfo(jpeg: Uint8Array): JpegInfo {
  if (jpeg.length < 2 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw invalid('not a JPEG: it does not start with SOI (FF D8)');
  }
  let pos = 2;
  for (;;) {
    if (pos >= jpeg.length) throw invalid('JPEG ends before any SOF marker');
    if (jpeg[pos] !== 0xff) {
      throw invalid(`JPEG has 0x${jpeg[pos]!.toString(16).padStart(2, '0')} at offset ${pos} where a marker was expected`);
    }
    // Any number of 0xFF fill bytes may precede a marker code.
    while (pos < jpeg.length && jpeg[pos] === 0xff) pos++;
    if (pos >= jpeg.length) throw invalid('JPEG ends inside a marker');
    const marker = jpeg[pos]!;
    pos++;
    if (isStandalone(marker)) continue;
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda) {
      throw invalid(`JPEG reaches ${marker === 0xda ? 'its scan (SOS)' : marker === 0xd9 ? 'EOI' : 'a second SOI'} before any SOF marker`);
    }
    if (pos + 2 > jpeg.length) throw invalid('JPEG ends inside a segment length');
    const length = (jpeg[pos]! << 8) | jpeg[pos + 1]!; // includes the two length bytes
    if (length < 2 || pos + length > jpeg.length) {
      throw invalid(`JPEG segment 0xFF${marker.toString(16).toUpperCase()} at offset ${pos - 2} has a bad length ${length}`);
    }
    if (isStartOfFrame(marker)) {
      // Length(2) precision(1) height(2) width(2) components(1) ...
      if (length < 8) throw invalid(`JPEG SOF segment is too short (${length} bytes)`);
      const height = (jpeg[pos + 3]! << 8) | jpeg[pos + 4]!;
      const width = (jpeg[pos + 5]! << 8) | jpeg[pos + 6]!;
      if (width === 0 || height === 0) throw invalid(`JPEG SOF gives a size of ${width}x${height}`);
      return { width, height };
    }
    pos += length;
  }
}

/**
 * True when the buffer starts with SOI (FF D8) and ends with EOI (FF D9). Trailing 0x00 bytes
 * after EOI are allowed because some encoders and cameras pad their output.
 */
export function isWholeJpeg(jpeg: Uint8Array): boolean {
  let end = jpeg.length;
  while (end > 0 && jpeg[end - 1] === 0x00) end--;
  return end >= 4 && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[end - 2] === 0xff && jpeg[end - 1] === 0xd9;
}
