// Command line and EDGECAM_* environment, validated with zod. A flag beats its variable, which
// beats the default. Every bad value is refused with one sentence naming the flag (and the
// variable, when the value came from there) and what is allowed.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { EdgeServerError } from './errors.js';
import { SOURCE_SYNTAX, parseSourceSpec, type SourceSpec } from './sources/source-spec.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface EdgeServerConfig {
  host: string;
  port: number;
  /** null with --no-http. */
  httpPort: number | null;
  source: SourceSpec;
  width: number;
  height: number;
  fps: number;
  /** 1..100, mapped onto ffmpeg's -q:v. */
  quality: number;
  /** Seconds the capture runs on after the last consumer leaves. */
  idleStopSeconds: number;
  alwaysOn: boolean;
  /** Per protocol; 0 for no limit. */
  maxClients: number;
  logLevel: LogLevel;
  /** v2 clients must send HELLO within this many seconds. */
  helloTimeoutSeconds: number;
  /**
   * TCP connections that have not sent their first byte yet, at most; the oldest is closed to
   * admit a new one, so a flood of silent connections cannot lock real clients out.
   */
  maxPending: number;
  /** A legacy (or not yet identified) connection silent this long while not receiving frames is closed; 0: never. */
  idleTimeoutSeconds: number;
  /** Clients must present this (v2 HELLO, HTTP); null: anyone who can reach the server gets in. */
  token: string | null;
  /** With a token set, still let legacy clients in (they cannot present one). */
  allowLegacy: boolean;
  /** PEM files for TLS (both or neither). */
  tlsCert: string | null;
  tlsKey: string | null;
  /** Make (once) and use a self-signed certificate kept in tlsDir. */
  tlsSelfSigned: boolean;
  tlsDir: string;
  /** HTTP requests per second per address, for everything but the stream; 0: no limit. */
  httpRateLimit: number;
}

/** Where --tls-self-signed keeps its key and certificate unless --tls-dir says otherwise. */
export function defaultTlsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'edgecam');
}

export const DEFAULT_CONFIG: EdgeServerConfig = {
  host: '0.0.0.0',
  port: 6810,
  httpPort: 8080,
  source: { kind: 'testsrc' },
  width: 640,
  height: 480,
  fps: 30,
  quality: 80,
  idleStopSeconds: 5,
  alwaysOn: false,
  maxClients: 0,
  logLevel: 'info',
  helloTimeoutSeconds: 5,
  maxPending: 64,
  idleTimeoutSeconds: 600,
  token: null,
  allowLegacy: false,
  tlsCert: null,
  tlsKey: null,
  tlsSelfSigned: false,
  tlsDir: defaultTlsDir(),
  httpRateLimit: 10,
};

/** What a token may be: what fits a Bearer header, a URL and a HELLO without surprises. */
export const TOKEN_PATTERN = /^[\x21-\x7e]{1,512}$/;
const TOKEN_EXPECT = '1 to 512 printable ASCII characters, no spaces';
/** Shorter tokens work, but are guessable enough to warn about. */
export const SHORT_TOKEN_LENGTH = 12;

export class ConfigError extends EdgeServerError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

// Value parsers: strings in, typed values out; `expect` completes "expected ..., got ...".
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const decimal = (min: number, max: number, exclusiveMin = false) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(exclusiveMin ? z.number().gt(min).max(max) : z.number().min(min).max(max));
const boolean = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']))
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

interface Field<T> {
  flag: string;
  env: string;
  expect: string;
  schema: z.ZodType<T, string>;
}

