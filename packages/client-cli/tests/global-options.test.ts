// The README's table of global options is prose, written by hand: these keep it to the option table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { globalOptions } from '../src/global-options.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** `| `--port` | `EDGECAM_PORT` | `6810` | ...`: flag, variable and default of each row. */
const rows = [...README.matchAll(/^\| `(--[a-z-]+)` \| `(EDGECAM_[A-Z_]+)` \| ([^|]+?) \|/gm)].map(([, flag, env, fallback]) => ({
  flag,
  env,
  fallback,
}));

describe('the README table of global options', () => {
  it('lists every global flag once, and no other', () => {
    expect(rows.map((r) => r.flag).sort()).toEqual(globalOptions().map((o) => o.long).sort());
  });

  it.each(globalOptions().map((o) => [o.long!, o] as const))('gives %s its variable and default', (flag, option) => {
    const row = rows.find((r) => r.flag === flag)!;
    expect(row.env).toBe(option.envVar);
    if (option.defaultValue !== undefined) expect(row.fallback).toBe(`\`${String(option.defaultValue)}\``);
    else expect(row.fallback).not.toMatch(/^`/);
  });
});
