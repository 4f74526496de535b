/**
 * File names of a recording: the path may hold tokens, expanded when each file (segment) opens.
 *
 *   {index}      the segment number, from 1          {index:3}  zero-padded to 3 digits: 001
 *   {unixms}     Unix time in milliseconds           %Y %m %d %H %M %S  local date and time
 *   %%           a literal %
 *
 * A segmented recording whose pattern has no {index} gets `_{index:3}` before the extension
 * (`rec.avi` -> `rec_001.avi`, `rec_002.avi`), so two segments never share a name.
 */
import { extname } from 'node:path';
import type { RecordingFormat } from './file-writer.js';

const INDEX_TOKEN = /\{index(?::(\d{1,2}))?\}/g;

export function expandFileName(pattern: string, index: number, date: Date, segmented: boolean): string {
  let p = pattern;
  if (segmented && !/\{index(?::\d{1,2})?\}/.test(p)) {
    const ext = extname(p);
    p = `${p.slice(0, p.length - ext.length)}_{index:3}${ext}`;
  }
  const two = (n: number): string => String(n).padStart(2, '0');
  return p
    .replace(INDEX_TOKEN, (_m, width: string | undefined) => String(index).padStart(width ? Number(width) : 0, '0'))
    .replace(/\{unixms\}/g, String(date.getTime()))
    .replace(/%([YmdHMS%])/g, (_m, t: string) => {
      switch (t) {
        case 'Y': return String(date.getFullYear());
        case 'm': return two(date.getMonth() + 1);
        case 'd': return two(date.getDate());
        case 'H': return two(date.getHours());
        case 'M': return two(date.getMinutes());
        case 'S': return two(date.getSeconds());
        default: return '%';
      }
    });
}

/** The format a file name asks for: .avi, .mjpeg/.mjpg or .mp4; undefined for anything else. */
export function formatFromName(pattern: string): RecordingFormat | undefined {
  const ext = extname(pattern).toLowerCase();
  if (ext === '.avi') return 'avi';
  if (ext === '.mp4') return 'mp4';
  if (ext === '.mjpeg' || ext === '.mjpg') return 'mjpeg';
  return undefined;
}
