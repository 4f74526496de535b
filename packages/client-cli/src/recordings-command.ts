// `edgecam recordings [HOST[:PORT]]`: what the server has recorded, per camera, as a table or
// JSON, from its HTTP side (http-side.ts finds it). Also the listing `edgecam pull` works from.
// The listing is the server's word: it is checked against a schema before use, and every string
// of it is shown with visibleText().
import type { Logger } from 'pino';
import { z } from 'zod';
import { ExitCode } from './errors.js';
import { httpJson } from './http-client.js';
import { findHttpSide, httpOptions, type HttpSide } from './http-side.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, visibleText } from './peer-text.js';
import { formatBytes } from './record-stats.js';
import { printLine } from './terminal.js';

/**
 * A camera or segment name: also a path segment of the download URL, where `.` and `..` would
 * climb instead of naming (percent-encoding does not stop that).
 */
const pathSegmentSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => s !== '.' && s !== '..', 'a name cannot be . or ..');

/**
 * One segment as the server's GET /recordings lists it (edgecam-server's RecordingEntry). Loose:
 * fields a newer server adds are kept for --json.
 */
const remoteRecordingSchema = z.looseObject({
  camera: pathSegmentSchema,
  file: pathSegmentSchema,
  /** avi or mp4 (servers before MP4 recording list none: their segments are AVI). */
  format: z.enum(['avi', 'mp4']).optional(),
  /** ISO 8601, UTC. */
  start: z.string().max(64),
  end: z.string().max(64),
  startMs: z.number(),
  endMs: z.number(),
  frames: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  fps: z.number().nonnegative(),
  recording: z.boolean(),
  problems: z.array(z.looseObject({ code: z.string(), message: z.string() })),
});
export type RemoteRecording = z.output<typeof remoteRecordingSchema>;

/** GET /recordings: `{ cameras, recordings }`; only `recordings` is used. */
const listingSchema = z.object({ recordings: z.array(remoteRecordingSchema) });

/** The server's segments, oldest first per camera (only --camera's when given). */
export async function listRecordings(g: GlobalOptions, side: HttpSide): Promise<RemoteRecording[]> {
  const url = new URL('recordings', side.base);
  if (g.camera !== undefined) url.searchParams.set('camera', g.camera);
  const body = await httpJson(url, listingSchema, 'an edgecam-server recordings listing', httpOptions(g, side));
  return body.recordings;
}

/** `address`: the command's `[HOST[:PORT]]` (the TCP port), or an http(s):// URL. */
export async function recordingsCommand(g: GlobalOptions, address: string | undefined, o: { json?: boolean }, log: Logger): Promise<number> {
  const list = await listRecordings(g, await findHttpSide(g, address, log, 'recordings'));
  if (o.json) {
    printLine(jsonText(list));
    return ExitCode.OK;
  }
  if (list.length === 0) {
    printLine('no recordings');
    return ExitCode.OK;
  }
  const rows = list.map((r) => [
    visibleText(r.camera),
    visibleText(r.file),
    shortTime(r.start),
    shortTime(r.end),
    String(r.frames),
    formatBytes(r.bytes),
    r.recording ? 'recording' : r.problems.length === 0 ? 'ok' : r.problems.map((p) => visibleText(p.code)).join(','),
  ]);
  printTable(['CAMERA', 'FILE', 'START (UTC)', 'END (UTC)', 'FRAMES', 'SIZE', 'STATE'], rows);
  return ExitCode.OK;
}

function shortTime(iso: string): string {
  return visibleText(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Columns padded to their widest cell; on a pipe, tab-separated so scripts can cut them. */
function printTable(head: string[], rows: string[][]): void {
  if (!process.stdout.isTTY) {
    for (const r of [head, ...rows]) printLine(r.join('\t'));
    return;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) printLine(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}
