// The TXT records of an edgecam server, both ways: what `announce` writes and what `browse` reads
// back from any peer. Pure and synchronous. A peer may send anything, so reading caps every count
// and length before it keeps a byte, copies what it keeps (never a view into the packet), and
// checks each field on its own: one bad field is dropped, the rest still count.
import { z } from 'zod';
import { MAX_LABEL_BYTES } from './names.js';

/** A TXT string holds at most 255 bytes: its length is one byte (RFC 6763, 6.1). */
export const MAX_TXT_STRING = 255;
/** What our TXT record may take in all; RFC 6763 (6.2) asks for under 1300 so that a packet stays within an Ethernet frame. */
export const MAX_TXT_BYTES = 1000;
/** Strings of one TXT record read; the rest are ignored. */
export const MAX_TXT_STRINGS = 64;
/** Cameras read from one server's TXT record. */
export const MAX_CAMERAS = 64;
/** The TXT format version (`txtvers=1`). */
export const TXT_VERSION = '1';

/** What the `_edgecam._tcp` TXT record says about a server. */
export interface EdgecamTxt {
  /** The HTTP port, or null when the server serves no HTTP. */
  httpPort: number | null;
  /** Where the HTTP side's page is, `/` by default. */
  path: string;
  /** http or https. */
  scheme: 'http' | 'https';
  /** The TCP port speaks TLS. */
  tls: boolean;
  /** The cameras' names, the default first; as many as fit in the record. */
  cameras: string[];
  /** How many cameras the server has (at least cameras.length). */
  cameraCount: number;
}

/** `key=value` as TXT bytes; the caller keeps each under MAX_TXT_STRING. */
function entry(key: string, value: string): Buffer {
  return Buffer.from(`${key}=${value}`, 'utf8');
}

/**
 * The `_edgecam._tcp` TXT strings: `txtvers=1`, `tls=0|1`, `http=PORT`, `path=`, `scheme=`,
 * `n=COUNT`, then `c0=NAME`, `c1=NAME`... for as many cameras as fit in MAX_TXT_BYTES. Each
 * camera name is at most 63 bytes (checked by the caller), so every string stays under 255.
 */
export function encodeEdgecamTxt(t: EdgecamTxt): Buffer[] {
  const strings = [entry('txtvers', TXT_VERSION), entry('tls', t.tls ? '1' : '0')];
  if (t.httpPort !== null) strings.push(entry('http', String(t.httpPort)), entry('path', t.path), entry('scheme', t.scheme));
  strings.push(entry('n', String(t.cameraCount)));
  let bytes = strings.reduce((n, s) => n + s.length + 1, 0);
  for (const [i, name] of t.cameras.entries()) {
    const s = entry(`c${i}`, name);
    if (bytes + s.length + 1 > MAX_TXT_BYTES || i >= MAX_CAMERAS) break;
    strings.push(s);
    bytes += s.length + 1;
  }
  return strings;
}

/** The `_http._tcp` TXT strings: the page's `path=` (RFC 6763's convention for web services). */
export function encodeHttpTxt(path: string): Buffer[] {
  return [entry('path', path)];
}

/**
 * A TXT record's strings as a map of key to value: keys lowercased (they are case-insensitive),
 * the first of a repeated key wins, strings without `=` or with an empty key are left out, at
 * most MAX_TXT_STRINGS strings are read. Values are copied out as text (bad UTF-8 becomes U+FFFD).
 */
export function readTxt(strings: readonly Uint8Array[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const s of strings.slice(0, MAX_TXT_STRINGS)) {
    if (!(s instanceof Uint8Array) || s.length > MAX_TXT_STRING) continue;
    const eq = s.indexOf(0x3d); // '='
    if (eq <= 0) continue;
    const key = Buffer.from(s.subarray(0, eq)).toString('latin1').toLowerCase();
    if (!map.has(key)) map.set(key, Buffer.from(s.subarray(eq + 1)).toString('utf8'));
  }
  return map;
}

const port = z.string().regex(/^\d{1,5}$/).transform(Number).pipe(z.number().int().min(1).max(65535));
const count = z.string().regex(/^\d{1,6}$/).transform(Number);
// A camera name from a peer: any text that could have been one label; it is shown with control characters visible.
const cameraName = z.string().min(1).refine((s) => Buffer.byteLength(s) <= MAX_LABEL_BYTES);
// A path becomes part of a URL: no spaces or control characters.
const path = z.string().regex(/^\/[^\u0000-\u0020\u007f-\u009f]*$/).max(MAX_TXT_STRING);

/**
 * What a peer's `_edgecam._tcp` TXT record says, each field checked on its own (a bad one is as if
 * absent). Cameras are read as `c0`, `c1`... up to the first gap, at most MAX_CAMERAS.
 */
export function decodeEdgecamTxt(strings: readonly Uint8Array[]): EdgecamTxt {
  const map = readTxt(strings);
  const field = <T>(schema: z.ZodType<T, string>, key: string): T | undefined => {
    const value = map.get(key);
    if (value === undefined) return undefined;
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
  };
  const cameras: string[] = [];
  for (let i = 0; i < MAX_CAMERAS; i++) {
    const name = field(cameraName, `c${i}`);
    if (name === undefined) break;
    cameras.push(name);
  }
  const httpPort = field(port, 'http') ?? null;
  return {
    httpPort,
    path: field(path, 'path') ?? '/',
    scheme: field(z.enum(['http', 'https']), 'scheme') ?? 'http',
    tls: map.get('tls') === '1',
    cameras,
    cameraCount: Math.max(cameras.length, field(count, 'n') ?? 0),
  };
}
