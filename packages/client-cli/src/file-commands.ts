import { copyFile } from 'node:fs/promises';
import { RecorderError, inspect, inspectMp4, repair, repairMp4, type AviInspection, type Mp4Inspection } from '@edgecam/recorder';
import { CliError, ExitCode, errorText, fileError } from './errors.js';
import { jsonText, visibleText } from './peer-text.js';
import { formatBytes } from './record-stats.js';
import { printLine } from './terminal.js';

/**
 * `edgecam info` and `edgecam repair`: thin front ends to @edgecam/recorder's inspect() and
 * repair() (inspectMp4() and repairMp4() for a .mp4). Both exit 0 when the file could be read
 * (info lists problems without failing: it describes, it does not judge) and 5 when it could not
 * be read or is not an MJPEG AVI (or an H.264 MP4). A file may come from a server (`edgecam pull`),
 * so what is read from it (fourccs in the codec and the problems) is shown with visibleText().
 */

const isMp4 = (path: string): boolean => path.toLowerCase().endsWith('.mp4');

export async function infoCommand(path: string, json: boolean): Promise<number> {
  if (isMp4(path)) return mp4Info(path, json);
  const info = await readOrFail(() => inspect(path), 'read', path);
  if (json) {
    printLine(jsonText({ ...info, fps: Math.round(info.fps * 1000) / 1000 }));
    return ExitCode.OK;
  }
  printLine(describe(info));
  if (info.problems.length === 0) {
    printLine('no problems found');
  } else {
    for (const p of info.problems) printLine(`problem ${visibleText(p.code)}: ${visibleText(p.message)}`);
    printLine(`run: edgecam repair ${quoteArg(path)}`);
  }
  return ExitCode.OK;
}

async function mp4Info(path: string, json: boolean): Promise<number> {
  const info = await readOrFail(() => inspectMp4(path), 'read', path);
  if (json) {
    printLine(jsonText({ ...info, fps: Math.round(info.fps * 1000) / 1000 }));
    return ExitCode.OK;
  }
  printLine(describeMp4(info));
  if (info.problems.length === 0) printLine('no problems found');
  else {
    for (const p of info.problems) printLine(`problem ${visibleText(p.code)}: ${visibleText(p.message)}`);
    printLine(`run: edgecam repair ${quoteArg(path)}`);
  }
  return ExitCode.OK;
}

/** An MP4 is repaired in place; with -o, a copy of it is. */
async function mp4Repair(input: string, output: string | undefined): Promise<number> {
  const target = output ?? input;
  if (target !== input) await copyFile(input, target).catch((err: unknown) => {
    throw fileError('write', target, err);
  });
  const r = await readOrFail(() => repairMp4(target), 'repair', input);
  const fixed = r.problems.length > 0 ? `; fixed: ${[...new Set(r.problems.map((p) => p.code))].join(', ')}` : '; it had no problems';
  const dropped = r.droppedBytes > 0 ? `, ${formatBytes(r.droppedBytes)} smaller` : '';
  printLine(`repaired ${target === input ? input : `${input} -> ${target}`}: kept ${r.frames} frames${dropped}${fixed}`);
  return ExitCode.OK;
}

export async function repairCommand(input: string, output: string | undefined): Promise<number> {
  if (isMp4(input)) return mp4Repair(input, output);
  const r = await readOrFail(() => repair(input, output), 'repair', input);
  const fixed = r.problems.length > 0 ? `; fixed: ${[...new Set(r.problems.map((p) => p.code))].join(', ')}` : '; it had no problems';
  const dropped = r.droppedBytes > 0 ? `, left out ${formatBytes(r.droppedBytes)} of an incomplete chunk` : '';
  const where = r.output === r.input ? r.input : `${r.input} -> ${r.output}`;
  printLine(
    `repaired ${where}: kept ${r.frames} frames (${r.riffs} RIFF${r.riffs === 1 ? '' : 's'}, ${fpsText(r.frameRate.num, r.frameRate.den)})${dropped}${fixed}`,
  );
  return ExitCode.OK;
}

function describe(i: AviInspection): string {
  return [
    `${visibleText(i.path)}: ${visibleText(i.codec)} ${i.width}x${i.height}`,
    `${i.frames} frames`,
    fpsText(i.frameRate.num, i.frameRate.den),
    `${i.durationSeconds.toFixed(2)} s`,
    `${i.riffs} RIFF${i.riffs === 1 ? '' : 's'}`,
    i.indexed ? 'indexed' : 'not indexed',
    formatBytes(i.fileBytes),
  ].join(', ');
}

function describeMp4(i: Mp4Inspection): string {
  return [
    `${visibleText(i.path)}: H.264 ${visibleText(i.codec)} ${i.width}x${i.height}`,
    `${i.frames} frames`,
    `${i.fps.toFixed(2)} fps on average`,
    `${i.durationSeconds.toFixed(2)} s`,
    `${i.fragments.length} fragment${i.fragments.length === 1 ? '' : 's'}`,
    i.indexed ? 'indexed' : 'not indexed',
    formatBytes(i.fileBytes),
  ].join(', ');
}

function fpsText(num: number, den: number): string {
  const fps = num / den;
  return `${Number.isInteger(fps) ? fps : fps.toFixed(3)} fps${den !== 1 ? ` (${num}/${den})` : ''}`;
}

function quoteArg(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function readOrFail<T>(run: () => Promise<T>, action: string, path: string): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RecorderError) {
      if (err.errno !== undefined) throw fileError(action, path, { code: err.errno, message: err.message });
      throw new CliError(ExitCode.FILE, err.message, { cause: err });
    }
    throw new CliError(ExitCode.FILE, `could not ${action} ${path}: ${errorText(err)}`, { cause: err });
  }
}
