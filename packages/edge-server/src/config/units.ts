// Durations and sizes as people write them in a config file (`10m`, `7d`, `20GB`), read into
// milliseconds and bytes; a bad one is refused naming the forms it may take.
import { z } from 'zod';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

// Decimal prefixes as disks are sold (1 GB = 10^9 bytes), binary ones when asked for (GiB).
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, kib: 1024,
  mb: 1e6, mib: 1024 ** 2,
  gb: 1e9, gib: 1024 ** 3,
  tb: 1e12, tib: 1024 ** 4,
};
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;

/** `10m`, `7d`, `500ms`, `2h`, `1w` to milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) return undefined;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2]!]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** `20GB`, `500MB`, `1GiB`, `0B` to bytes; undefined for anything else. */
export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (m === null) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function parsed(parse: (s: string) => number | undefined, expected: string, min: number) {
  return z.string().transform((s, ctx) => {
    const v = parse(s);
    if (v === undefined || v < min) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not ${expected}` });
      return z.NEVER;
    }
    return v;
  });
}

/** A duration of at least `min` ms, written `30s`, `10m`, `2h` or `7d`; its output is milliseconds. */
export const durationText = (min: number) => parsed(parseDuration, 'a duration such as 30s, 10m, 2h or 7d', min);
/** A size of at least `min` bytes, written `500MB`, `20GB` or `1GiB`; its output is bytes. */
export const sizeText = (min: number) => parsed(parseSize, 'a size such as 500MB, 20GB or 1GiB', min);