const fields = {
  host: {
    flag: '--host',
    env: 'EDGECAM_HOST',
    expect: 'an IP address or host name',
    schema: z.string().regex(/^[A-Za-z0-9.:%_-]+$/),
  },
  port: { flag: '--port', env: 'EDGECAM_PORT', expect: 'an integer from 0 to 65535', schema: integer(0, 65535) },
  httpPort: {
    flag: '--http-port',
    env: 'EDGECAM_HTTP_PORT',
    expect: 'an integer from 0 to 65535',
    schema: integer(0, 65535),
  },
  http: { flag: '--no-http', env: 'EDGECAM_HTTP', expect: 'on or off (1/0, true/false, yes/no)', schema: boolean },
  source: {
    flag: '--source',
    env: 'EDGECAM_SOURCE',
    expect: SOURCE_SYNTAX,
    schema: z.string().transform((s, ctx) => {
      const spec = parseSourceSpec(s);
      if (!spec) {
        ctx.addIssue({ code: 'custom', message: 'bad source' });
        return z.NEVER;
      }
      return spec;
    }),
  },
  size: {
    flag: '--size',
    env: 'EDGECAM_SIZE',
    expect: 'WIDTHxHEIGHT, each from 16 to 8192 (e.g. 640x480)',
    schema: z
      .string()
      .regex(/^\d+x\d+$/)
      .transform((s) => s.split('x').map(Number) as [number, number])
      .refine(([w, h]) => w >= 16 && w <= 8192 && h >= 16 && h <= 8192),
  },
  fps: { flag: '--fps', env: 'EDGECAM_FPS', expect: 'a number of frames per second from 1 to 240', schema: decimal(1, 240) },
  quality: { flag: '--quality', env: 'EDGECAM_QUALITY', expect: 'an integer from 1 to 100', schema: integer(1, 100) },
  idleStop: {
    flag: '--idle-stop',
    env: 'EDGECAM_IDLE_STOP',
    expect: 'a number of seconds from 0 to 86400',
    schema: decimal(0, 86400),
  },
  alwaysOn: { flag: '--always-on', env: 'EDGECAM_ALWAYS_ON', expect: 'on or off (1/0, true/false, yes/no)', schema: boolean },
  maxClients: {
    flag: '--max-clients',
    env: 'EDGECAM_MAX_CLIENTS',
    expect: 'an integer from 0 (no limit) to 100000',
    schema: integer(0, 100_000),
  },
  logLevel: { flag: '--log-level', env: 'EDGECAM_LOG_LEVEL', expect: LOG_LEVELS.join(', '), schema: z.enum(LOG_LEVELS) },
  helloTimeout: {
    flag: '--hello-timeout',
    env: 'EDGECAM_HELLO_TIMEOUT',
    expect: 'a number of seconds above 0, up to 3600',
    schema: decimal(0, 3600, true),
  },
  maxPending: {
    flag: '--max-pending',
    env: 'EDGECAM_MAX_PENDING',
    expect: 'an integer from 1 to 100000',
    schema: integer(1, 100_000),
  },
  idleTimeout: {
    flag: '--idle-timeout',
    env: 'EDGECAM_IDLE_TIMEOUT',
    expect: 'a number of seconds from 0 (never) to 86400',
    schema: decimal(0, 86400),
  },
  token: { flag: '--token', env: 'EDGECAM_TOKEN', expect: TOKEN_EXPECT, schema: z.string().regex(TOKEN_PATTERN) },
  tokenFile: { flag: '--token-file', env: 'EDGECAM_TOKEN_FILE', expect: 'a file name', schema: z.string().min(1) },
  allowLegacy: { flag: '--allow-legacy', env: 'EDGECAM_ALLOW_LEGACY', expect: 'on or off (1/0, true/false, yes/no)', schema: boolean },
  tlsCert: { flag: '--tls-cert', env: 'EDGECAM_TLS_CERT', expect: 'a PEM certificate file', schema: z.string().min(1) },
  tlsKey: { flag: '--tls-key', env: 'EDGECAM_TLS_KEY', expect: 'a PEM private key file', schema: z.string().min(1) },
  tlsSelfSigned: {
    flag: '--tls-self-signed',
    env: 'EDGECAM_TLS_SELF_SIGNED',
    expect: 'on or off (1/0, true/false, yes/no)',
    schema: boolean,
  },
  tlsDir: { flag: '--tls-dir', env: 'EDGECAM_TLS_DIR', expect: 'a directory', schema: z.string().min(1) },
  httpRateLimit: {
    flag: '--http-rate-limit',
    env: 'EDGECAM_HTTP_RATE_LIMIT',
    expect: 'a number of requests per second from 0 (no limit) to 100000',
    schema: decimal(0, 100_000),
  },
} satisfies Record<string, Field<unknown>>;

type Fields = typeof fields;
type Raw = { [K in keyof Fields]?: { value: string; from: 'flag' | 'env' } };

function validate<K extends keyof Fields>(raw: Raw, key: K): z.output<Fields[K]['schema']> | undefined {
  const given = raw[key];
  if (!given) return undefined;
  const field: Field<unknown> = fields[key];
  const result = field.schema.safeParse(given.value);
  if (!result.success) {
    const name = given.from === 'flag' ? field.flag : `${field.env} (${field.flag})`;
    throw new ConfigError(`${name}: expected ${field.expect}, got ${JSON.stringify(given.value)}`);
  }
  return result.data as z.output<Fields[K]['schema']>;
}

