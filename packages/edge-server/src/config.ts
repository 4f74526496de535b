// The configuration edgecam-server runs with, merged from layers (defaults < --config file <
// EDGECAM_* variables < flags), each later layer winning per option, then checked as a whole by
// the options' zod schema. A bad value is refused with one sentence naming where it came from
// (the flag, the variable and its flag, or the file, line and key) and what is allowed.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { describeSystemError, TOKEN_EXPECT, TOKEN_PATTERN } from '@edgecam/runtime';
import { Command, CommanderError, Option } from 'commander';
import type { z } from 'zod';
import {
  CAMERA_FEATURES,
  CAMERA_NAME_EXPECT,
  CAMERA_NAME_PATTERN,
  CAMERA_KEYS,
  CAMERA_SCHEMA,
  cameraFileKeys,
  cameraKeyExpect,
  cameraReport,
  cameraValueFromText,
  FEATURE_KEYS,
  isFeatureKey,
  type CameraConfig,
  type CameraEntry,
  type CameraFeatures,
} from './camera-config.js';
import { eventsConfigSchema, type EventsConfig } from './events/events-config.js';
import { parseConfigFile, type ConfigFileEntry } from './config-file.js';
import { formatResolved, maskToken, type ReportRow } from './config-report.js';
import { EdgeServerError } from './errors.js';
import { formatSourceSpec } from './sources/source-spec.js';
import {
  OPTIONS,
  OPTIONS_SCHEMA,
  OPTION_KEYS,
  configFileJsonSchema,
  defaultOf,
  flagName,
  mapOptions,
  type OptionKey,
  type OptionSpec,
  type Options,
} from './config-options.js';

export { LOG_LEVELS, defaultTlsDir, type LogLevel } from './config-options.js';

/** Shorter tokens work, but are guessable enough to warn about. */
export const SHORT_TOKEN_LENGTH = 12;

/** A bad option value or combination; the message is the sentence to print (a line per problem). */
export class ConfigError extends EdgeServerError {
  /** One sentence per problem found; most refusals have one. */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('CONFIG_INVALID', list.join('\n'));
    this.name = 'ConfigError';
    this.problems = list;
  }
}

/** Where a value came from, as refusals name it. */
type Origin =
  | { layer: 'default' }
  | { layer: 'file'; path: string; line: number }
  | { layer: 'env'; variable: string }
  | { layer: 'flag' };

interface Given {
  /** In the schema's input form. */
  value: unknown;
  /** What was typed, when the value came from text; refusals quote it. */
  text?: string;
  origin: Origin;
}

/** The options one layer gives. */
type Layer = Map<OptionKey, Given>;

/** The value that won, and the position of its layer (0: the defaults). */
interface Winner extends Given {
  rank: number;
}

function fromText(spec: OptionSpec, text: string, origin: Origin): Given {
  return { value: spec.fromText ? spec.fromText(text) : text, text, origin };
}

function defaultsLayer(env: NodeJS.ProcessEnv): Layer {
  return new Map(OPTION_KEYS.map((key) => [key, { value: defaultOf(OPTIONS[key], env), origin: { layer: 'default' } }]));
}

function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = new Map();
  for (const key of OPTION_KEYS) {
    const variable = OPTIONS[key].env;
    const text = env[variable];
    // An empty variable is unset: `EDGECAM_TOKEN= edgecam-server` must not mean an empty token.
    if (text !== undefined && text !== '') layer.set(key, fromText(OPTIONS[key], text, { layer: 'env', variable }));
  }
  return layer;
}

/** Where --config and EDGECAM_CONFIG name the file; the flag wins. */
const CONFIG_FLAG = '--config';
const CONFIG_ENV = 'EDGECAM_CONFIG';

/** What a file gives besides the options: its cameras, and which one is the default. */
interface FileCameras {
  path: string;
  /** In file order, each checked against CAMERA_SCHEMA; null: the file has no `cameras:`. */
  cameras: { name: string; entry: CameraEntry }[] | null;
  camerasLine: number;
  default: { name: string; line: number } | null;
  /** The top-level feature blocks: the default of every camera that sets none. */
  features: Partial<CameraFeatures>;
  /** The line of each top-level feature block and of `events:`, for `config check`. */
  blockLines: Map<string, number>;
  /** The `events:` section; null: none (SSE and v2 EVENT only). */
  events: EventsConfig | null;
}

