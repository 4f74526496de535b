// The services' top-level config blocks (`events:`), from the SERVICES list: the file layer checks
// them, the resolver puts them into the configuration, the JSON Schema describes them.
import type { z } from 'zod';
import { SERVICES } from '../features.js';

type Listed = (typeof SERVICES)[number];
export type ServiceKey = Listed['key'];

/** Each service's block, as the configuration holds it; absent: the service runs with its defaults. */
export type ServiceBlocks = { [S in Listed as S['key']]?: z.output<S['schema']> | null };

/** The services' keys, in list order. */
export const SERVICE_KEYS = SERVICES.map((s) => s.key) as ServiceKey[];

/** The schema of a service's block. */
export const SERVICE_SCHEMAS = Object.fromEntries(SERVICES.map((s) => [s.key, s.schema])) as { readonly [S in Listed as S['key']]: S['schema'] };

/** A key of a service's block. */
export function isServiceKey(key: unknown): key is ServiceKey {
  return typeof key === 'string' && Object.hasOwn(SERVICE_SCHEMAS, key);
}
