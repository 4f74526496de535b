// Switches, durations and sizes read alike wherever a config file has them: the options, a
// camera's settings, every feature block and the events service. Each refusal names the file,
// the line, the key, the value and the forms that work.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../src/config/config.js';
import { duration, formatDuration, formatSize, onOff, size } from '../src/config/units.js';
import { config, refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-config-values-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const SWITCH = 'expected on or off (1/0, true/false, yes/no)';
const DURATION = 'is not a duration such as 30s, 10m, 2h or 7d (a bare number is seconds)';

describe('a switch', () => {
  it('takes the same words in the options, a camera and every block', () => {
    const f = file('switches.yaml', [
      'alwaysOn: 1',
      'http: "off"',
      'allowLegacy: Yes',
      'h264: {enabled: yes}',
      'motion: {compensateLight: off}',
      'events:',
      '  mqtt: {url: "mqtt://broker", discovery: no}',
      'cameras:',
      '  a:',
      '    alwaysOn: "on"',
      '    h264: {enabled: 0}',
      '  b:',
      '    alwaysOn: false',
    ]);
    const c = config(['--config', f]);
    expect(c).toMatchObject({ alwaysOn: true, http: false, allowLegacy: true, events: { mqtt: { discovery: false } } });
    const [a, b] = c.cameras ?? [];
    expect(a).toMatchObject({ alwaysOn: true, h264: { enabled: false }, motion: { compensateLight: false } });
    expect(b).toMatchObject({ alwaysOn: false, h264: { enabled: true } });
  });

  it('is refused with the key, the value and the words, wherever it is', () => {
    const f = file('bad-switches.yaml', ['alwaysOn: 2', 'h264:', '  enabled: maybe', 'motion: {compensateLight: [1]}', 'events:', '  mqtt: {url: "mqtt://b", discovery: nope}', 'cameras:', '  a:', '    alwaysOn: sometimes']);
    expect(refusal(['--config', f]).split('\n')).toEqual([
      `${f}:1: alwaysOn: ${SWITCH}, got 2`,
      `${f}:3: h264.enabled: ${SWITCH}, got "maybe"`,
      `${f}:4: motion.compensateLight: ${SWITCH}`,
      `${f}:6: events.mqtt.discovery: ${SWITCH}, got "nope"`,
      `${f}:9: cameras.a.alwaysOn: ${SWITCH}, got "sometimes"`,
    ]);
  });

  it('is one schema', () => {
    expect([true, 'TRUE', ' on ', 'yes', 1, false, 'Off', 'no', 0, '0'].map((v) => onOff().parse(v))).toEqual([true, true, true, true, true, false, false, false, false, false]);
  });
});

describe('a duration', () => {
  it('takes a bare number of seconds or a number with a unit, in the options, a camera and every block', () => {
    const f = file('durations.yaml', [
      'idleStop: 2m',
      'helloTimeout: 500ms',
      'idleTimeout: 1h',
      'record: {dir: /rec, segment: 600, keep: {maxAge: "86400"}}',
      'snapshot: {dir: /snap, every: 30}',
      'h264: {keyframeIntervalS: 2s, idleStopMs: 7000}',
      'motion: {minDuration: 1500ms, hold: 3, background: 1m}',
      'events:',
      '  clips: {dir: /clips, preRoll: 3, postRoll: 500ms, maxLength: 1.5m}',
      'cameras:',
      '  a:',
      '    idleStop: 90',
      '    h264: {idleStopMs: 5s}',
      '  b:',
      '    idleStop: 1.5',
    ]);
    const c = config(['--config', f]);
    expect(c).toMatchObject({ idleStop: 120, helloTimeout: 0.5, idleTimeout: 3600, events: { clips: { preRoll: 3000, postRoll: 500, maxLength: 90_000 } } });
    const [a, b] = c.cameras ?? [];
    expect(a).toMatchObject({
      idleStop: 90,
      record: { segment: 600_000, keep: { maxAge: 86_400_000 } },
      snapshot: { every: 30_000 },
      h264: { keyframeIntervalS: 1, idleStopMs: 5000 },
      motion: { minDuration: 1.5, hold: 3, background: 60 },
    });
    expect(b).toMatchObject({ idleStop: 1.5, h264: { keyframeIntervalS: 2, idleStopMs: 7000 } });
  });

  it('takes the same forms on the command line and in the variables', () => {
    expect(config(['--idle-stop', '10m', '--hello-timeout', '2.5'], { EDGECAM_IDLE_TIMEOUT: '1d' })).toMatchObject({ idleStop: 600, helloTimeout: 2.5, idleTimeout: 86_400 });
    expect(refusal(['--idle-stop', '2d'])).toBe('--idle-stop: expected a number of seconds from 0 to 86400, or a duration such as 30s, 10m or 1d, got "2d"');
  });

  it('is refused with the key, the value and the forms, wherever it is', () => {
    const f = file('bad-durations.yaml', [
      'idleStop: soon',
      'record:',
      '  dir: /rec',
      '  segment: true',
      '  keep: {maxAge: 500ms}',
      'snapshot: {dir: /snap, every: 5 minutes}',
      'h264: {keyframeIntervalS: 0, idleStopMs: -1}',
      'motion: {hold: 2h}',
      'events:',
      '  clips: {dir: /clips, preRoll: {s: 1}}',
    ]);
    expect(refusal(['--config', f]).split('\n')).toEqual([
      `${f}:1: idleStop: expected a number of seconds from 0 to 86400, or a duration such as 30s, 10m or 1d, got "soon"`,
      `${f}:4: record.segment: true ${DURATION}`,
      `${f}:5: record.keep.maxAge: "500ms" is out of range: it takes at least 1s`,
      `${f}:6: snapshot.every: "5 minutes" ${DURATION}`,
      `${f}:7: h264.keyframeIntervalS: 0 is out of range: it takes more than 0s, up to 1m`,
      `${f}:7: h264.idleStopMs: -1 is out of range: it takes at least 0s`,
      `${f}:8: motion.hold: "2h" is out of range: it takes from 0s to 1h`,
      `${f}:10: events.clips.preRoll: a map ${DURATION}`,
    ]);
  });

  it('says that a bare number is milliseconds in a key named so', () => {
    const f = file('ms.yaml', ['h264: {idleStopMs: later}']);
    expect(refusal(['--config', f])).toBe(`${f}:1: h264.idleStopMs: "later" is not a duration such as 30s, 10m, 2h or 7d (a bare number is milliseconds)`);
  });

  it('is one schema, held in ms or seconds, written back in the file form', () => {
    expect(duration().parse('10m')).toBe(600_000);
    expect(duration().parse(1.5)).toBe(1500);
    expect(duration({ into: 's' }).parse('250ms')).toBe(0.25);
    expect(duration({ into: 's' }).parse(0.1)).toBe(0.1);
    expect(duration({ bare: 'ms' }).parse(250)).toBe(250);
    expect(duration().safeParse('1e3').success).toBe(false);
    expect([600_000, 7 * 86_400_000, 1500, 0, 90_000, 3_600_000].map(formatDuration)).toEqual(['10m', '7d', '1500ms', '0s', '90s', '1h']);
  });
});

describe('a size', () => {
  it('takes a number with its unit, and refuses a bare number naming the forms', () => {
    expect(size().parse('20GB')).toBe(20e9);
    expect(size().parse('1GiB')).toBe(1024 ** 3);
    const f = file('bad-size.yaml', ['record: {dir: /rec, keep: {maxSize: 500, minFree: lots}}']);
    expect(refusal(['--config', f]).split('\n')).toEqual([
      `${f}:1: record.keep.maxSize: 500 is not a size such as 500MB, 20GB or 1GiB`,
      `${f}:1: record.keep.minFree: "lots" is not a size such as 500MB, 20GB or 1GiB`,
    ]);
    expect([20e9, 1024 ** 3, 1e9, 0, 1500, 3 * 1024 ** 2].map(formatSize)).toEqual(['20GB', '1GiB', '1GB', '0B', '1500B', '3MiB']);
  });
});

describe('the JSON Schema', () => {
  it('has no bare boolean left: every switch takes the switch words', () => {
    const r = parseCommandLine(['--config-schema'], {});
    const booleans: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.type === 'boolean' && !/\.anyOf\[\d+\]$/.test(path)) booleans.push(path);
      for (const [k, v] of Object.entries(n)) walk(v, `${path}.${k}`);
    };
    walk(JSON.parse((r as { output: string }).output), '$');
    expect(booleans).toEqual([]);
  });
});
