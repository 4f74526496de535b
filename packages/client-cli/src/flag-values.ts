import { z } from 'zod';
import { usageError } from './errors.js';

/**
 * Flag values arrive as strings (from argv or EDGECAM_* variables); these schemas turn them into
 * typed values. Each failure becomes one usage error that names the flag (or the variable the
 * value came from) and what it accepts. The global flags' own schemas are in global-options.ts.
 */

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** `10`, `10s`, `1.5m`, `500ms`, `2h` to milliseconds; a bare number is in `defaultUnit`. */
export function parseDurationMs(text: string, defaultUnit: 'ms' | 's' = 's'): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2] ?? defaultUnit]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

// Decimal prefixes as disks are sold (1 GB = 10^9 bytes), binary ones when asked for (GiB).
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1e3, kb: 1e3, kib: 1024,
  m: 1e6, mb: 1e6, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, tib: 1024 ** 4,
};
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** `1GB`, `500MB`, `1GiB`, `64k`, `1000000` to bytes. */
export function parseSizeBytes(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (m === null) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? '').toLowerCase() || 'b'];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A zod schema for a string flag, with the words shown after "expected" when it fails. */
export function flagValue<T>(parse: (s: string) => T | undefined, ok: (v: T) => boolean, expected: string): z.ZodType<T, string> {
  return z.string().transform((s, ctx) => {
    const v = parse(s);
    if (v === undefined || !ok(v)) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return v;
  });
}

/** Plain digits only, so that `1e3`, `+5` or `0x10` are refused rather than guessed at. */
export const intText = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined);

export const framesSchema = flagValue(intText, (n) => n >= 1 && Number.isSafeInteger(n), 'a whole number of frames, 1 or more');
export const durationSchema = flagValue(
  (s) => parseDurationMs(s, 's'),
  (ms) => ms > 0,
  'a duration above 0 such as 10s, 1.5m, 2h or 500ms (a bare number is seconds)',
);
export const sizeSchema = flagValue(
  parseSizeBytes,
  (b) => b >= 1024,
  'a size of at least 1 KiB such as 1GB, 500MB, 1GiB or 64kB',
);

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:8090`, `[::1]:8090`, `:8090` (loopback) or `8090`; port 0 picks a free one. */
export function parseListen(text: string): ListenAddress | undefined {
  const s = text.trim();
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] || m[2] || '127.0.0.1';
  return { host, port };
}
export const listenSchema = flagValue(parseListen, () => true, 'HOST:PORT such as 127.0.0.1:8090 (port 0 picks a free one)');

/** Where a value came from, as commander says (`cli`, `env`, `default`), to name it in an error. */
export type ValueSource = string | undefined;

/** Parses one flag value, or throws a usage error naming the flag (or its variable) and what it accepts. */
export function parseFlag<T>(
  schema: z.ZodType<T, string>,
  value: string,
  flagName: string,
  source?: ValueSource,
  envName?: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const where = source === 'env' && envName !== undefined ? `${envName} (for ${flagName})` : flagName;
  const expected = r.error.issues[0]?.message ?? 'a valid value';
  throw usageError(`invalid value ${JSON.stringify(value)} for ${where}: expected ${expected}`);
}