/** A block's keys (`motion:` alone) with nothing under them mean the block with its defaults. */
// An empty block (`motion:` alone) is the block with its defaults; an empty `publish:` publishes nowhere.
const orEmpty = (value: unknown, key?: string): unknown => value ?? (key === 'publish' ? [] : {});

/** The schema inside optional/default/pipe wrappers. */
function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  for (let s = schema; ; ) {
    const def = s?._zod.def as { type?: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType } | undefined;
    if (!def) return s;
    if (def.type === 'pipe') s = def.in;
    else if (def.innerType && ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type ?? '')) s = def.innerType;
    else return s;
  }
}

/** The keys the object at `path` inside `schema` takes, for a refusal of an unknown one. */
function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  for (const key of path) {
    const def = s?._zod.def as { type?: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; valueType?: z.core.$ZodType } | undefined;
    if (def?.type === 'object') s = unwrap(def.shape?.[String(key)]);
    else if (def?.type === 'array') s = unwrap(def.element);
    else if (def?.type === 'record') s = unwrap(def.valueType);
    else return [];
  }
  const def = s?._zod.def as { type?: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key as string] : undefined;
  return v;
}

/**
 * A block of the file (`record:`, `cameras.front.motion:`, `events:`) checked against its schema:
 * the value, or one refusal per problem naming the file, the line and the dotted key deep inside.
 * `name` is the block's dotted key as refusals show it; `lineOf` finds the line of a key path
 * relative to the block.
 */
function checkBlock<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: string,
  name: string,
  lineOf: (keys: readonly string[]) => number,
  problems: { line: number; problem: string }[],
): z.output<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const keys = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const valid = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const line = lineOf([...keys, key]);
        problems.push({ line, problem: `${path}:${line}: ${[name, ...keys, key].join('.')}: no such key; the keys are ${valid.join(', ')}` });
      }
      continue;
    }
    const line = lineOf(keys);
    const got = valueAt(value, issue.path);
    const shown = got === undefined || (typeof got === 'object' && got !== null) ? '' : JSON.stringify(got);
    const tail = shown && !issue.message.includes(shown) ? `, got ${shown}` : '';
    problems.push({ line, problem: `${path}:${line}: ${[name, ...keys].join('.')}: ${issue.message}${tail}` });
  }
  return undefined;
}

/** The line of the deepest key of `keys` (under `prefix`) that the file has, else `fallback`. */
function deepestLine(keyLines: ReadonlyMap<string, number> | undefined, prefix: readonly string[], keys: readonly string[], fallback: number): number {
  for (let n = keys.length; n >= 0; n--) {
    const line = keyLines?.get([...prefix, ...keys.slice(0, n)].join('.'));
    if (line !== undefined) return line;
  }
  return fallback;
}

