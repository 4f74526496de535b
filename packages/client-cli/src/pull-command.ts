// `edgecam pull [HOST[:PORT]] --camera NAME --from T --to T -o out.avi`: a time range of a camera's
// recordings, joined into one file without re-encoding (AVI segments into an AVI, their JPEGs
// copied; MP4 segments into an MP4, their H.264 samples copied) or, with --as-is, the segments
// that cover it as they are, into a directory. File names are built from safe forms of the
// server's names, inside the folder the user chose (or the current one): never where the server says.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createRecorder, joinMp4, readAviIndex, type Recorder } from '@edgecam/recorder';
import { CliError, ExitCode, errorText, fileError } from './errors.js';
import type { Logger } from 'pino';
import { httpGet, type HttpOptions } from './http-client.js';
import { findHttpSide, httpOptions } from './http-side.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, visibleText } from './peer-text.js';
import { formatBytes } from './record-stats.js';
import { listRecordings, type RemoteRecording } from './recordings-command.js';
import { pathInside, safeName, safeSegmentName } from './safe-name.js';
import { clearLiveLine, printLine, setLiveLine } from './terminal.js';

export interface PullFlags {
  from?: string;
  to?: string;
  output?: string;
  asIs?: boolean;
  json?: boolean;
}

/** ISO 8601 or Unix time (seconds, or ms with 12 digits or more) to Unix ms. */
export function parseInstant(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return text.split('.')[0]!.length >= 12 ? Number(text) : Number(text) * 1000;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function instantFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseInstant(text);
  if (ms === undefined) throw new CliError(ExitCode.USAGE, `${flag} ${JSON.stringify(text)} is neither an ISO 8601 time (2026-12-01T17:00:00Z) nor Unix time`);
  return ms;
}

/** `address`: the command's `[HOST[:PORT]]` (the TCP port), or an http(s):// URL. */
export async function pullCommand(g: GlobalOptions, address: string | undefined, o: PullFlags, log: Logger): Promise<number> {
  const from = instantFlag(o.from, '--from', -Infinity);
  const to = instantFlag(o.to, '--to', Infinity);
  if (to <= from) throw new CliError(ExitCode.USAGE, '--to must be later than --from');
  const side = await findHttpSide(g, address, log, 'recordings');
  const all = await listRecordings(g, side);
  const cameras = [...new Set(all.map((r) => r.camera))];
  const camera = g.camera ?? cameras[0];
  if (g.camera === undefined && cameras.length > 1) {
    throw new CliError(ExitCode.USAGE, `the server records ${cameras.length} cameras (${cameras.map(visibleText).join(', ')}): pick one with --camera NAME`);
  }
  const segments = all.filter((r) => r.camera === camera && r.frames > 0 && r.endMs > from && r.startMs <= to);
  if (camera === undefined || segments.length === 0) {
    throw new CliError(ExitCode.FILE, `no recording${camera ? ` of ${visibleText(camera)}` : ''} covers that time range; list them with: edgecam recordings${address !== undefined ? ` ${address}` : ''}`);
  }
  const base = side.base;
  const http = httpOptions(g, side);
  const format = o.asIs ? undefined : joinFormat(segments, o.output);
  // Default names go in the current folder; the server's name only lends them its safe form.
  const start = new Date(Math.max(from, segments[0]!.startMs)).toISOString().replace(/[:.]/g, '-');
  const output = o.output ?? pathInside('.', o.asIs ? `${safeName(camera)}_recordings` : `${safeName(camera)}_${start}.${format}`);
  const progress = new Progress(segments.length, o.json !== true && process.stderr.isTTY === true);
  try {
    const result = o.asIs
      ? await pullAsIs(http, base, segments, output, progress)
      : format === 'mp4'
        ? await pullJoinedMp4(http, base, segments, from, to, output, progress)
        : await pullJoined(http, base, segments, from, to, output, progress);
    progress.done();
    if (o.json) printLine(jsonText({ camera, ...result }));
    else printLine(`saved ${result.output}: ${result.frames} frames from ${result.segments} segment${result.segments === 1 ? '' : 's'}, ${formatBytes(result.bytes)}`);
    return ExitCode.OK;
  } finally {
    progress.done();
  }
}

/** What a segment holds: the server lists it (a server before MP4 did not; its files are AVI). */
function formatOf(s: RemoteRecording): 'avi' | 'mp4' {
  return s.format === 'mp4' || (s.format === undefined && s.file.toLowerCase().endsWith('.mp4')) ? 'mp4' : 'avi';
}

/** The one format the segments join into, or a refusal saying what to do instead. */
function joinFormat(segments: readonly RemoteRecording[], output: string | undefined): 'avi' | 'mp4' {
  const formats = new Set(segments.map(formatOf));
  if (formats.size > 1) {
    throw new CliError(ExitCode.USAGE, 'the range holds AVI and MP4 segments (the camera changed its record.format): pull each stretch with its own --from/--to, or the segments as they are with --as-is');
  }
  const format = formats.has('mp4') ? 'mp4' : 'avi';
  const ext = output?.toLowerCase().match(/\.(avi|mp4)$/)?.[1];
  if (ext !== undefined && ext !== format) {
    throw new CliError(ExitCode.USAGE, `these segments are ${format.toUpperCase()} and join into an ${format.toUpperCase()} file without re-encoding: name the output .${format}`);
  }
  return format;
}

interface PullResult {
  output: string;
  segments: number;
  frames: number;
  bytes: number;
}

