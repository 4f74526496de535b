// Every global flag of `edgecam`, once: flag, EDGECAM_* variable, default, help line and schema.
// Commander's options, the variables, the defaults, the checked values' type and the refusals
// all come from this table; its key is the name commander gives the flag's value.
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { z } from 'zod';
import { DEFAULT_PORT } from '@edgecam/protocol';
import type { TlsOptions } from './connection.js';
import { CliError, ExitCode, fileError, usageError } from './errors.js';
import { flagValue, intText, parseDurationMs, parseFlag, type ValueSource } from './flag-values.js';
import { parseFingerprint, parseSwitch, SWITCH_EXPECT, TOKEN_EXPECT, TOKEN_PATTERN } from '@edgecam/runtime';

/** One global flag. The rules are edgecam-server's: see parseGlobals. */
interface GlobalOptionSpec {
  /** Commander's flags: `--port <port>` takes a value, `--tls` is a switch. */
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  /** The value when neither the flag nor its variable gives one, as text, checked like any other. */
  readonly default?: string;
  /** Text to value; its message completes "expected ..." in the refusal. */
  readonly schema: z.ZodType<unknown, string>;
}

export { parseFingerprint };

/** What --protocol takes; connect()'s ProtocolChoice is this list's type. */
export const PROTOCOL_CHOICES = ['auto', 'legacy', 'v2'] as const;

const GLOBAL_OPTIONS = {
  host: {
    flag: '--host <host>',
    env: 'EDGECAM_HOST',
    help: 'server address',
    default: '127.0.0.1',
    schema: flagValue((s) => s.trim(), (s) => s.length > 0 && !/\s/.test(s), 'a host name or IP address'),
  },
  port: {
    flag: '--port <port>',
    env: 'EDGECAM_PORT',
    help: "the server's TCP port (every command; the HTTP side is found from it)",
    default: String(DEFAULT_PORT),
    schema: flagValue(intText, (n) => n >= 1 && n <= 65535, 'an integer from 1 to 65535'),
  },
  httpPort: {
    flag: '--http-port <port>',
    env: 'EDGECAM_HTTP_PORT',
    help: "the server's HTTP port, for recordings, pull and view's link; default: the one the server names in its v2 WELCOME",
    schema: flagValue(intText, (n) => n >= 1 && n <= 65535, 'an integer from 1 to 65535'),
  },
  protocol: {
    flag: '--protocol <protocol>',
    env: 'EDGECAM_PROTOCOL',
    help: 'auto (try v2, fall back to legacy), legacy or v2',
    default: 'auto',
    schema: flagValue((s) => PROTOCOL_CHOICES.find((p) => p === s.trim()), () => true, `one of ${PROTOCOL_CHOICES.join(', ')}`),
  },
  timeout: {
    flag: '--timeout <seconds>',
    env: 'EDGECAM_TIMEOUT',
    help: 'give up when connecting or waiting for a frame takes longer',
    default: '10',
    schema: flagValue(
      (s) => parseDurationMs(s, 's'),
      (ms) => ms > 0 && ms <= 24 * 3_600_000,
      'a number of seconds above 0 (e.g. 10, 2.5 or 500ms), at most a day',
    ),
  },
  token: {
    flag: '--token <token>',
    env: 'EDGECAM_TOKEN',
    help: 'access token sent in the v2 HELLO',
    schema: flagValue((s) => s, (s) => TOKEN_PATTERN.test(s), TOKEN_EXPECT),
  },
  tls: {
    flag: '--tls',
    env: 'EDGECAM_TLS',
    help: 'connect over TLS, checking the certificate against the system CAs (or --ca)',
    schema: flagValue(parseSwitch, () => true, SWITCH_EXPECT),
  },
  ca: {
    flag: '--ca <file>',
    env: 'EDGECAM_CA',
    help: 'trust the CA certificate(s) in this PEM file (implies --tls)',
    // The file is read once every value is checked: a missing one is a file error (exit 5).
    schema: z.string(),
  },
  camera: {
    flag: '--camera <name>',
    env: 'EDGECAM_CAMERA',
    help: "which of the server's cameras (v2, events, recordings, pull; list them with `edgecam cameras`); default: the server's default camera",
    // The server says which names exist; this only keeps out what no name can be.
    schema: flagValue((s) => s.trim(), (s) => /^[^\u0000-\u001f\u007f\s]{1,64}$/u.test(s), '1 to 64 characters, no spaces'),
  },
  fingerprint: {
    flag: '--fingerprint <sha256>',
    env: 'EDGECAM_FINGERPRINT',
    help: 'trust the server certificate with this SHA-256 fingerprint, e.g. a self-signed one (implies --tls)',
    schema: flagValue(parseFingerprint, () => true, 'a SHA-256 fingerprint: 64 hex digits, colons allowed (AB:CD:…)'),
  },
} as const satisfies Record<string, GlobalOptionSpec>;

