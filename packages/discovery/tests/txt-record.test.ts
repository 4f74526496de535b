import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeEdgecamTxt, encodeEdgecamTxt, MAX_CAMERAS, MAX_TXT_BYTES, type EdgecamTxt } from '../src/index.js';
import { MAX_TXT_STRING, MAX_TXT_STRINGS, readTxt } from '../src/txt-record.js';
import { hex, unwire, wire } from './support/hex.js';

const TWO_CAMERAS: EdgecamTxt = { httpPort: 8080, path: '/', scheme: 'http', tls: false, cameras: ['front', 'door'], cameraCount: 2 };

// The TXT rdata of a server on 6810 with HTTP on 8080 and two cameras, as it goes on the wire.
const TWO_CAMERAS_WIRE = hex`
  09 74787476657273 3d31   // "txtvers=1"
  05 746c73 3d30           // "tls=0"
  09 68747470 3d38303830   // "http=8080"
  06 70617468 3d2f         // "path=/"
  0b 736368656d65 3d68747470 // "scheme=http"
  03 6e 3d32               // "n=2"
  08 6330 3d66726f6e74     // "c0=front"
  07 6331 3d646f6f72       // "c1=door"
`;

// A server without HTTP, on TLS, with one camera.
const TLS_NO_HTTP: EdgecamTxt = { httpPort: null, path: '/', scheme: 'http', tls: true, cameras: ['default'], cameraCount: 1 };
const TLS_NO_HTTP_WIRE = hex`
  09 74787476657273 3d31   // "txtvers=1"
  05 746c73 3d31           // "tls=1"
  03 6e 3d31               // "n=1"
  0a 6330 3d64656661756c74 // "c0=default"
`;

describe('the edgecam TXT record', () => {
  it.each([
    ['two cameras and HTTP', TWO_CAMERAS, TWO_CAMERAS_WIRE],
    ['TLS without HTTP', TLS_NO_HTTP, TLS_NO_HTTP_WIRE],
  ])('writes %s as the fixture says', (_, txt, bytes) => {
    expect(wire(encodeEdgecamTxt(txt)).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.each([
    ['two cameras and HTTP', TWO_CAMERAS, TWO_CAMERAS_WIRE],
    ['TLS without HTTP', TLS_NO_HTTP, TLS_NO_HTTP_WIRE],
  ])('reads %s back from the fixture', (_, txt, bytes) => {
    expect(decodeEdgecamTxt(unwire(bytes))).toEqual(txt);
  });

  it('lists as many cameras as fit in MAX_TXT_BYTES, and says how many there are', () => {
    const cameras = Array.from({ length: 200 }, (_, i) => `camera-with-a-long-name-${String(i).padStart(3, '0')}`);
    const strings = encodeEdgecamTxt({ ...TWO_CAMERAS, cameras, cameraCount: cameras.length });
    expect(strings.reduce((n, s) => n + s.length + 1, 0)).toBeLessThanOrEqual(MAX_TXT_BYTES);
    for (const s of strings) expect(s.length).toBeLessThanOrEqual(MAX_TXT_STRING);
    const back = decodeEdgecamTxt(strings);
    expect(back.cameraCount).toBe(200);
    expect(back.cameras.length).toBeGreaterThan(10);
    expect(back.cameras).toEqual(cameras.slice(0, back.cameras.length));
  });

  it('round-trips any cameras of up to 63 bytes each', () => {
    const name = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((s) => Buffer.byteLength(s) <= 63);
    fc.assert(
      fc.property(fc.array(name, { maxLength: 10 }), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null }), fc.boolean(), (cameras, httpPort, tls) => {
        const txt: EdgecamTxt = { httpPort, path: '/', scheme: 'http', tls, cameras, cameraCount: cameras.length };
        expect(decodeEdgecamTxt(encodeEdgecamTxt(txt))).toEqual(txt);
      }),
    );
  });
});

describe('a TXT record from a peer', () => {
  it('drops each bad field on its own and keeps the rest', () => {
    const strings = unwire(hex`
      0a 68747470 3d3939393939 // "http=99999": not a port
      07 70617468 3d6162       // "path=ab": no leading slash
      0d 736368656d65 3d676f706865 72 // "scheme=gopher"
      05 746c73 3d31           // "tls=1"
      08 6330 3d66726f6e74     // "c0=front"
    `);
    expect(decodeEdgecamTxt(strings)).toEqual({ httpPort: null, path: '/', scheme: 'http', tls: true, cameras: ['front'], cameraCount: 1 });
  });

  it('refuses a path with spaces or control characters, which would go into a URL', () => {
    for (const bad of ['path=/a b', 'path=/\u001b[31m', 'path=/\u0085']) expect(decodeEdgecamTxt([Buffer.from(bad)]).path).toBe('/');
    expect(decodeEdgecamTxt([Buffer.from('path=/cams/front/')]).path).toBe('/cams/front/');
  });

  it('keeps the first of a repeated key, reads keys in any case, and skips strings without a key', () => {
    const strings = unwire(hex`
      04 4e 3d3131   // "N=11": keys are case-insensitive
      03 6e 3d32     // "n=2": a repeat, ignored
      03 3d7878      // "=xx": no key
      04 6e6f6571    // "noeq": a boolean attribute, no value
      00             // an empty string
      08 6330 3d66726f6e74 // "c0=front"
    `);
    const txt = decodeEdgecamTxt(strings);
    expect(txt.cameraCount).toBe(11);
    expect(txt.cameras).toEqual(['front']);
    expect(readTxt(strings).size).toBe(2);
  });

  it('stops the camera list at the first gap and at MAX_CAMERAS', () => {
    const gap = [Buffer.from('c0=a'), Buffer.from('c2=c')];
    expect(decodeEdgecamTxt(gap).cameras).toEqual(['a']);
    const many = Array.from({ length: MAX_TXT_STRINGS }, (_, i) => Buffer.from(`c${i}=cam${i}`));
    expect(decodeEdgecamTxt(many).cameras).toHaveLength(Math.min(MAX_CAMERAS, MAX_TXT_STRINGS));
  });

  it('reads at most MAX_TXT_STRINGS strings of a huge record', () => {
    const huge = Array.from({ length: 100_000 }, (_, i) => Buffer.from(`k${i}=${'x'.repeat(200)}`));
    expect(readTxt(huge).size).toBe(MAX_TXT_STRINGS);
  });

  it('refuses a camera name longer than a label, and keeps control characters for the caller to show', () => {
    const strings = [Buffer.from(`c0=${'a'.repeat(64)}`)];
    expect(decodeEdgecamTxt(strings).cameras).toEqual([]);
    const sneaky = [Buffer.from('c0=\u001b[31mred')];
    expect(decodeEdgecamTxt(sneaky).cameras).toEqual(['\u001b[31mred']);
  });

  it('copies what it keeps: the packet buffer can be reused', () => {
    const packet = Buffer.from('c0=front');
    const txt = decodeEdgecamTxt([packet.subarray(0)]);
    packet.fill(0x41);
    expect(txt.cameras).toEqual(['front']);
  });

  it('never throws on any bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 80 }), (strings) => {
        const txt = decodeEdgecamTxt(strings);
        expect(txt.cameras.length).toBeLessThanOrEqual(MAX_CAMERAS);
        expect(txt.cameraCount).toBeGreaterThanOrEqual(txt.cameras.length);
      }),
    );
  });
});
