// Every option of edgecam-server, once: flag, EDGECAM_* variable, default, help line and zod
// schema. The command line, the variables, the options' type and (later) a config file's JSON
// Schema all come from this table; the key is the config-file key and commander's option name.
import { homedir, hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseSwitch, SWITCH_EXPECT, TOKEN_EXPECT, TOKEN_PATTERN } from '@edgecam/runtime';
import { z } from 'zod';
import { HOST_NAME_PATTERN } from '../access/allowed-hosts.js';
import { SOURCE_SYNTAX, parseSourceSpec, sourceSpecText } from '../sources/source-spec.js';
import { CAPTURE_DEFAULTS, FPS_RANGE, QUALITY_RANGE, SIZE_RANGE, rangeText } from './capture-limits.js';
import { withFileForm } from './file-form.js';
import { duration, onOff as switchSchema } from './units.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where --tls-self-signed keeps its key and certificate unless --tls-dir says otherwise. */
export function defaultTlsDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'edgecam');
}

/** What a server's `name` may hold: it goes into MQTT topics and Home Assistant ids as it is. */
export const SERVER_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** The machine's name as a server name: lowercase, anything but a-z, 0-9, _ and - as `_`. */
export function defaultServerName(machine: string = hostname()): string {
  return machine.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 64) || 'edgecam';
}

/** A default in the schema's input form, fixed or read from the environment. */
type Default<T> = { default: T } | { defaultFrom: (env: NodeJS.ProcessEnv) => T };

/** One option: how it is given, what it may be, and what it is when not given. */
export type OptionSpec<S extends z.ZodType = z.ZodType> = {
  /** Commander's flags (`--port <port>`, `--always-on`, `--no-http`); their camelCase name is the key. */
  flag: string;
  /** The variable; an empty value counts as unset. */
  env: string;
  /** The --help line, to which the variable and the default are added. */
  help: string;
  /** Completes "expected ..., got ..." when the value is refused. */
  expect: string;
  /** The value as a config file holds it; flag and variable text is converted and checked by it too. */
  schema: S;
  /** Flag or variable text to the schema's input; text that does not convert is left for the schema to refuse. */
  fromText?: (text: string) => unknown;
  /** Keys of options this one cannot be given with on the command line. */
  conflicts?: readonly string[];
} & Default<z.input<S>>;

function option<S extends z.ZodType>(spec: OptionSpec<S>): OptionSpec<S> {
  return spec;
}

// Text converters keep to plain digits so that "1e3", "+5" or " 5" are refused, not guessed at.
const integer = (min: number, max: number) => ({
  schema: z.number().int().min(min).max(max),
  fromText: (s: string): unknown => (/^\d+$/.test(s) ? Number(s) : s),
});
const decimalText = (s: string): unknown => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : s);
const decimal = (min: number, max: number) => ({ schema: z.number().min(min).max(max), fromText: decimalText });
/** A number of seconds as the flags take it, or a duration such as `10m` as every config block does. */
const seconds = (max: number, aboveZero = false) => ({
  schema: duration({ aboveMin: aboveZero, max: max * 1000, into: 's' }),
  fromText: decimalText,
});
/** A TCP port, its refusal's words included; `min` 0 lets the system choose a free one. */
export const tcpPort = (min: 0 | 1) => ({ expect: `an integer from ${min} to 65535`, ...integer(min, 65535) });
const onOff = {
  schema: switchSchema(),
  fromText: (s: string): unknown => parseSwitch(s) ?? s,
  expect: SWITCH_EXPECT,
};

const SIZE_EXPECT = `WIDTHxHEIGHT, each from ${SIZE_RANGE.min} to ${SIZE_RANGE.max} (e.g. 640x480)`;
const wxh = z
  .string()
  .regex(/^\d+x\d+$/)
  .transform((s) => {
    const [width = 0, height = 0] = s.split('x').map(Number);
    return { width, height };
  })
  .refine(({ width, height }) => [width, height].every((n) => n >= SIZE_RANGE.min && n <= SIZE_RANGE.max));
withFileForm(wxh, ({ width, height }) => `${width}x${height}`);
const FPS_EXPECT = `a number of frames per second from ${FPS_RANGE.min} to ${FPS_RANGE.max}`;
const fpsNumber = decimal(FPS_RANGE.min, FPS_RANGE.max);

