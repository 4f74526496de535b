// One camera of a config file's `cameras:` map: the per-camera zod schema (every key optional,
// falling back to the top-level option of the same name) and the settings a camera runs with.
// Features that hang off a camera (recording, motion, H.264, publishing) extend CAMERA_SCHEMA.
import { z } from 'zod';
import { OPTIONS, tcpPort, type OptionKey, type Options, type OptionSpec } from './config-options.js';
import { FEATURES } from '../features.js';
import { toFileForm } from './file-form.js';

/** What a camera may be called: it goes into URLs (/cams/NAME/…), log lines and metric labels. */
export const CAMERA_NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** CAMERA_NAME_PATTERN in words, for refusals. */
export const CAMERA_NAME_EXPECT = '1 to 32 of a-z, 0-9, _ and -';
/** The one camera's name when the file has no `cameras:` map. */
export const DEFAULT_CAMERA_NAME = 'default';

type Listed = (typeof FEATURES)[number];

/**
 * What hangs off a camera (features.ts), each a block of its own. Given at the top level of the
 * file, a block is the default of every camera that sets none (so the one camera without a
 * `cameras:` map has it too).
 */
export const CAMERA_FEATURES = Object.fromEntries(FEATURES.map((f) => [f.key, f.schema])) as { readonly [F in Listed as F['key']]: F['schema'] };
/** The feature keys, in file order. */
export const FEATURE_KEYS = FEATURES.map((f) => f.key) as Listed['key'][];
export type FeatureKey = Listed['key'];

/** A camera's features, resolved: null where it has none. */
export type CameraFeatures = { [F in Listed as F['key']]: z.output<F['schema']> | null };

const optionalFeatures = Object.fromEntries(FEATURES.map((f) => [f.key, f.schema.optional()])) as { [F in Listed as F['key']]: z.ZodOptional<F['schema']> };

/** The features' top-level blocks, checked: the default of every camera that sets none. */
export const FEATURE_DEFAULTS_SCHEMA = z.strictObject(optionalFeatures);

/** A camera setting: its schema, its refusal's words, its text rule and its JSON Schema description. */
type CameraSetting<S extends z.ZodType> = Pick<OptionSpec<S>, 'schema' | 'expect' | 'fromText'> & { description: string };

/** A setting that falls back to the top-level option of the same name, by that option's rules. */
function inherited<K extends OptionKey>(key: K): CameraSetting<(typeof OPTIONS)[K]['schema']> {
  const spec = OPTIONS[key];
  return { schema: spec.schema, expect: spec.expect, fromText: spec.fromText, description: `${spec.help}; default: the top-level ${key}` };
}

/** The capture settings a camera takes from the top-level option of the same name, in file order. */
export const INHERITED_KEYS = ['source', 'size', 'fps', 'maxSize', 'maxFps', 'quality', 'idleStop', 'alwaysOn'] as const satisfies readonly OptionKey[];
type InheritedKey = (typeof INHERITED_KEYS)[number];

/** The capture settings of a camera, in file order. */
const CAMERA_SETTINGS = {
  ...(Object.fromEntries(INHERITED_KEYS.map((key) => [key, inherited(key)])) as { [K in InheritedKey]: CameraSetting<(typeof OPTIONS)[K]['schema']> }),
  // Legacy clients cannot name a camera; this port serves this camera alone, to legacy and v2 clients.
  // The port options' rules, but not 0: a port the system picks could not be told to a legacy client.
  legacyPort: { ...tcpPort(1), description: 'a TCP port serving this camera alone, to legacy and v2 clients' },
};
type SettingKey = keyof typeof CAMERA_SETTINGS;

const optionalSettings = Object.fromEntries(Object.entries(CAMERA_SETTINGS).map(([key, s]) => [key, s.schema.optional()])) as {
  [K in SettingKey]: z.ZodOptional<(typeof CAMERA_SETTINGS)[K]['schema']>;
};

/** One entry of `cameras:`, as the file holds it; a key left out takes the top-level value. */
export const CAMERA_SCHEMA = z.strictObject({ ...optionalSettings, ...optionalFeatures });
export type CameraEntry = z.output<typeof CAMERA_SCHEMA>;