/** The file's `cameras:` map, checked; each problem names the file, the line and the key. */
function readCameras(path: string, entry: ConfigFileEntry, problems: { line: number; problem: string }[]): { name: string; entry: CameraEntry }[] {
  const at = (keys: readonly string[]) => entry.keyLines?.get(keys.join('.')) ?? entry.line;
  const { value } = entry;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) {
    problems.push({ line: entry.line, problem: `${path}:${entry.line}: cameras: expected a map of camera names to their settings (front: {source: v4l2:/dev/video0})` });
    return [];
  }
  const cameras: { name: string; entry: CameraEntry }[] = [];
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const line = at([name]);
    if (!CAMERA_NAME_PATTERN.test(name)) {
      problems.push({ line, problem: `${path}:${line}: cameras: ${JSON.stringify(name)}: a camera name is ${CAMERA_NAME_EXPECT}` });
      continue;
    }
    // `front:` alone is a camera with every top-level setting.
    const given = raw ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) {
      problems.push({ line, problem: `${path}:${line}: cameras.${name}: expected its settings as a map (${CAMERA_KEYS.join(', ')})` });
      continue;
    }
    // Feature blocks are checked on their own, so a refusal can name the key deep inside them.
    const features: Record<string, unknown> = {};
    let featuresOk = true;
    for (const key of FEATURE_KEYS) {
      if (!Object.hasOwn(given, key)) continue;
      const block = checkBlock(CAMERA_FEATURES[key], orEmpty((given as Record<string, unknown>)[key], key), path, `cameras.${name}.${key}`, (keys) => deepestLine(entry.keyLines, [name, key], keys, line), problems);
      if (block === undefined) featuresOk = false;
      else features[key] = block;
    }
    const converted = Object.fromEntries(Object.entries(given).flatMap(([k, v]) => (isFeatureKey(k) ? [] : [[k, cameraValueFromText(k, v)]])));
    const result = CAMERA_SCHEMA.safeParse(converted);
    if (result.success) {
      if (featuresOk) cameras.push({ name, entry: { ...result.data, ...features } });
      continue;
    }
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? '')];
      for (const key of keys) {
        if (seen.has(key)) continue;
        seen.add(key);
        const keyLine = at([name, key]);
        const expect = cameraKeyExpect(key);
        const problem =
          issue.code === 'unrecognized_keys'
            ? `no such camera setting; the settings are ${CAMERA_KEYS.join(', ')}`
            : `expected ${expect ?? issue.message}, got ${JSON.stringify((given as Record<string, unknown>)[key])}`;
        problems.push({ line: keyLine, problem: `${path}:${keyLine}: cameras.${name}.${key}: ${problem}` });
      }
    }
  }
  return cameras;
}

// A config file with every camera and feature spelled out is a few kB; a larger one is a mistake
// (or an attack) that would take the parser minutes and gigabytes.
const MAX_CONFIG_BYTES = 1024 * 1024;

