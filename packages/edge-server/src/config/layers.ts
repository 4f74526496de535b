// The configuration's layers (defaults < --config file < EDGECAM_* variables < flags): what each
// gives per option, where it came from, and the merge in which each later layer wins per option,
// checked as a whole by the options' zod schema.
import { Command } from 'commander';
import { OPTIONS, OPTIONS_SCHEMA, OPTION_KEYS, defaultOf, flagName, mapOptions, type OptionKey, type OptionSpec, type Options } from './config-options.js';
import { ConfigError } from './config-error.js';

/** Where a value came from, as refusals name it. */
export type Origin =
  | { layer: 'default' }
  | { layer: 'file'; path: string; line: number }
  | { layer: 'env'; variable: string }
  | { layer: 'flag' };

export interface Given {
  /** In the schema's input form. */
  value: unknown;
  /** What was typed, when the value came from text; refusals quote it. */
  text?: string;
  origin: Origin;
}

/** The options one layer gives. */
export type Layer = Map<OptionKey, Given>;

/** The value that won, and the position of its layer (0: the defaults). */
export interface Winner extends Given {
  rank: number;
}

export function fromText(spec: OptionSpec, text: string, origin: Origin): Given {
  return { value: spec.fromText ? spec.fromText(text) : text, text, origin };
}

export function defaultsLayer(env: NodeJS.ProcessEnv): Layer {
  return new Map(OPTION_KEYS.map((key) => [key, { value: defaultOf(OPTIONS[key], env), origin: { layer: 'default' } }]));
}

export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = new Map();
  for (const key of OPTION_KEYS) {
    const variable = OPTIONS[key].env;
    const text = env[variable];
    // An empty variable is unset: `EDGECAM_TOKEN= edgecam-server` must not mean an empty token.
    if (text !== undefined && text !== '') layer.set(key, fromText(OPTIONS[key], text, { layer: 'env', variable }));
  }
  return layer;
}

/** The options the command line's flags give. */
export function flagLayer(program: Command): Layer {
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
export function nameOf(key: OptionKey, origin: Origin): string {
  const flag = flagName(OPTIONS[key]);
  if (origin.layer === 'file') return `${origin.path}:${origin.line}: ${key}`;
  return origin.layer === 'env' ? `${origin.variable} (${flag})` : flag;
}

/** Options that give one thing two ways: the higher layer wins; both from one layer is ambiguous. */
export const ALTERNATIVES: readonly { keys: readonly [OptionKey, OptionKey]; what: string }[] = [
  { keys: ['token', 'tokenFile'], what: 'the token' },
];

/** Per option, the value from the last layer that gives it; layers[0] must give every option. */
export function merge(layers: readonly Layer[]): Record<OptionKey, Winner> {
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
    // A default, or null (`token: null`, as config check prints the one not in use), gives nothing.
    if (wa.rank === 0 || wb.rank === 0 || wa.value === null || wb.value === null) continue;
    if (wa.rank === wb.rank) throw new ConfigError(`${nameOf(a, wa.origin)} and ${nameOf(b, wb.origin)}: give ${what} one way, not both`);
    const loser = wa.rank < wb.rank ? a : b;
    merged[loser] = winner(loser, 1); // back to its default
  }
  return merged;
}

export function isOptionKey(key: unknown): key is OptionKey {
  return typeof key === 'string' && Object.hasOwn(OPTIONS, key);
}

/** The refusal of each option the schema's issues are about (one per option): where the value came from, what is allowed, what was given. */
export function refusals(issues: readonly { path: PropertyKey[]; message: string }[], givenFor: (key: OptionKey) => Given | undefined): Map<PropertyKey, string> {
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
export function validate(merged: Record<OptionKey, Winner>): Options {
  const result = OPTIONS_SCHEMA.safeParse(mapOptions((key) => merged[key].value));
  if (result.success) return result.data;
  throw new ConfigError([...refusals(result.error.issues, (key) => merged[key]).values()]);
}