export const OPTIONS = {
  host: option({
    flag: '--host <address>',
    env: 'EDGECAM_HOST',
    help: 'address to listen on',
    expect: 'an IP address or host name',
    schema: z.string().regex(/^[A-Za-z0-9.:%_-]+$/),
    default: '0.0.0.0',
  }),
  port: option({
    flag: '--port <port>',
    env: 'EDGECAM_PORT',
    help: 'TCP port for legacy and v2 clients',
    ...tcpPort(0),
    default: 6810,
  }),
  httpPort: option({
    flag: '--http-port <port>',
    env: 'EDGECAM_HTTP_PORT',
    help: 'HTTP port',
    ...tcpPort(0),
    default: 8080,
    conflicts: ['http'],
  }),
  http: option({ flag: '--no-http', env: 'EDGECAM_HTTP', help: 'do not serve HTTP', ...onOff, default: true }),
  source: option({
    flag: '--source <source>',
    env: 'EDGECAM_SOURCE',
    help: SOURCE_SYNTAX,
    expect: SOURCE_SYNTAX,
    schema: withFileForm(
      z.string().transform((s, ctx) => {
        const spec = parseSourceSpec(s);
        if (!spec) {
          ctx.addIssue({ code: 'custom', message: 'bad source' });
          return z.NEVER;
        }
        return spec;
      }),
      sourceSpecText,
    ),
    default: 'testsrc',
  }),
  size: option({
    flag: '--size <WxH>',
    env: 'EDGECAM_SIZE',
    help: 'capture size for testsrc and v4l2',
    expect: SIZE_EXPECT,
    schema: wxh,
    default: `${CAPTURE_DEFAULTS.width}x${CAPTURE_DEFAULTS.height}`,
  }),
  fps: option({
    flag: '--fps <fps>',
    env: 'EDGECAM_FPS',
    help: 'frames per second for testsrc, v4l2 and raw .mjpeg files',
    expect: FPS_EXPECT,
    ...fpsNumber,
    default: CAPTURE_DEFAULTS.fps,
  }),
  // Ceilings of PUT /settings: a LAN peer must not be able to ask the board for more than it was set up for.
  maxSize: option({
    flag: '--max-size <WxH>',
    env: 'EDGECAM_MAX_SIZE',
    help: 'largest size PUT /settings may set (default: --size)',
    expect: SIZE_EXPECT,
    schema: wxh.nullable(),
    default: null,
  }),
  maxFps: option({
    flag: '--max-fps <fps>',
    env: 'EDGECAM_MAX_FPS',
    help: 'highest rate PUT /settings may set (default: --fps)',
    expect: FPS_EXPECT,
    ...fpsNumber,
    schema: fpsNumber.schema.nullable(),
    default: null,
  }),
  quality: option({
    flag: `--quality <${rangeText(QUALITY_RANGE)}>`,
    env: 'EDGECAM_QUALITY',
    help: 'JPEG quality when encoding',
    expect: `an integer from ${QUALITY_RANGE.min} to ${QUALITY_RANGE.max}`,
    ...integer(QUALITY_RANGE.min, QUALITY_RANGE.max),
    default: CAPTURE_DEFAULTS.quality,
  }),
  idleStop: option({
    flag: '--idle-stop <seconds>',
    env: 'EDGECAM_IDLE_STOP',
    help: 'stop the capture this long after the last viewer leaves',
    expect: 'a number of seconds from 0 to 86400, or a duration such as 30s, 10m or 1d',
    ...seconds(86400),
    default: 5,
    conflicts: ['alwaysOn'],
  }),
  alwaysOn: option({ flag: '--always-on', env: 'EDGECAM_ALWAYS_ON', help: 'capture even with no viewers', ...onOff, default: false }),
  maxClients: option({
    flag: '--max-clients <n>',
    env: 'EDGECAM_MAX_CLIENTS',
    help: 'clients allowed per protocol (legacy, v2) and HTTP streams of each kind (MJPEG, replay, WebRTC, events), 0 for no limit',
    expect: 'an integer from 0 (no limit) to 100000',
    ...integer(0, 100_000),
    // A small board runs out of CPU and descriptors long before an open server stops accepting.
    default: 32,
  }),
  maxPerAddress: option({
    flag: '--max-per-address <n>',
    env: 'EDGECAM_MAX_PER_ADDRESS',
    help: 'TCP connections and HTTP streams of each kind allowed from one host (a full address, also on IPv6), 0 for no limit',
    expect: 'an integer from 0 (no limit) to 100000',
    ...integer(0, 100_000),
    default: 8,
  }),
  helloTimeout: option({
    flag: '--hello-timeout <seconds>',
    env: 'EDGECAM_HELLO_TIMEOUT',
    help: 'v2 clients must say HELLO within this time',
    expect: 'a number of seconds above 0, up to 3600, or a duration such as 500ms, 30s or 1h',
    ...seconds(3600, true),
    default: 5,
  }),
  maxPending: option({
    flag: '--max-pending <n>',
    env: 'EDGECAM_MAX_PENDING',
    help: 'connections allowed before their first byte',
    expect: 'an integer from 1 to 100000',
    ...integer(1, 100_000),
    default: 64,
  }),
  idleTimeout: option({
    flag: '--idle-timeout <seconds>',
    env: 'EDGECAM_IDLE_TIMEOUT',
    help: 'close a TCP connection silent this long while not streaming (v2: IDLE_TIMEOUT), 0 never',
    expect: 'a number of seconds from 0 (never) to 86400, or a duration such as 30s, 10m or 1d',
    ...seconds(86400),
    default: 600,
  }),
  token: option({
    flag: '--token <secret>',
    env: 'EDGECAM_TOKEN',
    help: 'clients must present this token',
    expect: TOKEN_EXPECT,
    schema: z.string().regex(TOKEN_PATTERN).nullable(),
    default: null,
    conflicts: ['tokenFile'],
  }),
  tokenFile: option({
    flag: '--token-file <path>',
    env: 'EDGECAM_TOKEN_FILE',
    help: 'read the token from this file',
    expect: 'a file name',
    schema: z.string().min(1).nullable(),
    default: null,
  }),
  allowLegacy: option({
    flag: '--allow-legacy',
    env: 'EDGECAM_ALLOW_LEGACY',
    help: 'with a token, still let legacy clients in without one',
    ...onOff,
    default: false,
  }),
  tlsCert: option({
    flag: '--tls-cert <path>',
    env: 'EDGECAM_TLS_CERT',
    help: 'PEM certificate: TCP over TLS, HTTP over HTTPS; needs --tls-key',
    expect: 'a PEM certificate file',
    schema: z.string().min(1).nullable(),
    default: null,
  }),
  tlsKey: option({
    flag: '--tls-key <path>',
    env: 'EDGECAM_TLS_KEY',
    help: 'PEM private key of --tls-cert',
    expect: 'a PEM private key file',
    schema: z.string().min(1).nullable(),
    default: null,
  }),
  tlsSelfSigned: option({
    flag: '--tls-self-signed',
    env: 'EDGECAM_TLS_SELF_SIGNED',
    help: 'make a self-signed certificate on first start, keep it in --tls-dir, use it for TLS',
    ...onOff,
    default: false,
    conflicts: ['tlsCert', 'tlsKey'],
  }),
  tlsDir: option({
    flag: '--tls-dir <dir>',
    env: 'EDGECAM_TLS_DIR',
    help: 'where --tls-self-signed keeps its files',
    expect: 'a directory',
    schema: z.string().min(1),
    defaultFrom: defaultTlsDir,
  }),
  httpRateLimit: option({
    flag: '--http-rate-limit <n>',
    env: 'EDGECAM_HTTP_RATE_LIMIT',
    help: 'HTTP requests per second per host, except the streams, 0 for no limit',
    expect: 'a number of requests per second from 0 (no limit) to 100000',
    ...decimal(0, 100_000),
    default: 10,
  }),
  allowedHosts: option({
    flag: '--allowed-hosts <names>',
    env: 'EDGECAM_ALLOWED_HOSTS',
    help: "without a token, HTTP answers to IP addresses, localhost, *.localhost, *.local, this machine's name and these names (comma-separated) only, against DNS rebinding",
    expect: 'host names separated by commas, such as camera.example.lan,cam',
    schema: z.array(z.string().regex(HOST_NAME_PATTERN)),
    fromText: (s: string): unknown => s.split(',').map((n) => n.trim()).filter((n) => n !== ''),
    default: [],
  }),
  logLevel: option({
    flag: '--log-level <level>',
    env: 'EDGECAM_LOG_LEVEL',
    help: LOG_LEVELS.join('|'),
    expect: LOG_LEVELS.join(', '),
    schema: z.enum(LOG_LEVELS),
    default: 'info',
  }),
  name: option({
    flag: '--name <name>',
    env: 'EDGECAM_NAME',
    help: "this server's name in MQTT topics and Home Assistant ids (a-z, 0-9, _, -); the machine's name unless given",
    expect: 'lowercase letters, digits, _ and -, up to 64 (e.g. garage)',
    schema: z.string().regex(SERVER_NAME_PATTERN),
    defaultFrom: () => defaultServerName(),
  }),
  mdns: option({
    flag: '--no-mdns',
    env: 'EDGECAM_MDNS',
    help: "do not announce this server on the LAN over mDNS/DNS-SD (by its --name), where `edgecam cameras` finds it; the discovery: block tunes it",
    ...onOff,
    default: true,
  }),
};