function buildProgram(version: string): Command {
  const d = DEFAULT_CONFIG;
  const program = new Command('edgecam-server')
    .description('Serve a camera (or ffmpeg test pattern) to edgecam, seed-era and HTTP clients on the LAN.')
    .version(version)
    .option('--host <address>', `address to listen on (${fields.host.env}, default ${d.host})`)
    .option('--port <port>', `TCP port for legacy and v2 clients (${fields.port.env}, default ${d.port})`)
    .addOption(
      new Option('--http-port <port>', `HTTP port (${fields.httpPort.env}, default ${d.httpPort})`).conflicts('http'),
    )
    .option('--no-http', `do not serve HTTP (${fields.http.env}=off)`)
    .option('--source <source>', `${SOURCE_SYNTAX} (${fields.source.env}, default testsrc)`)
    .option('--size <WxH>', `capture size for testsrc and v4l2 (${fields.size.env}, default ${d.width}x${d.height})`)
    .option('--fps <fps>', `frames per second for testsrc, v4l2 and raw .mjpeg files (${fields.fps.env}, default ${d.fps})`)
    .option('--quality <1-100>', `JPEG quality when encoding (${fields.quality.env}, default ${d.quality})`)
    .addOption(
      new Option(
        '--idle-stop <seconds>',
        `stop the capture this long after the last viewer leaves (${fields.idleStop.env}, default ${d.idleStopSeconds})`,
      ).conflicts('alwaysOn'),
    )
    .option('--always-on', `capture even with no viewers (${fields.alwaysOn.env}=on)`)
    .option('--max-clients <n>', `clients allowed per protocol, 0 for no limit (${fields.maxClients.env}, default 0)`)
    .option('--hello-timeout <seconds>', `v2 clients must say HELLO within this time (${fields.helloTimeout.env}, default ${d.helloTimeoutSeconds})`)
    .option('--max-pending <n>', `connections allowed before their first byte (${fields.maxPending.env}, default ${d.maxPending})`)
    .option(
      '--idle-timeout <seconds>',
      `close a legacy connection silent this long while not streaming, 0 never (${fields.idleTimeout.env}, default ${d.idleTimeoutSeconds})`,
    )
    .addOption(new Option('--token <secret>', `clients must present this token (${fields.token.env})`).conflicts('tokenFile'))
    .option('--token-file <path>', `read the token from this file (${fields.tokenFile.env})`)
    .option('--allow-legacy', `with a token, still let legacy clients in without one (${fields.allowLegacy.env}=on)`)
    .option('--tls-cert <path>', `PEM certificate: TCP over TLS, HTTP over HTTPS (${fields.tlsCert.env}); needs --tls-key`)
    .option('--tls-key <path>', `PEM private key of --tls-cert (${fields.tlsKey.env})`)
    .addOption(
      new Option(
        '--tls-self-signed',
        `make a self-signed certificate on first start, keep it in --tls-dir, use it for TLS (${fields.tlsSelfSigned.env}=on)`,
      ).conflicts(['tlsCert', 'tlsKey']),
    )
    .option('--tls-dir <dir>', `where --tls-self-signed keeps its files (${fields.tlsDir.env}, default ${d.tlsDir})`)
    .option(
      '--http-rate-limit <n>',
      `HTTP requests per second per address, except the stream, 0 for no limit (${fields.httpRateLimit.env}, default ${d.httpRateLimit})`,
    )
    .option('--log-level <level>', `${LOG_LEVELS.join('|')} (${fields.logLevel.env}, default ${d.logLevel})`)
    .allowExcessArguments(false)
    .exitOverride();
  return program;
}

export type CommandLineResult = { config: EdgeServerConfig } | { exitCode: number; output: string };