function fileLayer(path: string, name: string): { layer: Layer; cameras: FileCameras } {
  let text: string | null;
  try {
    text = readCapped(path, MAX_CONFIG_BYTES);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${describeSystemError(err)}`);
  }
  if (text === null) {
    throw new ConfigError(`${path}: the file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, more than a config can be: check that ${name} names the config file`);
  }
  const content = parseConfigFile(text, ['cameras', ...FEATURE_KEYS, 'events']);
  if ('problem' in content) throw new ConfigError(`${path}:${content.line}: ${content.problem}`);
  const layer: Layer = new Map();
  // Every problem in the file is reported at once, in line order, so one edit fixes them all.
  const problems: { line: number; problem: string }[] = [];
  const cameras: FileCameras = { path, cameras: null, camerasLine: 0, default: null, features: {}, blockLines: new Map(), events: null };
  for (const entry of content.entries) {
    const { key, value, line } = entry;
    const blockLine = (keys: readonly string[]) => deepestLine(entry.keyLines, [], keys, line);
    if (isFeatureKey(key)) {
      const block = checkBlock(CAMERA_FEATURES[key], orEmpty(value, key), path, key, blockLine, problems);
      if (block !== undefined) Object.assign(cameras.features, { [key]: block });
      cameras.blockLines.set(key, line);
      continue;
    }
    if (key === 'events') {
      cameras.events = checkBlock(eventsConfigSchema, orEmpty(value), path, key, blockLine, problems) ?? null;
      cameras.blockLines.set(key, line);
      continue;
    }
    if (key === 'cameras') {
      cameras.cameras = readCameras(path, entry, problems);
      cameras.camerasLine = line;
      continue;
    }
    if (key === 'default') {
      if (typeof value === 'string' && CAMERA_NAME_PATTERN.test(value)) cameras.default = { name: value, line };
      else problems.push({ line, problem: `${path}:${line}: default: expected the name of one of the cameras: ${CAMERA_NAME_EXPECT}, got ${JSON.stringify(value)}` });
      continue;
    }
    if (!isOptionKey(key)) {
      problems.push({ line, problem: `${path}:${line}: ${key}: no such option; the keys are the long flags in camelCase (httpPort for --http-port)` });
      continue;
    }
    const origin: Origin = { layer: 'file', path, line };
    // Strings go through the flags' text rules, so `alwaysOn: yes` means what EDGECAM_ALWAYS_ON=yes does.
    layer.set(key, typeof value === 'string' ? fromText(OPTIONS[key], value, origin) : { value, origin });
  }
  // The whole file is checked, values overridden by variables or flags too.
  const result = OPTIONS_SCHEMA.partial().safeParse(Object.fromEntries([...layer].map(([key, given]) => [key, given.value])));
  if (!result.success) {
    for (const [key, problem] of refusals(result.error.issues, (k) => layer.get(k))) {
      const given = isOptionKey(key) ? layer.get(key) : undefined;
      problems.push({ line: given?.origin.layer === 'file' ? given.origin.line : 0, problem });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.sort((a, b) => a.line - b.line).map((p) => p.problem));
  return { layer, cameras };
}

function flagLayer(program: Command): Layer {
  const opts = program.opts<Record<string, unknown>>();
  const layer: Layer = new Map();
  for (const key of OPTION_KEYS) {
    if (program.getOptionValueSource(key) !== 'cli') continue;
    const value = opts[key];
    layer.set(key, typeof value === 'string' ? fromText(OPTIONS[key], value, { layer: 'flag' }) : { value, origin: { layer: 'flag' } });
  }
  return layer;
}

/** The option as a refusal names it: the flag, the variable and its flag, or the file, line and key. */
function nameOf(key: OptionKey, origin: Origin): string {
  const flag = flagName(OPTIONS[key]);
  if (origin.layer === 'file') return `${origin.path}:${origin.line}: ${key}`;
  return origin.layer === 'env' ? `${origin.variable} (${flag})` : flag;
}

/** Options that give one thing two ways: the higher layer wins; both from one layer is ambiguous. */
const ALTERNATIVES: readonly { keys: readonly [OptionKey, OptionKey]; what: string }[] = [
  { keys: ['token', 'tokenFile'], what: 'the token' },
];

/** Per option, the value from the last layer that gives it; layers[0] must give every option. */
function merge(layers: readonly Layer[]): Record<OptionKey, Winner> {
  const winner = (key: OptionKey, below = layers.length): Winner => {
    for (let rank = below - 1; rank >= 0; rank--) {
      const given = layers[rank]?.get(key);
      if (given) return { ...given, rank };
    }
    throw new Error(`no default for ${key}`);
  };
  const merged = mapOptions((key) => winner(key));
  for (const { keys: [a, b], what } of ALTERNATIVES) {
    const [wa, wb] = [merged[a], merged[b]];
    if (wa.rank === 0 || wb.rank === 0) continue;
    if (wa.rank === wb.rank) throw new ConfigError(`${nameOf(a, wa.origin)} and ${nameOf(b, wb.origin)}: give ${what} one way, not both`);
    const loser = wa.rank < wb.rank ? a : b;
    merged[loser] = winner(loser, 1); // back to its default
  }
  return merged;
}

function isOptionKey(key: unknown): key is OptionKey {
  return typeof key === 'string' && Object.hasOwn(OPTIONS, key);
}

/** The refusal of each option the schema's issues are about (one per option): where the value came from, what is allowed, what was given. */
function refusals(issues: readonly { path: PropertyKey[]; message: string }[], givenFor: (key: OptionKey) => Given | undefined): Map<PropertyKey, string> {
  const found = new Map<PropertyKey, string>();
  for (const issue of issues) {
    const key = issue.path[0] ?? '';
    if (found.has(key)) continue;
    const given = isOptionKey(key) ? givenFor(key) : undefined;
    found.set(
      key,
      isOptionKey(key) && given ? `${nameOf(key, given.origin)}: expected ${OPTIONS[key].expect}, got ${JSON.stringify(given.text ?? given.value)}` : issue.message,
    );
  }
  return found;
}

/** The merged values checked by the schema; every bad one is refused. */
function validate(merged: Record<OptionKey, Winner>): Options {
  const result = OPTIONS_SCHEMA.safeParse(mapOptions((key) => merged[key].value));
  if (result.success) return result.data;
  throw new ConfigError([...refusals(result.error.issues, (key) => merged[key]).values()]);
}

/** The file's text, or null when it has more than `max` bytes (a device such as /dev/zero never ends). */
function readCapped(path: string, max: number): string | null {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(max + 1);
    let got = 0;
    for (let n = 1; n > 0 && got < buffer.length; got += n) n = readSync(fd, buffer, got, buffer.length - got, null);
    return got > max ? null : buffer.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readTokenFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${describeSystemError(err)}`);
  }
  // Files written by `echo` or an editor end with a newline that is no part of the token.
  const token = text.replace(/[\r\n]+$/, '');
  if (!TOKEN_PATTERN.test(token)) {
    throw new ConfigError(`${name}: ${path} must hold the token alone, ${TOKEN_EXPECT} (it holds ${token.length} characters)`);
  }
  return token;
}

