// The option table itself: each row is consistent (key, flag, variable, default), and the whole
// table is one zod schema that a config file and its JSON Schema can be made from.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Option } from 'commander';
import { z } from 'zod';
import { OPTIONS, OPTIONS_SCHEMA, OPTION_KEYS, defaultOf } from '../src/config/config-options.js';
import type { EdgeServerConfig, LogLevel } from '../src/config/config.js';
import type { SourceSpec } from '../src/sources/source-spec.js';
import { config, refusal } from './support/config.js';

describe('the option table', () => {
  it.each(OPTION_KEYS)('names %s alike as a key, a flag and a variable', (key) => {
    const spec = OPTIONS[key];
    expect(new Option(spec.flag).attributeName()).toBe(key);
    expect(spec.env).toBe(`EDGECAM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
    for (const other of spec.conflicts ?? []) expect(OPTION_KEYS).toContain(other);
  });

  it('has defaults that pass their own schema', () => {
    const defaults = Object.fromEntries(OPTION_KEYS.map((key) => [key, defaultOf(OPTIONS[key], {})]));
    expect(OPTIONS_SCHEMA.safeParse(defaults).success).toBe(true);
  });

  it('is one schema that refuses unknown keys and gives a JSON Schema for every option', () => {
    expect(OPTIONS_SCHEMA.safeParse({ colour: 'red' }).success).toBe(false);
    const schema = z.toJSONSchema(OPTIONS_SCHEMA, { io: 'input' });
    expect(Object.keys(schema.properties ?? {})).toEqual(OPTION_KEYS);
    expect(schema.properties?.port).toMatchObject({ type: 'integer', minimum: 0, maximum: 65535 });
  });

  it('takes typed values as a config file gives them', () => {
    const defaults = Object.fromEntries(OPTION_KEYS.map((key) => [key, defaultOf(OPTIONS[key], {})]));
    const parsed = OPTIONS_SCHEMA.parse({ ...defaults, port: 7000, http: false, size: '320x240', source: 'stdin' });
    expect(parsed).toMatchObject({ port: 7000, http: false, size: { width: 320, height: 240 }, source: { kind: 'stdin' } });
    expect(OPTIONS_SCHEMA.safeParse({ ...defaults, port: '7000' }).success).toBe(false);
  });

  it('keeps the resolved config shape the server reads', () => {
    expectTypeOf<EdgeServerConfig>().toEqualTypeOf<{
      host: string; port: number; http: boolean; httpPort: number; source: SourceSpec; size: { width: number; height: number }; fps: number;
      maxSize: { width: number; height: number } | null; maxFps: number | null;
      quality: number; idleStop: number; alwaysOn: boolean; maxClients: number; maxPerAddress: number; logLevel: LogLevel;
      helloTimeout: number; maxPending: number; idleTimeout: number; token: string | null; tokenFile: string | null; allowLegacy: boolean;
      tlsCert: string | null; tlsKey: string | null; tlsSelfSigned: boolean; tlsDir: string; httpRateLimit: number; allowedHosts: string[];
      name: string; mdns: boolean;
    }>();
  });
});

describe('text from flags and variables', () => {
  it('treats an empty variable as unset', () => {
    expect(config([], { EDGECAM_PORT: '', EDGECAM_TOKEN: '', EDGECAM_ALWAYS_ON: '' })).toMatchObject({ port: 6810, token: null, alwaysOn: false });
  });

  it('reads on/off words in any case, around spaces, and refuses a blank one', () => {
    expect(config([], { EDGECAM_ALWAYS_ON: ' ON ', EDGECAM_ALLOW_LEGACY: 'True', EDGECAM_HTTP: 'No' })).toMatchObject({
      alwaysOn: true, allowLegacy: true, http: false,
    });
    expect(refusal([], { EDGECAM_ALWAYS_ON: ' ' })).toBe('EDGECAM_ALWAYS_ON (--always-on): expected on or off (1/0, true/false, yes/no), got " "');
    expect(refusal([], { EDGECAM_ALWAYS_ON: 'constructor' })).toMatch(/^EDGECAM_ALWAYS_ON \(--always-on\): expected on or off/);
  });

  it('takes plain digits only for numbers', () => {
    expect(config(['--port', '0080', '--fps', '12.5']).port).toBe(80);
    expect(refusal(['--port', '1e3'])).toBe('--port: expected an integer from 0 to 65535, got "1e3"');
    expect(refusal(['--fps', '+5'])).toMatch(/^--fps: /);
    expect(refusal([], { EDGECAM_IDLE_STOP: ' 5' })).toMatch(/^EDGECAM_IDLE_STOP \(--idle-stop\): /);
  });

  it('names --no-http for a bad EDGECAM_HTTP', () => {
    expect(refusal([], { EDGECAM_HTTP: 'maybe' })).toMatch(/^EDGECAM_HTTP \(--no-http\): expected on or off/);
  });

  it('ignores a bad variable that a flag overrides', () => {
    expect(config(['--port', '7000'], { EDGECAM_PORT: 'bogus' }).port).toBe(7000);
  });
});
