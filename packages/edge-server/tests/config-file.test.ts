// --config edgecam.yaml: a layer between the defaults and the variables, with one key per option
// (the long flag in camelCase); every refusal names the file, the line and the key.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../src/config/config.js';
import { OPTION_KEYS } from '../src/config/config-options.js';
import { FEATURE_KEYS } from '../src/config/camera-config.js';
import { parseConfigFile } from '../src/config/config-file.js';
import { config, refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('a --config file', () => {
  it('gives options by key, over the defaults', () => {
    const f = file('all.yaml', [
      '# edgecam-server options',
      'host: 127.0.0.1',
      'port: 7000',
      'http: false',
      'source: v4l2:/dev/video1',
      'size: 320x240',
      'fps: 12.5',
      'alwaysOn: yes',
      'idleTimeout: 0',
      'logLevel: warn',
      'token: from-the-file',
      'tlsDir: /srv/tls',
    ].join('\n'));
    expect(config(['--config', f])).toMatchObject({
      host: '127.0.0.1', port: 7000, http: false, source: { kind: 'v4l2', device: '/dev/video1' }, size: { width: 320, height: 240 },
      fps: 12.5, alwaysOn: true, idleTimeout: 0, logLevel: 'warn', token: 'from-the-file', tlsDir: '/srv/tls', quality: 80,
    });
  });

  it('is named by EDGECAM_CONFIG too, and --config wins', () => {
    const a = file('a.yaml', 'port: 7001\n');
    const b = file('b.yaml', 'port: 7002\n');
    expect(config([], { EDGECAM_CONFIG: a }).port).toBe(7001);
    expect(config(['--config', b], { EDGECAM_CONFIG: a }).port).toBe(7002);
  });

  it('loses to variables and flags', () => {
    const f = file('low.yaml', 'port: 7001\nquality: 50\n');
    expect(config(['--config', f], { EDGECAM_PORT: '7002' })).toMatchObject({ port: 7002, quality: 50 });
    expect(config(['--config', f, '--port', '7003'], { EDGECAM_PORT: '7002' })).toMatchObject({ port: 7003, quality: 50 });
    const t = file('token.yaml', 'tokenFile: /nowhere\n');
    expect(config(['--config', t], { EDGECAM_TOKEN: 'env-token' }).token).toBe('env-token');
  });

  it('may be empty or hold only comments', () => {
    expect(config(['--config', file('empty.yaml', '')]).port).toBe(6810);
    expect(config(['--config', file('comments.yaml', '# nothing yet\n')]).port).toBe(6810);
  });

  it('refuses a bad value naming the file, the line and the key, even when a flag overrides it', () => {
    const f = file('bad.yaml', 'host: 127.0.0.1\n\nport: 70000\n');
    expect(refusal(['--config', f])).toBe(`${f}:3: port: expected an integer from 0 to 65535, got 70000`);
    expect(refusal(['--config', f, '--port', '1'])).toBe(`${f}:3: port: expected an integer from 0 to 65535, got 70000`);
    const b = file('bool.yaml', 'alwaysOn: maybe\n');
    expect(refusal(['--config', b])).toBe(`${b}:1: alwaysOn: expected on or off (1/0, true/false, yes/no), got "maybe"`);
  });

  it('refuses an unknown key, broken YAML and a file that is not a mapping, with the line', () => {
    expect(refusal(['--config', file('unknown.yaml', 'port: 1\ncolour: red\n')])).toMatch(/unknown\.yaml:2: colour: no such option; .*httpPort for --http-port/);
    expect(refusal(['--config', file('broken.yaml', 'port: 1\nhost: [a\n')])).toMatch(/broken\.yaml:\d+: /);
    expect(refusal(['--config', file('twice.yaml', 'port: 1\nport: 2\n')])).toMatch(/twice\.yaml:2: .*unique/i);
    expect(refusal(['--config', file('list.yaml', '- port\n')])).toMatch(/list\.yaml:1: expected `option: value` lines/);
  });

  it('says when it cannot be read', () => {
    const missing = join(dir, 'missing.yaml');
    expect(refusal(['--config', missing])).toBe(`--config: cannot read ${missing}: no such file or directory`);
    expect(refusal([], { EDGECAM_CONFIG: missing })).toBe(`EDGECAM_CONFIG (--config): cannot read ${missing}: no such file or directory`);
  });

  it('refuses a YAML alias bomb in one line, without expanding it', () => {
    // "Billion laughs": each level repeats the one before ten times, 10^9 strings at the last.
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const f = file('bomb.yaml', `x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nport: 1\n`);
    expect(refusal(['--config', f])).toBe(`${f}:1: the file expands YAML aliases (*name) more than 100 times: write the values out instead`);
  });

  it('refuses a file over 1 MiB before parsing it', () => {
    const f = file('huge.yaml', `# ${'x'.repeat(1024 * 1024)}\nport: 1\n`);
    expect(refusal(['--config', f])).toBe(`${f}: the file is larger than 1 MiB, more than a config can be: check that --config names the config file`);
    // A device that never ends is read no further than the cap.
    expect(refusal(['--config', '/dev/zero'])).toMatch(/^\/dev\/zero: the file is larger than 1 MiB/);
  });

  it('refuses the token given two ways in it', () => {
    const f = file('both.yaml', 'token: abc\ntokenFile: /t\n');
    expect(refusal(['--config', f])).toBe(`${f}:1: token and ${f}:2: tokenFile: give the token one way, not both`);
  });
});

describe('parseConfigFile', () => {
  it('gives each key with its value and line', () => {
    expect(parseConfigFile('port: 1\n\ntoken:\n')).toEqual({ entries: [{ key: 'port', value: 1, line: 1 }, { key: 'token', value: null, line: 3 }] });
  });
});

describe('--config-schema', () => {
  it('prints the JSON Schema of a config file: every option, optional, described, nothing else', () => {
    const r = parseCommandLine(['--config-schema'], {});
    if (!('output' in r)) throw new Error('expected output');
    expect(r.exitCode).toBe(0);
    const schema = JSON.parse(r.output) as { properties: Record<string, { description?: string; default?: unknown }>; required?: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual([...OPTION_KEYS, 'default', ...FEATURE_KEYS, 'cameras', 'events', 'discovery']);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.port).toMatchObject({ type: 'integer', default: 6810, description: expect.stringContaining('--port, EDGECAM_PORT') });
  });

  it('is listed in --help with --config', () => {
    const help = parseCommandLine(['--help'], {});
    expect('output' in help && help.output).toContain('--config <file>');
    expect('output' in help && help.output).toContain('--config-schema');
  });
});
