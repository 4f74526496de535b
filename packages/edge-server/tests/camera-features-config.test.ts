// The features' blocks in a config file (record:, motion:, h264:, events:): top-level blocks are
// every camera's default, a camera's own block replaces it, and a problem deep inside a block
// names the file, the line and the dotted key.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../src/config/config.js';
import { config, refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-features-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('feature blocks in a config file', () => {
  it('gives the one camera without a cameras: map the top-level blocks, and events: to the server', () => {
    const c = config(['--config', file('one.yaml', ['record:', '  dir: /rec', '  segment: 1m', 'motion:', 'h264: {enabled: true}', 'events:', '  webhooks:', '    - url: http://hook.local/x'])]);
    expect(c.cameras).toBeUndefined();
    expect(c.features?.record).toMatchObject({ dir: '/rec', segment: 60_000, keep: { maxSize: 20e9 } });
    expect(c.features?.motion).toMatchObject({ fps: 5, threshold: 25 });
    expect(c.features?.h264).toMatchObject({ enabled: true, encoder: 'libx264' });
    expect(c.events?.webhooks).toEqual([{ url: 'http://hook.local/x', events: ['start', 'end'] }]);
  });

  it('uses the top-level blocks for every camera that sets none, and a camera\'s own block instead', () => {
    const c = config([
      '--config',
      file('two.yaml', ['record:', '  dir: /rec', 'cameras:', '  a:', '    motion: {fps: 2}', '  b:', '    record:', '      dir: /other', '    h264:', '      enabled: true']),
    ]);
    const [a, b] = c.cameras ?? [];
    expect(a).toMatchObject({ name: 'a', record: { dir: '/rec' }, motion: { fps: 2 }, h264: null });
    expect(b).toMatchObject({ name: 'b', record: { dir: '/other' }, motion: null, h264: { enabled: true } });
  });

  it('names the file, line and dotted key of every problem deep inside a block, with what is valid', () => {
    const f = file('bad.yaml', [
      'record:',
      '  dir: /rec',
      '  keep:',
      '    maxAge: forever',
      'cameras:',
      '  front:',
      '    record:',
      '      dir: /rec',
      '      keep:',
      '        maxSize: lots',
      '        colour: red',
      '    h264:',
      '      preset: slowest',
      'events:',
      '  webhooks:',
      '    - url: ftp://x',
    ]);
    expect(refusal(['--config', f]).split('\n')).toEqual([
      `${f}:4: record.keep.maxAge: "forever" is not a duration such as 30s, 10m, 2h or 7d (a bare number is seconds)`,
      `${f}:10: cameras.front.record.keep.maxSize: "lots" is not a size such as 500MB, 20GB or 1GiB`,
      `${f}:11: cameras.front.record.keep.colour: no such key; the keys are maxAge, maxSize, minFree, mode, motionOnlyAfter, preRoll, postRoll`,
      expect.stringMatching(new RegExp(`^${f}:13: cameras\\.front\\.h264\\.preset: .*"ultrafast".*got "slowest"$`)),
      expect.stringMatching(new RegExp(`^${f}:15: events\\.webhooks\\.0\\.url: must be an http:// or https:// URL`)),
    ]);
  });

  it('prints the blocks in config check, with where they came from', () => {
    const f = file('check.yaml', ['motion:', '  fps: 3']);
    const r = parseCommandLine(['--config', f, 'config', 'check'], {});
    expect('output' in r && r.output).toMatch(new RegExp(`^motion: +# ${f}:1\\n  fps: 3$`, 'm'));
  });
});
