// The files shipped for config-file authors: edgecam.schema.json must be what the option table
// gives now (regenerate with `npm run schema -w @edgecam/edge-server`), and edgecam.example.yaml
// must load, point editors at the schema, and mention every option.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { parseCommandLine } from '../src/config/config.js';
import { OPTION_KEYS } from '../src/config/config-options.js';
import { config } from './support/config.js';

const packageFile = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const SCHEMA = packageFile('edgecam.schema.json');
const EXAMPLE = packageFile('edgecam.example.yaml');

describe('edgecam.schema.json', () => {
  it('is exactly what --config-schema prints now (run `npm run schema -w @edgecam/edge-server` when it is not)', () => {
    const r = parseCommandLine(['--config-schema'], {});
    if (!('output' in r)) throw new Error('expected output');
    expect(readFileSync(SCHEMA, 'utf8')).toBe(r.output);
  });

  it('is shipped in the package', () => {
    const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toEqual(expect.arrayContaining(['edgecam.schema.json', 'edgecam.example.yaml']));
  });
});

describe('edgecam.example.yaml', () => {
  const text = readFileSync(EXAMPLE, 'utf8');

  it('points YAML editors at the schema on its first line', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./edgecam.schema.json');
  });

  it('loads as a --config file with what it sets', () => {
    expect(config(['--config', EXAMPLE])).toMatchObject({ source: { kind: 'v4l2', device: '/dev/video0' }, size: { width: 1280, height: 720 }, port: 6810 });
  });

  it('mentions every option, set or commented out', () => {
    const set = Object.keys((parseDocument(text).toJS() ?? {}) as object);
    const commented = [...text.matchAll(/^# ([a-z][A-Za-z]*): /gm)].map((m) => m[1]);
    expect(new Set([...set, ...commented])).toEqual(new Set(OPTION_KEYS));
  });
});