/**
 * Parses argv (without node and the script) and the environment. Returns the config, or what to
 * print and the exit code for --help, --version and usage errors (2). Throws ConfigError for a
 * bad value; callers print its message and exit 2.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): CommandLineResult {
  const program = buildProgram(version);
  let output = '';
  program.configureOutput({ writeOut: (s) => (output += s), writeErr: (s) => (output += s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return { exitCode: ok ? 0 : 2, output };
    }
    throw err;
  }
  const opts = program.opts<Record<string, string | boolean | undefined>>();
  const raw: Raw = {};
  const flagKeys: Record<keyof Fields, string> = {
    host: 'host',
    port: 'port',
    httpPort: 'httpPort',
    http: 'http',
    source: 'source',
    size: 'size',
    fps: 'fps',
    quality: 'quality',
    idleStop: 'idleStop',
    alwaysOn: 'alwaysOn',
    maxClients: 'maxClients',
    logLevel: 'logLevel',
    helloTimeout: 'helloTimeout',
    maxPending: 'maxPending',
    idleTimeout: 'idleTimeout',
    token: 'token',
    tokenFile: 'tokenFile',
    allowLegacy: 'allowLegacy',
    tlsCert: 'tlsCert',
    tlsKey: 'tlsKey',
    tlsSelfSigned: 'tlsSelfSigned',
    tlsDir: 'tlsDir',
    httpRateLimit: 'httpRateLimit',
  };
  for (const key of Object.keys(fields) as (keyof Fields)[]) {
    const name = flagKeys[key];
    const fromCli = program.getOptionValueSource(name) === 'cli';
    const value = opts[name];
    if (fromCli && typeof value === 'string') raw[key] = { value, from: 'flag' };
    else if (fromCli && typeof value === 'boolean') raw[key] = { value: String(value), from: 'flag' };
    else if (env[fields[key].env] !== undefined && env[fields[key].env] !== '') {
      raw[key] = { value: env[fields[key].env] as string, from: 'env' };
    }
  }

  const d = DEFAULT_CONFIG;
  const size = validate(raw, 'size');
  const http = validate(raw, 'http') ?? true;
  const config: EdgeServerConfig = {
    host: validate(raw, 'host') ?? d.host,
    port: validate(raw, 'port') ?? d.port,
    httpPort: http ? (validate(raw, 'httpPort') ?? d.httpPort) : null,
    source: validate(raw, 'source') ?? d.source,
    width: size ? size[0] : d.width,
    height: size ? size[1] : d.height,
    fps: validate(raw, 'fps') ?? d.fps,
    quality: validate(raw, 'quality') ?? d.quality,
    idleStopSeconds: validate(raw, 'idleStop') ?? d.idleStopSeconds,
    alwaysOn: validate(raw, 'alwaysOn') ?? d.alwaysOn,
    maxClients: validate(raw, 'maxClients') ?? d.maxClients,
    logLevel: validate(raw, 'logLevel') ?? d.logLevel,
    helloTimeoutSeconds: validate(raw, 'helloTimeout') ?? d.helloTimeoutSeconds,
    maxPending: validate(raw, 'maxPending') ?? d.maxPending,
    idleTimeoutSeconds: validate(raw, 'idleTimeout') ?? d.idleTimeoutSeconds,
    token: resolveToken(raw),
    allowLegacy: validate(raw, 'allowLegacy') ?? d.allowLegacy,
    ...resolveTls(raw, env),
    httpRateLimit: validate(raw, 'httpRateLimit') ?? d.httpRateLimit,
  };
  return { config };
}

/** Where the value came from, as an error names it: the flag, or the variable and its flag. */
function nameOf(raw: Raw, key: keyof Fields): string {
  const field: Field<unknown> = fields[key];
  return raw[key]?.from === 'env' ? `${field.env} (${field.flag})` : field.flag;
}

/** --token or --token-file (a flag beats a variable); both from the same place is ambiguous. */
function resolveToken(raw: Raw): string | null {
  const direct = raw.token;
  const file = raw.tokenFile;
  if (direct && file) {
    if (direct.from === 'flag' && file.from === 'env') return validate(raw, 'token') ?? null;
    if (direct.from === 'env' && file.from === 'flag') return readTokenFile(raw);
    throw new ConfigError(`${nameOf(raw, 'token')} and ${nameOf(raw, 'tokenFile')}: give the token one way, not both`);
  }
  if (direct) return validate(raw, 'token') ?? null;
  if (file) return readTokenFile(raw);
  return null;
}

function readTokenFile(raw: Raw): string {
  const path = validate(raw, 'tokenFile') as string;
  const name = nameOf(raw, 'tokenFile');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ConfigError(`${name}: cannot read ${path}: ${why}`);
  }
  // Files written by `echo` or an editor end with a newline that is no part of the token.
  const token = text.replace(/[\r\n]+$/, '');
  if (!TOKEN_PATTERN.test(token)) {
    throw new ConfigError(`${name}: ${path} must hold the token alone, ${TOKEN_EXPECT} (it holds ${token.length} characters)`);
  }
  return token;
}

function resolveTls(raw: Raw, env: NodeJS.ProcessEnv): Pick<EdgeServerConfig, 'tlsCert' | 'tlsKey' | 'tlsSelfSigned' | 'tlsDir'> {
  const tlsCert = validate(raw, 'tlsCert') ?? null;
  const tlsKey = validate(raw, 'tlsKey') ?? null;
  const tlsSelfSigned = validate(raw, 'tlsSelfSigned') ?? false;
  if ((tlsCert === null) !== (tlsKey === null)) {
    const given = tlsCert !== null ? nameOf(raw, 'tlsCert') : nameOf(raw, 'tlsKey');
    const missing = tlsCert !== null ? fields.tlsKey.flag : fields.tlsCert.flag;
    throw new ConfigError(`${given} needs ${missing} too: TLS takes a certificate and its private key`);
  }
  if (tlsSelfSigned && tlsCert !== null) {
    throw new ConfigError(`${nameOf(raw, 'tlsSelfSigned')} and ${nameOf(raw, 'tlsCert')}: use your own certificate or a self-signed one, not both`);
  }
  return { tlsCert, tlsKey, tlsSelfSigned, tlsDir: validate(raw, 'tlsDir') ?? defaultTlsDir(env) };
}
