// The --source value: testsrc | v4l2:/dev/videoN | file:PATH | stdin | http(s)://… | rtsp(s)://…
// | tcp://… (the seed's camera server) | edgecam(s)://… (another edgecam-server, over v2).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEdgecamUrl, parseSeedUrl, seedUrlText, edgecamUrlText, type EdgecamSpec, type SeedSpec } from './network-url.js';
import { maskUrlPasswords } from './url-credentials.js';

/** A parsed --source value. */
export type SourceSpec =
  | { kind: 'testsrc' }
  | { kind: 'v4l2'; device: string }
  | { kind: 'file'; path: string }
  | { kind: 'stdin' }
  /** An MJPEG stream over HTTP; insecure: accept any TLS certificate (`#insecure` after the URL). */
  | { kind: 'http'; url: string; insecure: boolean }
  /** An RTSP camera, read through ffmpeg; RTP over TCP unless `#udp` follows the URL. */
  | { kind: 'rtsp'; url: string; transport: RtspTransport }
  /** The seed's camera server (`[u32 length][JPEG]` on TCP, driven by one-character commands). */
  | SeedSpec
  /** Another edgecam-server, read over v2 with its capture times. */
  | EdgecamSpec;

/** How RTP reaches us from an RTSP camera: interleaved on the RTSP connection (tcp) or on its own ports (udp). */
export type RtspTransport = 'tcp' | 'udp';

/** The accepted --source forms, for help and error messages. */
export const SOURCE_SYNTAX =
  "testsrc, v4l2:/dev/videoN, file:PATH, stdin, http(s)://HOST/PATH (MJPEG), rtsp(s)://HOST/PATH[#udp], tcp://HOST[:PORT] (the seed's camera server) or edgecam(s)://HOST[:PORT][/CAMERA] (another edgecam-server)";

/** The URL when text is an absolute URL with one of the schemes and a host. */
function networkUrl(text: string, schemes: string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return schemes.includes(url.protocol) && url.hostname !== '' ? url : undefined;
}

/** Parses a --source value; returns undefined when it is none of the accepted forms. */
export function parseSourceSpec(text: string): SourceSpec | undefined {
  if (text === 'testsrc') return { kind: 'testsrc' };
  if (text === 'stdin' || text === '-') return { kind: 'stdin' };
  if (text.startsWith('v4l2:')) {
    const device = text.slice(5);
    return /^\/dev\/\S+$/.test(device) ? { kind: 'v4l2', device } : undefined;
  }
  if (text.startsWith('file:')) {
    const path = text.slice(5);
    return path.length > 0 ? { kind: 'file', path } : undefined;
  }
  const http = networkUrl(text, ['http:', 'https:']);
  if (http) {
    // The fragment never reaches the camera, so it carries our own option.
    if (http.hash !== '' && http.hash !== '#insecure') return undefined;
    const insecure = http.hash === '#insecure';
    http.hash = '';
    return { kind: 'http', url: http.href, insecure };
  }
  const rtsp = networkUrl(text, ['rtsp:', 'rtsps:']);
  if (rtsp) {
    if (rtsp.hash !== '' && rtsp.hash !== '#udp') return undefined;
    const transport = rtsp.hash === '#udp' ? 'udp' : 'tcp';
    rtsp.hash = '';
    return { kind: 'rtsp', url: rtsp.href, transport };
  }
  if (text.startsWith('tcp:')) return parseSeedUrl(text);
  if (text.startsWith('edgecam:') || text.startsWith('edgecams:')) return parseEdgecamUrl(text);
  return undefined;
}

/** Whether the source runs ffmpeg (stdin and the network sources but rtsp split their JPEGs in-process). */
export function needsFfmpeg(spec: SourceSpec): boolean {
  return spec.kind !== 'stdin' && spec.kind !== 'http' && spec.kind !== 'tcp' && spec.kind !== 'edgecam';
}

/** A SourceSpec as it is written on the command line, with any password masked. */
export function formatSourceSpec(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'testsrc':
    case 'stdin':
      return spec.kind;
    case 'v4l2':
      return `v4l2:${spec.device}`;
    case 'file':
      return `file:${spec.path}`;
    case 'http':
      return maskUrlPasswords(spec.url) + (spec.insecure ? '#insecure' : '');
    case 'rtsp':
      return maskUrlPasswords(spec.url) + (spec.transport === 'udp' ? '#udp' : '');
    case 'tcp':
      return seedUrlText(spec);
    case 'edgecam':
      return maskUrlPasswords(edgecamUrlText(spec));
  }
}

/** A SourceSpec as it is written, passwords included: `config check` masks its output as a whole. */
export function sourceSpecText(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'http':
      return spec.url + (spec.insecure ? '#insecure' : '');
    case 'rtsp':
      return spec.url + (spec.transport === 'udp' ? '#udp' : '');
    case 'edgecam':
      return edgecamUrlText(spec);
    default:
      return formatSourceSpec(spec);
  }
}

/** True when nothing is at path (a missing file, or a device not plugged in). */
export function isMissing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/**
 * Why a file: source cannot start, or undefined: the file is not there (unlike a camera, it will
 * not appear later). Relative paths are from the working directory, as ffmpeg opens them.
 */
export function missingSourceFile(spec: SourceSpec): string | undefined {
  if (spec.kind !== 'file' || !isMissing(spec.path)) return undefined;
  return `there is no file at ${resolve(spec.path)}; give the path of an existing video file`;
}
