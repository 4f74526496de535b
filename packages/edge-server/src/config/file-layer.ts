// The --config file as a layer: its options, its cameras and its feature and events blocks, each
// checked, every problem named by the file, the line and the key.
import { closeSync, openSync, readSync } from 'node:fs';
import { describeSystemError } from '@edgecam/runtime';
import { MASK } from '../sources/url-credentials.js';
import type { z } from 'zod';
import { CAMERA_FEATURES, CAMERA_NAME_EXPECT, CAMERA_NAME_PATTERN, CAMERA_KEYS, CAMERA_SCHEMA, cameraKeyExpect, cameraValueFromText, FEATURE_KEYS, isFeatureKey, type CameraEntry, type CameraFeatures } from './camera-config.js';
import { isServiceKey, SERVICE_KEYS, SERVICE_SCHEMAS, type ServiceBlocks } from './service-blocks.js';
import { parseConfigFile, type ConfigFileEntry } from './config-file.js';
import { COMMAND_OPTIONS, OPTIONS, OPTIONS_SCHEMA, flagName } from './config-options.js';
import { ConfigError } from './config-error.js';
import { type Origin, type Layer, fromText, isOptionKey, refusals } from './layers.js';

/** Where --config and EDGECAM_CONFIG name the file; the flag wins. */
export const CONFIG_FLAG = flagName(COMMAND_OPTIONS.config);
export const CONFIG_ENV = COMMAND_OPTIONS.config.env;

/** What a file gives besides the options: its cameras, and which one is the default. */
export interface FileCameras {
  path: string;
  /** In file order, each checked against CAMERA_SCHEMA; null: the file has no `cameras:`. */
  cameras: FileCamera[] | null;
  camerasLine: number;
  default: { name: string; line: number } | null;
  /** The top-level feature blocks: the default of every camera that sets none. */
  features: Partial<CameraFeatures>;
  /** The line of each top-level feature and service block, for `config check`. */
  blockLines: Map<string, number>;
  /** The services' blocks (`events:`) the file gives. */
  services: ServiceBlocks;
}

/** One camera of the file, with the lines refusals name: its own, and its `source:` key's if it has one. */
export interface FileCamera {
  name: string;
  entry: CameraEntry;
  line: number;
  sourceLine?: number;
}

// An empty block (`motion:` alone) is the block with its defaults; an empty `publish:` publishes nowhere.
export const orEmpty = (value: unknown, key?: string): unknown => value ?? (key !== undefined && isFeatureKey(key) && unwrap(CAMERA_FEATURES[key])?._zod.def.type === 'array' ? [] : {});

/** The schema inside optional/default/pipe wrappers. */
export function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  for (let s = schema; ; ) {
    const def = s?._zod.def as { type?: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType } | undefined;
    if (!def) return s;
    if (def.type === 'pipe') s = def.in;
    else if (def.innerType && ['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type ?? '')) s = def.innerType;
    else return s;
  }
}

/** The keys the object at `path` inside `schema` takes, for a refusal of an unknown one. */
export function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
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

export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
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
export function checkBlock<S extends z.ZodType>(
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
export function deepestLine(keyLines: ReadonlyMap<string, number> | undefined, prefix: readonly string[], keys: readonly string[], fallback: number): number {
  for (let n = keys.length; n >= 0; n--) {
    const line = keyLines?.get([...prefix, ...keys.slice(0, n)].join('.'));
    if (line !== undefined) return line;
  }
  return fallback;
}

/** The file's `cameras:` map, checked; each problem names the file, the line and the key. */
export function readCameras(path: string, entry: ConfigFileEntry, problems: { line: number; problem: string }[]): FileCamera[] {
  const at = (keys: readonly string[]) => entry.keyLines?.get(keys.join('.')) ?? entry.line;
  const { value } = entry;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) {
    problems.push({ line: entry.line, problem: `${path}:${entry.line}: cameras: expected a map of camera names to their settings (front: {source: v4l2:/dev/video0})` });
    return [];
  }
  const cameras: FileCamera[] = [];
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
      const sourceLine = Object.hasOwn(given, 'source') ? at([name, 'source']) : undefined;
      if (featuresOk) cameras.push({ name, entry: { ...result.data, ...features }, line, ...(sourceLine !== undefined ? { sourceLine } : {}) });
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
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function fileLayer(path: string, name: string): { layer: Layer; cameras: FileCameras } {
  let text: string | null;
  try {
    text = readCapped(path, MAX_CONFIG_BYTES);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${describeSystemError(err)}`);
  }
  if (text === null) {
    throw new ConfigError(`${path}: the file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, more than a config can be: check that ${name} names the config file`);
  }
  const content = parseConfigFile(text, ['cameras', ...FEATURE_KEYS, ...SERVICE_KEYS]);
  if ('problem' in content) throw new ConfigError(`${path}:${content.line}: ${content.problem}`);
  const layer: Layer = new Map();
  // Every problem in the file is reported at once, in line order, so one edit fixes them all.
  const problems: { line: number; problem: string }[] = [];
  const cameras: FileCameras = { path, cameras: null, camerasLine: 0, default: null, features: {}, blockLines: new Map(), services: {} };
  for (const entry of content.entries) {
    const { key, value, line } = entry;
    const blockLine = (keys: readonly string[]) => deepestLine(entry.keyLines, [], keys, line);
    problems.push(...maskedSecrets(value, [key], (keys) => deepestLine(entry.keyLines, [], keys.slice(1), line)).map((p) => ({ line: p.line, problem: `${path}:${p.line}: ${p.problem}` })));
    if (isFeatureKey(key)) {
      const block = checkBlock(CAMERA_FEATURES[key], orEmpty(value, key), path, key, blockLine, problems);
      if (block !== undefined) Object.assign(cameras.features, { [key]: block });
      cameras.blockLines.set(key, line);
      continue;
    }
    if (isServiceKey(key)) {
      Object.assign(cameras.services, { [key]: checkBlock(SERVICE_SCHEMAS[key], orEmpty(value), path, key, blockLine, problems) ?? null });
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

/**
 * Strings holding the marker `config check` prints in place of a secret (`token: "***"`, a URL's
 * `:***@`): fed back as they are, they would become the token or the password, so each is refused
 * until the secret is written back.
 */
export function maskedSecrets(value: unknown, keys: readonly string[], lineOf: (keys: readonly string[]) => number): { line: number; problem: string }[] {
  if (typeof value === 'string') {
    const masked = value === MASK || (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && value.includes(MASK));
    if (!masked) return [];
    const line = lineOf(keys);
    return [{ line, problem: `${keys.join('.')}: ${JSON.stringify(value)} holds ${MASK}, which config check prints in place of a secret; write the secret itself` }];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => maskedSecrets(v, [...keys, k], lineOf));
}

/** The file's text, or null when it has more than `max` bytes (a device such as /dev/zero never ends). */
export function readCapped(path: string, max: number): string | null {
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
