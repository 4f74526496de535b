import { z } from 'zod';
import { DEFAULT_PORT } from '@edgecam/protocol';
import { parseSwitch, SWITCH_EXPECT, TOKEN_EXPECT, TOKEN_PATTERN } from '@edgecam/runtime';
import { readFileSync } from 'node:fs';
import type { ProtocolChoice, TlsOptions } from './connection.js';
import { CliError, ExitCode, fileError, usageError } from './errors.js';

/**
 * Flag values arrive as strings (from argv or EDGECAM_* variables); these schemas turn them into
 * typed options. Each failure becomes one usage error that names the flag (or the variable the
 * value came from) and what it accepts. The rules are edgecam-server's: a variable set to the
 * empty string counts as unset, switches take 1/0, true/false, yes/no, on/off, and a token is
 * what the server accepts.
 */

export interface GlobalOptions {
  host: string;
  port: number;
  protocol: ProtocolChoice;
  timeoutMs: number;
  token: string | undefined;
  /** Connect over TLS (--tls, --ca or --fingerprint); undefined for plain TCP. */
  tls: TlsOptions | undefined;
  /** Which of the server's cameras (--camera); undefined: its default camera. */
  camera: string | undefined;
}

export const GLOBAL_DEFAULTS = {
  host: '127.0.0.1',
  port: String(DEFAULT_PORT),
  protocol: 'auto',
  timeout: '10',
} as const;

/** Environment variable for each global flag. */
export const GLOBAL_ENV = {
  host: 'EDGECAM_HOST',
  port: 'EDGECAM_PORT',
  protocol: 'EDGECAM_PROTOCOL',
  timeout: 'EDGECAM_TIMEOUT',
  token: 'EDGECAM_TOKEN',
  tls: 'EDGECAM_TLS',
  ca: 'EDGECAM_CA',
  fingerprint: 'EDGECAM_FINGERPRINT',
  camera: 'EDGECAM_CAMERA',
} as const;

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

/** A zod schema for a string flag, with the sentence shown when it fails. */
function flag<T>(parse: (s: string) => T | undefined, ok: (v: T) => boolean, expected: string) {
  return z
    .string()
    .transform((s, ctx) => {
      const v = parse(s);
      if (v === undefined || !ok(v)) {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      return v;
    });
}

const intText = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined);

export const portSchema = flag(intText, (n) => n >= 1 && n <= 65535, 'an integer from 1 to 65535');
export const hostSchema = flag((s) => s.trim(), (s) => s.length > 0 && !/\s/.test(s), 'a host name or IP address');
export const protocolSchema = flag(
  (s) => s.trim() as ProtocolChoice,
  (s) => s === 'auto' || s === 'legacy' || s === 'v2',
  'one of auto, legacy, v2',
);
export const timeoutSchema = flag(
  (s) => parseDurationMs(s, 's'),
  (ms) => ms > 0 && ms <= 24 * 3_600_000,
  'a number of seconds above 0 (e.g. 10, 2.5 or 500ms), at most a day',
);
export const tokenSchema = flag((s) => s, (s) => TOKEN_PATTERN.test(s), TOKEN_EXPECT);
/** A camera name as it goes into HELLO: the server says which names exist, this only keeps out what no name can be. */
export const cameraSchema = flag((s) => s.trim(), (s) => /^[^\u0000-\u001f\u007f\s]{1,64}$/u.test(s), '1 to 64 characters, no spaces');

/** Legacy clients cannot name a camera: a server gives each camera its own legacy port instead. */
export const LEGACY_CAMERA_REFUSAL =
  '--camera needs the v2 protocol: legacy clients pick a camera by port (connect to the camera\'s legacyPort without --camera), or leave out --protocol legacy';

/**
 * A SHA-256 fingerprint as edgecam-server's banner prints it (`AB:CD:…`), or as openssl does
 * (`sha256 Fingerprint=AB:CD:…`), or bare hex; normalised to upper-case pairs joined by colons.
 */
export function parseFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^(sha-?256\s*(fingerprint)?\s*[=:]?\s*)/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}
export const fingerprintSchema = flag(parseFingerprint, () => true, 'a SHA-256 fingerprint: 64 hex digits, colons allowed (AB:CD:…)');
export const switchSchema = flag(parseSwitch, () => true, SWITCH_EXPECT);

export const framesSchema = flag(intText, (n) => n >= 1 && Number.isSafeInteger(n), 'a whole number of frames, 1 or more');
export const durationSchema = flag(
  (s) => parseDurationMs(s, 's'),
  (ms) => ms > 0,
  'a duration above 0 such as 10s, 1.5m, 2h or 500ms (a bare number is seconds)',
);
export const sizeSchema = flag(
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
export const listenSchema = flag(parseListen, () => true, 'HOST:PORT such as 127.0.0.1:8090 (port 0 picks a free one)');

export type RecordFormat = 'avi' | 'mjpeg';

/** The container, from the output file's extension. */
export function recordFormatOf(path: string): RecordFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.avi')) return 'avi';
  if (lower.endsWith('.mjpeg') || lower.endsWith('.mjpg')) return 'mjpeg';
  return undefined;
}