/** The keys a config file has besides the options, for its JSON Schema. */
export function cameraFileKeys(): Record<string, z.ZodType> {
  const described = Object.fromEntries(
    Object.entries(CAMERA_SCHEMA.shape).map(([key, schema]) => {
      if (isFeatureKey(key)) return [key, schema.meta({ description: `${CAMERA_FEATURES[key].description ?? key}; default: the top-level ${key}` })];
      return [key, schema.meta({ description: settingOf(key)?.description })];
    }),
  );
  return {
    default: z.string().regex(CAMERA_NAME_PATTERN).meta({ description: 'the camera served on the root paths and to clients that name none; default: the first' }),
    ...Object.fromEntries(FEATURE_KEYS.map((key) => [key, CAMERA_FEATURES[key].meta({ description: `every camera's ${key} block unless it sets its own: ${CAMERA_FEATURES[key].description ?? ''}` })])),
    cameras: z
      .record(z.string().regex(CAMERA_NAME_PATTERN), z.strictObject(described).nullable())
      .meta({ description: `the cameras, by name (${CAMERA_NAME_EXPECT}); each setting left out takes the top-level value` }),
  };
}

/** The capture settings of CAMERA_SCHEMA (its keys but the features), in file order. */
export const CAMERA_KEYS = Object.keys(CAMERA_SCHEMA.shape).filter((k) => !isFeatureKey(k)) as Exclude<keyof typeof CAMERA_SCHEMA.shape, FeatureKey>[];

/** A key of CAMERA_FEATURES. */
export function isFeatureKey(key: unknown): key is FeatureKey {
  return typeof key === 'string' && Object.hasOwn(CAMERA_FEATURES, key);
}

/** The camera setting of this key; undefined for a feature block or no key at all. */
function settingOf(key: string): CameraSetting<z.ZodType> | undefined {
  return Object.hasOwn(CAMERA_SETTINGS, key) ? CAMERA_SETTINGS[key as SettingKey] : undefined;
}

/** Completes "expected …, got …" for a camera key: its setting's words, the top-level option's where it inherits one. */
export function cameraKeyExpect(key: string): string | undefined {
  return settingOf(key)?.expect;
}

/** A camera key's text (`alwaysOn: yes`, `fps: "15"`) through the flags' text rules, as top-level keys are. */
export function cameraValueFromText(key: string, value: unknown): unknown {
  const fromText = settingOf(key)?.fromText;
  return typeof value === 'string' && fromText ? fromText(value) : value;
}

/**
 * A camera as the server runs it: the file's keys, each resolved (the camera's own value, else the
 * top-level option's), in the options' own form; the ceilings absent or null where there are none.
 */
export type CameraConfig = { name: string; legacyPort: number | null } & Pick<Options, Exclude<InheritedKey, 'maxSize' | 'maxFps'>> &
  Partial<Pick<Options, 'maxSize' | 'maxFps'>> &
  Partial<CameraFeatures>;

/** A block as given, or undefined when absent; a list block's schema default, [], is absent too (publish:). */
function blockGiven<T>(block: T | null | undefined): T | undefined {
  return block === null || block === undefined || (Array.isArray(block) && block.length === 0) ? undefined : block;
}

/** The camera `entry` describes: each key it leaves out from the top-level options, each feature block from the file's top-level blocks. */
export function cameraOf(name: string, entry: CameraEntry, top: Options, features: Partial<CameraFeatures>): CameraConfig {
  // `!== undefined`: a ceiling given as null lifts the top-level one.
  const settings = Object.fromEntries(INHERITED_KEYS.map((key) => [key, entry[key] !== undefined ? entry[key] : top[key]]));
  const blocks = Object.fromEntries(FEATURE_KEYS.map((key) => [key, blockGiven(entry[key]) ?? blockGiven(features[key]) ?? null]));
  return { name, ...settings, legacyPort: entry.legacyPort ?? null, ...blocks } as CameraConfig;
}

/**
 * The camera's settings in the file's form, as `config check` prints them (read back, they give
 * the same camera): a ceiling the camera lifts from the top-level one (`top`) as null.
 */
export function cameraReport(c: CameraConfig, top: Pick<Options, 'maxSize' | 'maxFps'>): Record<string, unknown> {
  const settings = INHERITED_KEYS.flatMap((key) => {
    const value = c[key];
    if (value !== undefined && value !== null) return [[key, toFileForm(OPTIONS[key].schema, value)]];
    return (key === 'maxSize' || key === 'maxFps') && top[key] !== null ? [[key, null]] : [];
  });
  return {
    ...Object.fromEntries(settings),
    ...(c.legacyPort !== null ? { legacyPort: c.legacyPort } : {}),
    ...Object.fromEntries(FEATURE_KEYS.flatMap((k) => (c[k] ? [[k, toFileForm(CAMERA_FEATURES[k], c[k])]] : []))),
  };
}
