// File names built from what a server says (camera and segment names). The server chooses the
// words, never the folder: a name is reduced to [a-z0-9_-], and the path it makes is checked to
// lie inside the folder the user (or the client's default) chose.
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CliError, ExitCode } from './errors.js';

/** Long enough for any real camera or segment name, short of every file system's 255. */
const MAX_NAME = 100;

/**
 * A server's name as a file name part: lower case, each run of anything but a-z, 0-9, `_` and `-`
 * replaced by one `_`, at most 100 characters. `../../escaped/evilcam` becomes `_escaped_evilcam`.
 */
export function safeName(text: string): string {
  const safe = text.toLowerCase().replace(/[^a-z0-9_-]+/g, '_').slice(0, MAX_NAME);
  return safe === '' ? '_' : safe;
}

/** The extensions a segment may keep; anything else is dropped. */
const SEGMENT_EXTENSION = /\.(avi|mjpeg|mjpg)$/i;

/** A segment's file name (`1733070000000_001.avi`) made safe; a known extension is kept, in lower case. */
export function safeSegmentName(file: string): string {
  const ext = SEGMENT_EXTENSION.exec(file);
  const stem = ext === null ? file : file.slice(0, ext.index);
  return ext === null ? safeName(stem) : `${safeName(stem)}.${ext[1]!.toLowerCase()}`;
}

/**
 * `name` joined to `dir`, refused unless the result lies inside `dir` (a safe name always does:
 * this is the check that keeps it so).
 */
export function pathInside(dir: string, name: string): string {
  const path = join(dir, name);
  const rel = relative(resolve(dir), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new CliError(ExitCode.UNEXPECTED, `refusing to write ${JSON.stringify(path)}: it is not inside ${JSON.stringify(dir)}; this is a bug in edgecam, please report it`);
  }
  return path;
}
