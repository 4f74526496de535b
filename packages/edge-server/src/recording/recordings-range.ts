// What the recordings' query strings and headers name: a byte range (Range) and an instant
// (from=, to=), read by the download, replay and recording.mp4 routes alike.

/**
 * One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`; undefined (the whole file) for no header,
 * several ranges or one we do not read; 'unsatisfiable' for one that starts past the end.
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return [start, end];
}

/** What `from` and `to` may be, for refusals. */
export const INSTANT_FORMS = 'an ISO 8601 time (2026-12-01T17:00:00Z, 2026-12-01T18:00:00+01:00, 2026-12-01) or Unix time in seconds, or in ms with 12 digits or more';
// Date.parse alone would take "-5" or " 12" as some day in 2001.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
/** The last instant a Date holds; past it no time can be named (toISOString throws). */
const MAX_DATE_MS = 8.64e15;

/** `from` as Unix ms: one of INSTANT_FORMS, else undefined. */
export function parseInstant(text: string | null): number | undefined {
  if (text === null) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    ms = text.split('.')[0]!.length >= 12 ? n : n * 1000;
  } else if (ISO_8601.test(text)) ms = Date.parse(text);
  else return undefined;
  return Number.isFinite(ms) && ms <= MAX_DATE_MS ? ms : undefined;
}