/**
 * The options that say what the command reads or does rather than how the server runs: not keys
 * of a config file (the file cannot name itself), kept beside the table so their flag and variable
 * are written once.
 */
export const COMMAND_OPTIONS = {
  config: { flag: '--config <file>', env: 'EDGECAM_CONFIG', help: 'read options from this YAML file; variables and flags override it' },
  configSchema: { flag: '--config-schema', help: 'print the JSON Schema of --config files and exit' },
} as const;

type Table = typeof OPTIONS;
export type OptionKey = keyof Table;
/** The table's keys, in --help order. */
export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];

/** Applies fn to every option, keeping the keys. */
export function mapOptions<T>(fn: (key: OptionKey, spec: OptionSpec) => T): Record<OptionKey, T> {
  // Object.fromEntries forgets the keys; OPTION_KEYS holds every one of them.
  return Object.fromEntries(OPTION_KEYS.map((key) => [key, fn(key, OPTIONS[key])])) as Record<OptionKey, T>;
}

/** Every option's value, as one object; a config file is checked against it (no unknown keys). */
export const OPTIONS_SCHEMA = z.strictObject(mapOptions((_, spec) => spec.schema) as { [K in OptionKey]: Table[K]['schema'] });
export type Options = z.output<typeof OPTIONS_SCHEMA>;

