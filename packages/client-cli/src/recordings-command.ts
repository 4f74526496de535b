// `edgecam recordings HOST[:HTTPPORT]`: what the server has recorded, per camera, as a table or
// JSON. Also the listing `edgecam pull` works from.
import { ExitCode } from './errors.js';
import { httpBase, httpJson } from './http-client.js';
import type { GlobalOptions } from './options.js';
import { visibleText } from './peer-text.js';
import { formatBytes } from './record-stats.js';
import { printLine } from './terminal.js';

/** One segment as the server's GET /recordings lists it. */
export interface RemoteRecording {
  camera: string;
  file: string;
  start: string;
  end: string;
  startMs: number;
  endMs: number;
  frames: number;
  bytes: number;
  fps: number;
  recording: boolean;
  problems: Array<{ code: string; message: string }>;
}

/** The server's segments, oldest first per camera (only `camera`'s when given). */
export async function listRecordings(g: GlobalOptions, target: string, camera: string | undefined): Promise<RemoteRecording[]> {
  const url = new URL('recordings', httpBase(target));
  if (camera !== undefined) url.searchParams.set('camera', camera);
  const body = await httpJson<{ recordings?: RemoteRecording[] }>(url, { token: g.token, timeoutMs: g.timeoutMs });
  return Array.isArray(body.recordings) ? body.recordings : [];
}

export async function recordingsCommand(g: GlobalOptions, target: string, o: { camera?: string; json?: boolean }): Promise<number> {
  const list = await listRecordings(g, target, o.camera);
  if (o.json) {
    printLine(JSON.stringify(list));
    return ExitCode.OK;
  }
  if (list.length === 0) {
    printLine('no recordings');
    return ExitCode.OK;
  }
  const rows = list.map((r) => [
    visibleText(String(r.camera)),
    visibleText(String(r.file)),
    shortTime(r.start),
    shortTime(r.end),
    String(r.frames),
    formatBytes(r.bytes),
    r.recording ? 'recording' : r.problems.length === 0 ? 'ok' : r.problems.map((p) => visibleText(String(p.code))).join(','),
  ]);
  printTable(['CAMERA', 'FILE', 'START (UTC)', 'END (UTC)', 'FRAMES', 'SIZE', 'STATE'], rows);
  return ExitCode.OK;
}

function shortTime(iso: string): string {
  return visibleText(String(iso)).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
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
