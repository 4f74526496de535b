// A value the configuration holds, back in the form a config file writes it (`600000` ms is
// `10m`, a publish target is its URL), so that what `config check` prints can be read again.
// A schema whose output is not its input says how to turn it back (withFileForm); the rest of a
// block is walked by its shape.
import type { z } from 'zod';

// By the schema's definition, which .describe(), .meta() and the wrappers (.default() …) keep.
const FORMS = new WeakMap<object, (value: never) => unknown>();

/** Marks `schema` with how its output is written in a config file; returns the schema. */
export function withFileForm<S extends z.ZodType>(schema: S, toFile: (value: z.output<S>) => unknown): S {
  FORMS.set(schema._zod.def, toFile);
  return schema;
}

type Def = {
  type?: string;
  innerType?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
};

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** `value`, an output of `schema`, as a config file writes it. */
export function toFileForm(schema: z.core.$ZodType, value: unknown): unknown {
  const form = FORMS.get(schema._zod.def);
  if (form) return form(value as never);
  if (value === null || value === undefined) return value;
  const def = schema._zod.def as Def;
  if (def.innerType && WRAPPERS.has(def.type ?? '')) return toFileForm(def.innerType, value);
  if (def.type === 'object' && def.shape && typeof value === 'object') {
    const shape = def.shape;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape[k] ? toFileForm(shape[k], v) : v]));
  }
  if (def.type === 'array' && def.element && Array.isArray(value)) return value.map((v) => toFileForm(def.element!, v));
  if (def.type === 'record' && def.valueType && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toFileForm(def.valueType!, v)]));
  }
  // Anything else (numbers, strings, unions such as a motion mask) is written as it is held.
  return value;
}