async function pullAsIs(http: HttpOptions, base: URL, segments: RemoteRecording[], dir: string, progress: Progress): Promise<PullResult> {
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw fileError('create', dir, err);
  });
  let bytes = 0;
  let frames = 0;
  const used = new Set<string>();
  for (const s of segments) {
    const path = pathInside(dir, uniqueName(`${safeName(s.camera)}_${safeSegmentName(s.file)}`, used));
    bytes += await download(http, base, s, path, progress);
    frames += s.frames;
    progress.segmentDone();
  }
  return { output: dir, segments: segments.length, frames, bytes };
}

async function pullJoined(http: HttpOptions, base: URL, segments: RemoteRecording[], from: number, to: number, output: string, progress: Progress): Promise<PullResult> {
  const tmp = await mkdtemp(join(dirname(output) || '.', `.${basename(output)}.pull-`)).catch((err: unknown) => {
    throw fileError('write beside', output, err);
  });
  let recorder: Recorder | undefined;
  let frames = 0;
  try {
    for (const s of segments) {
      const part = join(tmp, 'segment.avi');
      await download(http, base, s, part, progress);
      const index = await readAviIndex(part);
      recorder ??= createRecorder(output, { frameRate: index.frameRate, format: 'avi' });
      const periodMs = (1000 * index.frameRate.den) / index.frameRate.num;
      const fh = await open(part, 'r');
      try {
        for (let i = 0; i < index.frames.length; i++) {
          const t = s.startMs + i * periodMs;
          if (t < from) continue;
          if (t > to) break;
          const ref = index.frames[i]!;
          const jpeg = Buffer.allocUnsafe(ref.size);
          await fh.read(jpeg, 0, ref.size, ref.offset);
          await recorder.write(jpeg);
          frames++;
        }
      } finally {
        await fh.close();
      }
      await rm(part, { force: true });
      progress.segmentDone();
    }
    const summary = await recorder!.close();
    if (summary.error) throw fileError('write', output, summary.error);
    if (frames === 0) throw new CliError(ExitCode.FILE, 'the segments hold no frame inside that time range');
    return { output, segments: segments.length, frames, bytes: summary.files.reduce((n, f) => n + f.bytes, 0) };
  } catch (err) {
    await recorder?.close().catch(() => undefined);
    throw err instanceof CliError ? err : new CliError(ExitCode.FILE, `could not join the segments into ${output}: ${errorText(err)}`, { cause: err });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** MP4 segments: downloaded beside the output, then their samples in the range copied into one MP4. */
async function pullJoinedMp4(http: HttpOptions, base: URL, segments: RemoteRecording[], from: number, to: number, output: string, progress: Progress): Promise<PullResult> {
  const tmp = await mkdtemp(join(dirname(output) || '.', `.${basename(output)}.pull-`)).catch((err: unknown) => {
    throw fileError('write beside', output, err);
  });
  try {
    const inputs = [];
    for (const [i, s] of segments.entries()) {
      const part = join(tmp, `${i}.mp4`);
      await download(http, base, s, part, progress);
      inputs.push({ path: part, startMs: s.startMs });
      progress.segmentDone();
    }
    const plan = await joinMp4(inputs, output, { ...(Number.isFinite(from) ? { fromMs: from } : {}), ...(Number.isFinite(to) ? { toMs: to } : {}) });
    return { output, segments: segments.length, frames: plan.frames, bytes: plan.size };
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as { code?: string }).code === 'NOT_MP4') throw new CliError(ExitCode.FILE, `the segments hold no frame inside that time range (${errorText(err)})`, { cause: err });
    throw new CliError(ExitCode.FILE, `could not join the segments into ${output}: ${errorText(err)}`, { cause: err });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Download one segment to `path`; returns its bytes. */
async function download(http: HttpOptions, base: URL, s: RemoteRecording, path: string, progress: Progress): Promise<number> {
  const url = new URL(`recordings/${encodeURIComponent(s.camera)}/${encodeURIComponent(s.file)}`, base);
  const res = await httpGet(url, http);
  let n = 0;
  res.on('data', (c: Buffer) => {
    n += c.length;
    progress.bytes(c.length);
  });
  try {
    await pipeline(res, createWriteStream(path));
  } catch (err) {
    throw new CliError(ExitCode.CONNECTION, `downloading ${visibleText(s.file)} failed after ${formatBytes(n)}: ${errorText(err)}`, { cause: err });
  }
  return n;
}

/** `name`, or `name-2`, `name-3`… before its extension when two segments' safe names collide. */
function uniqueName(name: string, used: Set<string>): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot === -1 ? [name, ''] : [name.slice(0, dot), name.slice(dot)];
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${stem}-${n}${ext}`;
  used.add(candidate);
  return candidate;
}

/** The live line on a TTY: segments done and bytes downloaded. */
class Progress {
  private done_ = 0;
  private bytes_ = 0;
  private lastDraw = 0;

  constructor(private readonly total: number, private readonly live: boolean) {}

  bytes(n: number): void {
    this.bytes_ += n;
    const now = performance.now();
    if (now - this.lastDraw > 200) this.draw(now);
  }

  segmentDone(): void {
    this.done_++;
    this.draw(performance.now());
  }

  done(): void {
    if (this.live) clearLiveLine();
  }

  private draw(now: number): void {
    this.lastDraw = now;
    if (this.live) setLiveLine(`pulling: ${this.done_}/${this.total} segments, ${formatBytes(this.bytes_)}`);
  }
}