type Table = typeof GLOBAL_OPTIONS;
type Key = keyof Table;

/** What commander hands over: the text of a flag with a value, true for a switch; undefined when not given. */
export type RawGlobals = { [K in Key]?: Table[K]['flag'] extends `${string}<${string}>` ? string : boolean };

/** Each flag's checked value; undefined for a flag without a default that was not given. */
type GlobalValues = { [K in Key]: z.output<Table[K]['schema']> | (Table[K] extends { default: string } ? never : undefined) };

/** The global flags as the commands use them. */
export type GlobalOptions = Omit<GlobalValues, 'timeout' | 'tls' | 'ca' | 'fingerprint'> & {
  /** --timeout, in milliseconds. */
  timeoutMs: number;
  /** Connect over TLS (--tls, --ca or --fingerprint); undefined for plain TCP. */
  tls: TlsOptions | undefined;
};

/** Legacy clients cannot name a camera: a server gives each camera its own legacy port instead. */
const LEGACY_CAMERA_REFUSAL =
  '--camera needs the v2 protocol: legacy clients pick a camera by port (connect to the camera\'s legacyPort without --camera), or leave out --protocol legacy';

const entries = Object.entries(GLOBAL_OPTIONS) as Array<[Key, GlobalOptionSpec]>;

/** Commander's options for the table, in its order (which is --help's). */
export function globalOptions(): Option[] {
  return entries.map(([, spec]) => {
    const option = new Option(spec.flag, spec.help).env(spec.env);
    return spec.default === undefined ? option : option.default(spec.default);
  });
}

/**
 * Checks the global flags; `sourceOf` tells whether a value came from argv, the environment or
 * the default. As for edgecam-server, a variable set to the empty string counts as unset, and a
 * switch's variable takes 1/0, true/false, yes/no or on/off.
 */
export function parseGlobals(raw: RawGlobals, sourceOf: (key: Key) => ValueSource): GlobalOptions {
  const values = Object.fromEntries(entries.map(([key, spec]) => [key, checked(spec, raw[key], sourceOf(key))])) as GlobalValues;
  const { timeout, tls, ca, fingerprint, ...rest } = values;
  if (rest.camera !== undefined && rest.protocol === 'legacy') throw usageError(LEGACY_CAMERA_REFUSAL);
  return { ...rest, timeoutMs: timeout, tls: tlsOptions(tls === true, ca, fingerprint) };
}

/** One flag's value, from argv, its variable or its default, checked by its schema. */
function checked(spec: GlobalOptionSpec, given: string | boolean | undefined, source: ValueSource): unknown {
  // Commander turns a switch on for any value of its variable (EDGECAM_TLS=0 too): read it here.
  let text = source === 'env' && typeof given === 'boolean' ? process.env[spec.env] : given;
  if (source === 'env' && text === '') text = undefined;
  text ??= spec.default;
  if (typeof text !== 'string') return text;
  return parseFlag(spec.schema, text, spec.flag.split(' ')[0]!, source, spec.env);
}

/**
 * Whether --host or --port (or EDGECAM_HOST / EDGECAM_PORT, not empty) names a server. Without
 * either, and without an address, `edgecam cameras` looks on the LAN instead of at 127.0.0.1.
 */
export function serverNamed(sourceOf: (key: Key) => ValueSource, env: NodeJS.ProcessEnv = process.env): boolean {
  return (['host', 'port'] as const).some((key) => sourceOf(key) === 'cli' || (sourceOf(key) === 'env' && (env[GLOBAL_OPTIONS[key].env] ?? '') !== ''));
}

/** --tls, --ca and --fingerprint: any of them means TLS. The CA file is read here. */
function tlsOptions(on: boolean, caFile: string | undefined, fingerprint: string | undefined): TlsOptions | undefined {
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw fileError('read the CA file', caFile, err);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new CliError(ExitCode.FILE, `the CA file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
  }
  if (!on && ca === undefined && fingerprint === undefined) return undefined;
  return { ...(ca !== undefined ? { ca } : {}), ...(fingerprint !== undefined ? { fingerprint } : {}) };
}
