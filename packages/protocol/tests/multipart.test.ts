import { describe, expect, it } from 'vitest';
import {
  MULTIPART_BOUNDARY,
  MULTIPART_CONTENT_TYPE,
  choosePartLayout,
  multipartEpilogue,
  multipartPart,
  multipartPreamble,
  writeMultipartFrame,
  type PartLayout,
} from '../src/index.js';

const B = MULTIPART_BOUNDARY;

/** The whole body for two JPEGs and a clean end, as a reader would receive it. */
function body(layout: PartLayout, jpegs: string[]): string {
  let out = multipartPreamble(layout).toString('latin1');
  for (const j of jpegs) {
    const { prefix, suffix } = multipartPart(layout, j.length);
    out += prefix.toString('latin1') + j + suffix.toString('latin1');
  }
  return out + multipartEpilogue(layout).toString('latin1');
}

describe('multipart framing', () => {
  it('names the boundary in the content type', () => {
    expect(MULTIPART_CONTENT_TYPE).toBe(`multipart/x-mixed-replace; boundary=${B}`);
  });

  it('length-prefixed: each part carries its Content-Length and the boundary follows each frame', () => {
    expect(body('length-prefixed', ['AAA', 'BB'])).toBe(
      `--${B}\r\n` +
        'Content-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nAAA\r\n' +
        `--${B}\r\n` +
        'Content-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nBB\r\n' +
        `--${B}\r\n` +
        `\r\n\r\n--${B}--\r\n`,
    );
  });

  it('headers-ahead: the next part header block follows each frame, with no length', () => {
    expect(body('headers-ahead', ['AAA', 'BB'])).toBe(
      `--${B}\r\nContent-Type: image/jpeg\r\n\r\n` +
        `AAA\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n` +
        `BB\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n` +
        `\r\n--${B}--\r\n`,
    );
  });

  it('says when each frame was taken in a length-prefixed part, when asked, and never ahead of the frame', () => {
    const at = Date.UTC(2026, 10, 30, 12, 0, 1, 250);
    expect(multipartPart('length-prefixed', 3, at).prefix.toString('latin1')).toBe(
      'Content-Type: image/jpeg\r\nContent-Length: 3\r\nX-Timestamp: 1796040001.250\r\n\r\n',
    );
    expect(multipartPart('headers-ahead', 3, at)).toEqual(multipartPart('headers-ahead', 3));
  });

  it.each([
    ['1', undefined, 'headers-ahead'],
    ['true', 'curl/8', 'headers-ahead'],
    ['0', 'Mozilla/5.0', 'length-prefixed'],
    [null, 'Mozilla/5.0 (X11)', 'headers-ahead'],
    [null, 'Lavf/58.20.100', 'length-prefixed'],
    [undefined, undefined, 'length-prefixed'],
  ] as const)('advance_headers=%s with User-Agent %s gives %s', (q, ua, layout) => {
    expect(choosePartLayout(q, ua)).toBe(layout);
  });

  it('writes a part as prefix, the JPEG itself and suffix inside one cork, skipping an empty prefix', () => {
    const calls: unknown[] = [];
    const out = {
      cork: () => calls.push('cork'),
      write: (chunk: Uint8Array) => {
        calls.push(Buffer.from(chunk).toString('latin1'));
        return true;
      },
      uncork: () => calls.push('uncork'),
    };
    const jpeg = Buffer.from('JPEG');
    const part = multipartPart('length-prefixed', jpeg.length);
    expect(writeMultipartFrame(out, part, jpeg)).toBe(true);
    expect(calls).toEqual(['cork', part.prefix.toString('latin1'), 'JPEG', part.suffix.toString('latin1'), 'uncork']);
    calls.length = 0;
    const ahead = multipartPart('headers-ahead', jpeg.length);
    writeMultipartFrame(out, ahead, jpeg);
    expect(calls).toEqual(['cork', 'JPEG', ahead.suffix.toString('latin1'), 'uncork']);
  });
});