function checkTls(o: Options, merged: Record<OptionKey, Winner>): void {
  if ((o.tlsCert === null) !== (o.tlsKey === null)) {
    const [given, missing] = o.tlsCert !== null ? (['tlsCert', 'tlsKey'] as const) : (['tlsKey', 'tlsCert'] as const);
    throw new ConfigError(`${nameOf(given, merged[given].origin)} needs ${flagName(OPTIONS[missing])} too: TLS takes a certificate and its private key`);
  }
  if (o.tlsSelfSigned && o.tlsCert !== null) {
    throw new ConfigError(
      `${nameOf('tlsSelfSigned', merged.tlsSelfSigned.origin)} and ${nameOf('tlsCert', merged.tlsCert.origin)}: use your own certificate or a self-signed one, not both`,
    );
  }
}

function checkPorts(o: Options, merged: Record<OptionKey, Winner>): void {
  // Caught here, the second listen would otherwise fail as "port in use" by this very server.
  if (o.http && o.port !== 0 && o.port === o.httpPort) {
    throw new ConfigError(
      `${nameOf('port', merged.port.origin)} and ${nameOf('httpPort', merged.httpPort.origin)}: both are ${o.port}; TCP and HTTP need a port each`,
    );
  }
}

/** What a ceiling (maxSize, maxFps) leaves out of the capture it is set for, in words; undefined when nothing. */
function belowCapture(size: { width: number; height: number }, fps: number, maxSize: { width: number; height: number } | null, maxFps: number | null): { key: 'maxSize' | 'maxFps'; text: string } | undefined {
  if (maxSize && (maxSize.width < size.width || maxSize.height < size.height)) {
    return { key: 'maxSize', text: `${maxSize.width}x${maxSize.height} is below the capture size ${size.width}x${size.height}` };
  }
  if (maxFps !== null && maxFps < fps) return { key: 'maxFps', text: `${maxFps} is below the capture rate ${fps}` };
  return undefined;
}

function checkCeilings(o: Options, merged: Record<OptionKey, Winner>): void {
  const below = belowCapture(o.size, o.fps, o.maxSize, o.maxFps);
  if (below) throw new ConfigError(`${nameOf(below.key, merged[below.key].origin)}: ${below.text}; raise it, or lower ${below.key === 'maxSize' ? '--size' : '--fps'}`);
}