/** Where a value came from, to name it in an error: the flag, or the variable that set it. */
export type ValueSource = 'cli' | 'env' | 'default' | string | undefined;

/** Parses one flag value, or throws a usage error naming the flag and what it accepts. */
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

export interface RawGlobals {
  host: string;
  port: string;
  protocol: string;
  timeout: string;
  token?: string | undefined;
  tls?: boolean | undefined;
  ca?: string | undefined;
  fingerprint?: string | undefined;
  camera?: string | undefined;
}

/** Validates the global flags; `sourceOf` tells whether a value came from argv or the environment. */
export function parseGlobals(given: RawGlobals, sourceOf: (key: keyof RawGlobals) => ValueSource): GlobalOptions {
  const raw = withoutEmptyEnv(given, sourceOf);
  const camera = raw.camera === undefined ? undefined : parseFlag(cameraSchema, raw.camera, '--camera', sourceOf('camera'), GLOBAL_ENV.camera);
  const protocol = parseFlag(protocolSchema, raw.protocol, '--protocol', sourceOf('protocol'), GLOBAL_ENV.protocol);
  if (camera !== undefined && protocol === 'legacy') throw usageError(LEGACY_CAMERA_REFUSAL);
  return {
    host: parseFlag(hostSchema, raw.host, '--host', sourceOf('host'), GLOBAL_ENV.host),
    port: parseFlag(portSchema, raw.port, '--port', sourceOf('port'), GLOBAL_ENV.port),
    protocol,
    timeoutMs: parseFlag(timeoutSchema, raw.timeout, '--timeout', sourceOf('timeout'), GLOBAL_ENV.timeout),
    token:
      raw.token === undefined
        ? undefined
        : parseFlag(tokenSchema, raw.token, '--token', sourceOf('token'), GLOBAL_ENV.token),
    tls: parseTls(raw, sourceOf),
    camera,
  };
}

/** A variable set to the empty string counts as unset: the flag's default, or nothing. */
function withoutEmptyEnv(raw: RawGlobals, sourceOf: (key: keyof RawGlobals) => ValueSource): RawGlobals {
  const out: RawGlobals = { ...raw };
  const empty = (key: keyof RawGlobals) => sourceOf(key) === 'env' && raw[key] === '';
  if (empty('host')) out.host = GLOBAL_DEFAULTS.host;
  if (empty('port')) out.port = GLOBAL_DEFAULTS.port;
  if (empty('protocol')) out.protocol = GLOBAL_DEFAULTS.protocol;
  if (empty('timeout')) out.timeout = GLOBAL_DEFAULTS.timeout;
  if (empty('token')) out.token = undefined;
  if (empty('ca')) out.ca = undefined;
  if (empty('fingerprint')) out.fingerprint = undefined;
  if (empty('camera')) out.camera = undefined;
  // Commander turns a boolean flag on for any value of its variable, the empty one included.
  if (sourceOf('tls') === 'env' && process.env[GLOBAL_ENV.tls] === '') out.tls = undefined;
  return out;
}

/** --tls, --ca and --fingerprint: any of them means TLS. The CA file is read here. */
function parseTls(raw: RawGlobals, sourceOf: (key: keyof RawGlobals) => ValueSource): TlsOptions | undefined {
  // Commander turns a boolean flag on for any value of its variable, EDGECAM_TLS=0 included.
  const fromEnv = sourceOf('tls') === 'env';
  const on =
    raw.tls === undefined || raw.tls === false
      ? false
      : fromEnv
        ? parseFlag(switchSchema, process.env[GLOBAL_ENV.tls] ?? '', '--tls', 'env', GLOBAL_ENV.tls)
        : true;
  const fingerprint =
    raw.fingerprint === undefined
      ? undefined
      : parseFlag(fingerprintSchema, raw.fingerprint, '--fingerprint', sourceOf('fingerprint'), GLOBAL_ENV.fingerprint);
  let ca: string | undefined;
  if (raw.ca !== undefined) {
    try {
      ca = readFileSync(raw.ca, 'utf8');
    } catch (err) {
      throw fileError('read the CA file', raw.ca, err);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CliError(ExitCode.FILE, `the CA file ${raw.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
  }
  if (!on && ca === undefined && fingerprint === undefined) return undefined;
  return { ...(ca !== undefined ? { ca } : {}), ...(fingerprint !== undefined ? { fingerprint } : {}) };
}
