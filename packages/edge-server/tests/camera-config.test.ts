// The config file's `cameras:` map: keys left out fall back to the top-level options (and the
// variables and flags over them), and every problem names the file, the line and the key.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCommandLine } from '../src/config/config.js';
import { config, refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-camera-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('cameras: in a config file', () => {
  it('fills each camera from the top-level options, flags included, the default first', () => {
    const f = file('three.yaml', ['fps: 12', 'size: 320x240', 'default: b', 'cameras:', '  a:', '    size: 160x120', '  b:', '    fps: "5"', '    alwaysOn: yes', '  c:']);
    const c = config(['--config', f, '--quality', '55']);
    expect(c.cameras?.map((cam) => cam.name)).toEqual(['b', 'a', 'c']);
    expect(c.cameras?.[0]).toMatchObject({ name: 'b', size: { width: 320, height: 240 }, fps: 5, quality: 55, alwaysOn: true, legacyPort: null });
    expect(c.cameras?.[1]).toMatchObject({ name: 'a', size: { width: 160, height: 120 }, fps: 12, source: { kind: 'testsrc' } });
    expect(c.cameras?.[2]).toMatchObject({ name: 'c', size: { width: 320 }, fps: 12 });
  });

  it('has no cameras list without a cameras: map', () => {
    expect(config(['--config', file('none.yaml', ['fps: 12'])]).cameras).toBeUndefined();
  });

  it('names the file, line and key of every bad camera entry at once', () => {
    const f = file('bad.yaml', ['cameras:', '  Front:', '    fps: 10', '  ok:', '    colour: red', '    fps: nine', '    legacyPort: 0']);
    expect(refusal(['--config', f]).split('\n')).toEqual([
      `${f}:2: cameras: "Front": a camera name is 1 to 32 of a-z, 0-9, _ and -`,
      `${f}:5: cameras.ok.colour: no such camera setting; the settings are source, size, fps, maxSize, maxFps, quality, idleStop, alwaysOn, legacyPort`,
      `${f}:6: cameras.ok.fps: expected a number of frames per second from 1 to 240, got "nine"`,
      `${f}:7: cameras.ok.legacyPort: expected an integer from 1 to 65535, got 0`,
    ]);
  });

  it('refuses a default that is no camera, and legacy ports that clash', () => {
    const f = file('default.yaml', ['default: c', 'cameras:', '  a:', '  b:']);
    expect(refusal(['--config', f])).toBe(`${f}:1: default: no camera "c"; the cameras are a, b`);
    const g = file('ports.yaml', ['port: 7000', 'cameras:', '  a:', '    legacyPort: 7000']);
    expect(refusal(['--config', g])).toMatch(/cameras\.a\.legacyPort: 7000 is already port's/);
    const h = file('empty.yaml', ['cameras: {}']);
    expect(refusal(['--config', h])).toMatch(/:1: cameras: expected a map of camera names/);
  });

  it('is printed by config check with every setting resolved', () => {
    const f = file('check.yaml', ['fps: 12', 'cameras:', '  a:', '    legacyPort: 7100', '  b:', '    size: 160x120']);
    const r = parseCommandLine(['config', 'check', '--config', f], {});
    if (!('output' in r)) throw new Error('expected output');
    expect(r.exitCode).toBe(0);
    const values = parse(r.output) as { default: string; cameras: Record<string, unknown> };
    expect(values.default).toBe('a');
    expect(values.cameras).toEqual({
      a: { source: 'testsrc', size: '640x480', fps: 12, quality: 80, idleStop: 5, alwaysOn: false, legacyPort: 7100 },
      b: { source: 'testsrc', size: '160x120', fps: 12, quality: 80, idleStop: 5, alwaysOn: false },
    });
    expect(r.output).toMatch(new RegExp(`^cameras: +# ${f}:2`, 'm'));
  });
});