/** The options as the server uses them: the size split, no HTTP as a null port, seconds named. */
function toConfig(o: Options, token: string | null) {
  return {
    host: o.host,
    port: o.port,
    /** null with --no-http. */
    httpPort: o.http ? o.httpPort : null,
    source: o.source,
    width: o.size.width,
    height: o.size.height,
    fps: o.fps,
    /** The most PUT /settings may ask for; null: width, height and fps. */
    maxWidth: o.maxSize?.width ?? null,
    maxHeight: o.maxSize?.height ?? null,
    maxFps: o.maxFps,
    /** 1..100, mapped onto ffmpeg's -q:v. */
    quality: o.quality,
    /** Seconds the capture runs on after the last consumer leaves. */
    idleStopSeconds: o.idleStop,
    alwaysOn: o.alwaysOn,
    /** Per protocol; 0 for no limit. */
    maxClients: o.maxClients,
    /** TCP connections from one address (IPv6: one /64); 0 for no limit. */
    maxPerAddress: o.maxPerAddress,
    logLevel: o.logLevel,
    /** v2 clients must send HELLO within this many seconds. */
    helloTimeoutSeconds: o.helloTimeout,
    /** TCP connections without their first byte yet, at most; the oldest is closed for a new one, so a flood of silent connections cannot lock real clients out. */
    maxPending: o.maxPending,
    /** A legacy (or not yet identified) connection silent this long while not receiving frames is closed; 0: never. */
    idleTimeoutSeconds: o.idleTimeout,
    /** Clients must present this (v2 HELLO, HTTP); null: anyone who can reach the server gets in. */
    token,
    /** With a token set, still let legacy clients in (they cannot present one). */
    allowLegacy: o.allowLegacy,
    /** PEM files for TLS (both or neither). */
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    /** Make (once) and use a self-signed certificate kept in tlsDir. */
    tlsSelfSigned: o.tlsSelfSigned,
    tlsDir: o.tlsDir,
    /** HTTP requests per second per address, for everything but the stream; 0: no limit. */
    httpRateLimit: o.httpRateLimit,
    /** Without a token, the host names HTTP answers to besides IP addresses, localhost, *.local and this machine's. */
    allowedHosts: o.allowedHosts,
  };
}

/** The options the server runs with. */
export type EdgeServerConfig = ReturnType<typeof toConfig>;

/** The options and the config file's cameras. */
export interface ServerConfig extends EdgeServerConfig {
  /** The file's cameras, the default first; null or absent: one camera named `default`, from the options. */
  cameras?: CameraConfig[] | null;
  /** The file's top-level feature blocks, for the one camera without a `cameras:` map (the named ones have them resolved in). */
  features?: Partial<CameraFeatures>;
  /** The file's `events:` section; null or absent: events go to SSE and v2 clients only. */
  events?: EventsConfig | null;
}

/** The configuration, and per option the value that won and where it came from. */
interface Resolved {
  config: ServerConfig;
  merged: Record<OptionKey, Winner>;
  fileCameras?: FileCameras;
}

/** Merges the layers (lowest first, the defaults first of all), checks them and reads the token file. */
function resolve(layers: readonly Layer[], fileCameras?: FileCameras): Resolved {
  const merged = merge(layers);
  const o = validate(merged);
  const token = o.tokenFile !== null ? readTokenFile(o.tokenFile, nameOf('tokenFile', merged.tokenFile.origin)) : o.token;
  checkTls(o, merged);
  checkPorts(o, merged);
  checkCeilings(o, merged);
  const cameras = fileCameras ? resolveCameras(o, fileCameras) : null;
  const features = fileCameras && Object.keys(fileCameras.features).length > 0 ? { features: fileCameras.features } : {};
  const events = fileCameras?.events ? { events: fileCameras.events } : {};
  return { config: { ...toConfig(o, token), ...(cameras ? { cameras } : {}), ...features, ...events }, merged, fileCameras };
}

