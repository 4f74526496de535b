// Values as people write them in a config file, the same in every block: durations (`600`, `10m`,
// `500ms`), sizes (`20GB`) and switches (`yes`, `off`), read into milliseconds or seconds, bytes
// and booleans. A bad one is refused naming the value and the forms it may take; each is written
// back in the file's form by `config check` (file-form.ts).
import { parseSwitch, SWITCH_EXPECT } from '@edgecam/runtime';
import { z } from 'zod';
import { withFileForm } from './file-form.js';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
// What config check writes: the largest unit that divides the value (a week stays `7d`).
const DURATION_OUT: readonly [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];

// Decimal prefixes as disks are sold (1 GB = 10^9 bytes), binary ones when asked for (GiB).
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, kib: 1024,
  mb: 1e6, mib: 1024 ** 2,
  gb: 1e9, gib: 1024 ** 3,
  tb: 1e12, tib: 1024 ** 4,
};
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;
const SIZE_OUT: readonly [string, number][] = [['TB', 1e12], ['TiB', 1024 ** 4], ['GB', 1e9], ['GiB', 1024 ** 3], ['MB', 1e6], ['MiB', 1024 ** 2], ['kB', 1e3], ['KiB', 1024]];

// Plain digits only, as the flags take numbers: "1e3", "+5" or " 5" are refused, not guessed at.
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;
// The text forms for editors, in the JSON Schema (JSON Schema patterns have no case-insensitive flag).
const DURATION_PATTERN = '^(\\d+(\\.\\d+)?|\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d|w)\\s*)$';
const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgGtT][iI]?[bB])\\s*$';

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

/** Milliseconds as a config file writes them: `10m`, `7d`, `1500ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const unit = Number.isInteger(ms) ? DURATION_OUT.find(([, n]) => ms % n === 0) : undefined;
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}

/** Bytes as a config file writes them, in the unit that gives the smallest whole number: `20GB`, `1GiB`, `0B`. */
export function formatSize(bytes: number): string {
  const unit = SIZE_OUT.find(([, n]) => bytes !== 0 && bytes % n === 0);
  return unit ? `${bytes / unit[1]}${unit[0]}` : `${bytes}B`;
}

/** A value as a refusal quotes it. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  return value !== null && typeof value === 'object' ? 'a map' : String(value);
}

type TimeUnit = 'ms' | 's';
const UNIT_MS: Record<TimeUnit, number> = { ms: 1, s: 1000 };

/** What a duration key takes; every bound is in milliseconds. */
export interface DurationRule {
  /** The least (default 0). */
  min?: number;
  /** Whether `min` itself is too little (a timeout of 0 would fire at once). */
  aboveMin?: boolean;
  max?: number;
  /** What a bare number counts: seconds, except in a key named for milliseconds (`idleStopMs`). */
  bare?: TimeUnit;
  /** What the configuration holds: whole milliseconds (default) or seconds. */
  into?: TimeUnit;
}

/** The forms a duration key takes, in words. */
export function durationForms(bare: TimeUnit = 's'): string {
  return `a duration such as 30s, 10m, 2h or 7d (a bare number is ${bare === 'ms' ? 'milliseconds' : 'seconds'})`;
}

/**
 * A duration, the same in every block: a bare number (seconds, or milliseconds where the key says
 * so) or a number with a unit (`500ms`, `30s`, `10m`, `2h`, `7d`, `1w`), read into what `into` says.
 */
export function duration(rule: DurationRule = {}) {
  const { min = 0, aboveMin = false, max, bare = 's', into = 'ms' } = rule;
  const perBare = UNIT_MS[bare];
  const range = `${aboveMin ? `more than ${formatDuration(min)}` : `${max === undefined ? 'at least ' : 'from '}${formatDuration(min)}`}${max === undefined ? '' : `${aboveMin ? ', up' : ''} to ${formatDuration(max)}`}`;
  const notDuration = (value: unknown) => `${shown(value)} is not ${durationForms(bare)}`;
  const outOfRange = (value: unknown) => `${shown(value)} is out of range: it takes ${range}`;
  // The bare number's bounds are in its own unit, so that editors see them in the JSON Schema.
  let bareNumber = z.number({ error: (iss) => notDuration(iss.input) });
  bareNumber = aboveMin ? bareNumber.gt(min / perBare, { error: (iss) => outOfRange(iss.input) }) : bareNumber.min(min / perBare, { error: (iss) => outOfRange(iss.input) });
  if (max !== undefined) bareNumber = bareNumber.max(max / perBare, { error: (iss) => outOfRange(iss.input) });
  const schema = z
    .union([bareNumber, z.string().meta({ pattern: DURATION_PATTERN })], { error: (iss) => notDuration(iss.input) })
    .transform((value, ctx) => {
      const given = typeof value === 'number' ? value : BARE_NUMBER.test(value) ? Number(value) : undefined;
      const ms = given !== undefined ? given * perBare : parseDuration(value as string);
      if (ms === undefined || !Number.isFinite(ms)) {
        ctx.addIssue({ code: 'custom', message: notDuration(value) });
        return z.NEVER;
      }
      if (ms < min || (aboveMin && ms === min) || (max !== undefined && ms > max)) {
        ctx.addIssue({ code: 'custom', message: outOfRange(value) });
        return z.NEVER;
      }
      // A bare number of seconds held as seconds is kept as written: 0.1 stays 0.1.
      if (into === 's') return given !== undefined && bare === 's' ? given : ms / 1000;
      return Math.round(ms);
    });
  // Written back as a bare number where the key holds its bare unit (seconds, idleStopMs), else with a unit.
  return withFileForm(schema, (held: number) => (into === bare ? held : formatDuration(held)));
}

/** The forms a size key takes, in words. */
export const SIZE_FORMS = 'a size such as 500MB, 20GB or 1GiB';

/**
 * A size with its unit (`500MB`, `20GB`, `1GiB`), read into bytes; a bare number is refused, since
 * it could as well mean bytes as megabytes.
 */
export function size(rule: { min?: number } = {}) {
  const { min = 0 } = rule;
  const notSize = (value: unknown) => `${shown(value)} is not ${SIZE_FORMS}`;
  const schema = z.string({ error: (iss) => notSize(iss.input) }).meta({ pattern: SIZE_PATTERN }).transform((text, ctx) => {
    const bytes = parseSize(text);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: notSize(text) });
      return z.NEVER;
    }
    if (bytes < min) {
      ctx.addIssue({ code: 'custom', message: `${shown(text)} is out of range: it takes at least ${formatSize(min)}` });
      return z.NEVER;
    }
    return bytes;
  });
  return withFileForm(schema, (bytes: number) => formatSize(bytes));
}

/**
 * A switch, the same in every block and option: true or false, 1 or 0, or a switch word in any
 * case (on/off, yes/no, true/false), as flags and EDGECAM_* variables take them.
 */
export function onOff() {
  const expected = `expected ${SWITCH_EXPECT}`;
  return z.union([z.boolean(), z.literal([0, 1]), z.string()], { error: () => expected }).transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return value === 1;
    const on = parseSwitch(value);
    if (on === undefined) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return on;
  });
}
