import { RecorderError, inspect, repair, type AviInspection } from '@edgecam/recorder';
import { CliError, ExitCode, errorText, fileError } from './errors.js';
import { jsonText, visibleText } from './peer-text.js';
import { formatBytes } from './record-stats.js';
import { printLine } from './terminal.js';

/**
 * `edgecam info` and `edgecam repair`: thin front ends to @edgecam/recorder's inspect() and
 * repair(). Both exit 0 when the file could be read (info lists problems without failing: it
 * describes, it does not judge) and 5 when it could not be read or is not an MJPEG AVI. A file
 * may come from a server (`edgecam pull`), so what is read from it (fourccs in the codec and the
 * problems) is shown with visibleText().
 */

export async function infoCommand(path: string, json: boolean): Promise<number> {
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

export async function repairCommand(input: string, output: string | undefined): Promise<number> {
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