/** The file's cameras with every key left out taken from the options, the default first. */
function resolveCameras(o: Options, file: FileCameras): CameraConfig[] | null {
  const { path } = file;
  if (!file.cameras) {
    if (file.default) throw new ConfigError(`${path}:${file.default.line}: default: there is no cameras: map to choose from; add one or remove default:`);
    return null;
  }
  const cameras = file.cameras.map(({ name, entry }): CameraConfig => {
    const size = entry.size ?? o.size;
    const fps = entry.fps ?? o.fps;
    const maxSize = entry.maxSize !== undefined ? entry.maxSize : o.maxSize;
    const maxFps = entry.maxFps !== undefined ? entry.maxFps : o.maxFps;
    const below = belowCapture(size, fps, maxSize, maxFps);
    if (below) throw new ConfigError(`${path}: cameras.${name}.${below.key}: ${below.text}; raise it, or lower the camera's ${below.key === 'maxSize' ? 'size' : 'fps'}`);
    return {
      name,
      source: entry.source ?? o.source,
      width: size.width,
      height: size.height,
      fps,
      maxWidth: maxSize?.width ?? null,
      maxHeight: maxSize?.height ?? null,
      maxFps,
      quality: entry.quality ?? o.quality,
      idleStopSeconds: entry.idleStop ?? o.idleStop,
      alwaysOn: entry.alwaysOn ?? o.alwaysOn,
      legacyPort: entry.legacyPort ?? null,
      record: entry.record ?? file.features.record ?? null,
      motion: entry.motion ?? file.features.motion ?? null,
      h264: entry.h264 ?? file.features.h264 ?? null,
      // The schema's default is []: an absent block, which takes the top-level one.
      publish: (entry.publish?.length ? entry.publish : undefined) ?? (file.features.publish?.length ? file.features.publish : null),
    };
  });
  const names = cameras.map((c) => c.name);
  const chosen = file.default?.name ?? names[0];
  const first = cameras.find((c) => c.name === chosen);
  if (!first) throw new ConfigError(`${path}:${file.default?.line ?? 0}: default: no camera ${JSON.stringify(chosen)}; the cameras are ${names.join(', ')}`);
  const taken = new Map<number, string>([[o.port, 'port']]);
  if (o.http) taken.set(o.httpPort, 'httpPort');
  for (const c of cameras) {
    if (c.legacyPort === null) continue;
    const holder = taken.get(c.legacyPort);
    if (holder) {
      throw new ConfigError(`${path}: cameras.${c.name}.legacyPort: ${c.legacyPort} is already ${holder}'s; give each camera's legacy port a number of its own`);
    }
    taken.set(c.legacyPort, `cameras.${c.name}.legacyPort`);
  }
  if (cameras.filter((c) => c.source.kind === 'stdin').length > 1) {
    throw new ConfigError(`${path}: cameras: only one camera can read stdin`);
  }
  return [first, ...cameras.filter((c) => c !== first)];
}

/** Where a value came from, in a few words: `default`, `--port`, `EDGECAM_PORT`, `edgecam.yaml:3`. */
function originText(key: OptionKey, origin: Origin): string {
  if (origin.layer === 'file') return `${origin.path}:${origin.line}`;
  return origin.layer === 'env' ? origin.variable : origin.layer === 'flag' ? flagName(OPTIONS[key]) : 'default';
}

/** The options as `config check` prints them: in the file's form, the token masked, each with where it came from. */
function reportRows(config: ServerConfig, merged: Record<OptionKey, Winner>, file?: FileCameras): ReportRow[] {
  const rows = OPTION_KEYS.map((key) => {
    const winner = merged[key];
    const from = originText(key, winner.origin);
    if (key !== 'token') return { key, value: winner.value, from };
    const tokenFile = merged.tokenFile.value;
    return { key, value: config.token === null ? null : maskToken(config.token), from: typeof tokenFile === 'string' ? `read from ${tokenFile}` : from };
  });
  const blocks: ReportRow[] = file
    ? [...file.blockLines].map(([key, line]) => ({ key, value: key === 'events' ? config.events : config.features?.[key as keyof CameraFeatures], from: `${file.path}:${line}` }))
    : [];
  const cameras = config.cameras;
  if (!cameras || !file) return [...rows, ...blocks];
  return [
    ...rows,
    ...blocks,
    { key: 'default', value: cameras[0]?.name, from: file.default ? `${file.path}:${file.default.line}` : 'the first camera' },
    {
      key: 'cameras',
      value: Object.fromEntries(cameras.map((c) => [c.name, cameraReport(c, formatSourceSpec)])),
      from: `${file.path}:${file.camerasLine}, unset keys from above`,
    },
  ];
}

/** The configuration with nothing given, in this process's environment. */
export const DEFAULT_CONFIG: EdgeServerConfig = resolve([defaultsLayer(process.env)]).config;