/** The option's default for this environment, in the schema's input form. */
export function defaultOf(spec: OptionSpec, env: NodeJS.ProcessEnv): unknown {
  return 'defaultFrom' in spec ? spec.defaultFrom(env) : spec.default;
}

/** The long flag alone, as refusals name the option: `--port`, `--no-http`. */
export function flagName(spec: Pick<OptionSpec, 'flag'>): string {
  return spec.flag.split(' ')[0] ?? spec.flag;
}

/** The JSON Schema of a --config file (shipped as edgecam.schema.json): every option optional, described by its help line. */
export function configFileJsonSchema(extraKeys: Record<string, z.ZodType> = {}): Record<string, unknown> {
  const described = mapOptions((_, spec) => {
    // As input (prefault): a schema that converts (a switch, a duration) shows no output default.
    const schema = 'default' in spec && spec.default !== null ? spec.schema.prefault(spec.default as never) : spec.schema;
    // `--no-http` is `http: false` in a file.
    const help = spec.flag.startsWith('--no-') ? `false: ${spec.help}` : spec.help;
    return schema.meta({ description: `${help} (${flagName(spec)}, ${spec.env})` });
  });
  const file = z.strictObject({ ...described, ...extraKeys }).partial().meta({
    title: 'edgecam-server configuration',
    description: 'A --config file: any of the options, by the long flag in camelCase. EDGECAM_* variables and flags override it.',
  });
  // Draft 7: what editors' YAML and JSON language servers check most completely.
  return z.toJSONSchema(file, { io: 'input', target: 'draft-7' });
}