function helpLine(spec: OptionSpec, env: NodeJS.ProcessEnv): string {
  if (!spec.flag.includes('<')) return `${spec.help} (${spec.env}=${spec.flag.startsWith('--no-') ? 'off' : 'on'})`;
  const value = defaultOf(spec, env);
  return value === null ? `${spec.help} (${spec.env})` : `${spec.help} (${spec.env}, default ${String(value)})`;
}

/** What the command line asks for besides running the server. */
interface Asked {
  check?: { json: boolean };
}

function buildProgram(version: string, env: NodeJS.ProcessEnv, write: (s: string) => void, asked: Asked): Command {
  const program = new Command('edgecam-server')
    .description('Serve a camera (or ffmpeg test pattern) to edgecam, seed-era and HTTP clients on the LAN.')
    .version(version)
    // Before the subcommands, which inherit both.
    .configureOutput({ writeOut: write, writeErr: write })
    .exitOverride();
  program.option(`${CONFIG_FLAG} <file>`, `read options from this YAML file; variables and flags override it (${CONFIG_ENV})`);
  program.option('--config-schema', 'print the JSON Schema of --config files and exit');
  for (const key of OPTION_KEYS) {
    const spec: OptionSpec = OPTIONS[key];
    const option = new Option(spec.flag, helpLine(spec, env));
    if (spec.conflicts) option.conflicts([...spec.conflicts]);
    program.addOption(option);
  }
  program.allowExcessArguments(false).action(() => undefined);
  // The server's options stay the program's, so they are read after `config check` too.
  program
    .command('config')
    .description('about the configuration')
    .command('check')
    .description(`print the configuration the options resolve to (defaults < ${CONFIG_FLAG} file < variables < flags), the token masked, and exit; or every problem, and exit 2`)
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }) => {
      asked.check = { json: opts.json === true };
    });
  return program;
}

export type CommandLineResult = { config: ServerConfig } | { exitCode: number; output: string };

/**
 * Parses argv (without node and the script) and the environment. Returns the config, or what to
 * print and the exit code for --help, --version, `config check` and usage errors (2). Throws
 * ConfigError for a bad value; callers print its problems and exit 2.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): CommandLineResult {
  let output = '';
  const asked: Asked = {};
  const program = buildProgram(version, env, (s) => (output += s), asked);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; a usage error, or `config` without `check`, is 2.
      return { exitCode: err.exitCode === 0 ? 0 : 2, output };
    }
    throw err;
  }
  if (program.opts().configSchema === true) return { exitCode: 0, output: `${JSON.stringify(configFileJsonSchema(fileKeys()), null, 2)}\n` };
  const run = (): Resolved => {
    const layers = [defaultsLayer(env)];
    const file = configFileFrom(program, env);
    const read = file ? fileLayer(file.path, file.name) : undefined;
    if (read) layers.push(read.layer);
    layers.push(envLayer(env), flagLayer(program));
    return resolve(layers, read?.cameras);
  };
  if (!asked.check) return { config: run().config };
  try {
    const { config, merged, fileCameras } = run();
    return { exitCode: 0, output: formatResolved(reportRows(config, merged, fileCameras), asked.check.json ? 'json' : 'yaml', version) };
  } catch (err) {
    if (err instanceof ConfigError) return { exitCode: 2, output: err.problems.map((p) => `${p}\n`).join('') };
    throw err;
  }
}

/** The keys a file has besides the options: the cameras, the features' defaults, and events. */
function fileKeys(): Record<string, z.ZodType> {
  const events = eventsConfigSchema.meta({ description: 'where camera events go besides GET /events and v2 clients: webhooks, mqtt (with Home Assistant discovery), clips' });
  return { ...cameraFileKeys(), events };
}

/** The --config file, and how a refusal names where its path came from. */
function configFileFrom(program: Command, env: NodeJS.ProcessEnv): { path: string; name: string } | undefined {
  const flag: unknown = program.opts().config;
  if (typeof flag === 'string') return { path: flag, name: CONFIG_FLAG };
  const variable = env[CONFIG_ENV];
  return variable ? { path: variable, name: `${CONFIG_ENV} (${CONFIG_FLAG})` } : undefined;
}
