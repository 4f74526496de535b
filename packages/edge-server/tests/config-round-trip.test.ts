// What `config check` prints is a config file: read back, it resolves to the same configuration.
// Proved over edgecam.example.yaml (uncommented as far as its keys allow) and every edgecam YAML
// example of the README. Secrets are masked in the real output, so the comparison reads an output
// with secrets in clear (parseCommandLineRevealingSecrets, which no flag reaches); the masked
// output reads back the same when there is no secret, and is refused at each masked value when there is.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseCommandLine, parseCommandLineRevealingSecrets, type ServerConfig } from '../src/config/config.js';
import { config, refusal } from './support/config.js';

const packageFile = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgecam-config-round-trip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The examples read /etc/edgecam/token; the test gives them a token file of its own.
const TOKEN_FILE = join(dir, 'token');
writeFileSync(TOKEN_FILE, 'a-token-from-the-token-file\n');

let files = 0;
function file(text: string | string[]): string {
  const path = join(dir, `config-${++files}.yaml`);
  writeFileSync(path, (Array.isArray(text) ? `${text.join('\n')}\n` : text).replaceAll('/etc/edgecam/token', TOKEN_FILE));
  return path;
}

function output(argv: string[], reveal: boolean): string {
  const r = (reveal ? parseCommandLineRevealingSecrets : parseCommandLine)(['config', 'check', ...argv], {});
  if (!('output' in r) || r.exitCode !== 0) throw new Error(`config check refused: ${'output' in r ? r.output : ''}`);
  return r.output;
}

// Keys the example leaves commented out because it sets another way of giving the same thing.
const LEFT_COMMENTED: Record<string, string> = {
  token: 'tokenFile gives the token; both at once are refused',
  tlsSelfSigned: 'tlsCert and tlsKey give the certificate; both at once are refused',
};

/** edgecam.example.yaml with every commented-out setting (a `# key:` or `#   - item` line) set. */
function uncommentedExample(): string {
  return readFileSync(packageFile('edgecam.example.yaml'), 'utf8')
    .split('\n')
    .map((line) => {
      const m = /^# ( *([a-z][A-Za-z0-9]*:(?: |$)|- ).*)$/.exec(line);
      const key = /^([a-z][A-Za-z0-9]*):/.exec(m?.[1] ?? '')?.[1];
      return m && !(key && key in LEFT_COMMENTED) ? m[1]! : line;
    })
    .join('\n');
}

// README blocks that configure other programs, by their first key: Home Assistant's camera,
// MediaMTX's paths, go2rtc's streams and Frigate's config.
const OTHER_PROGRAMS = ['camera', 'paths', 'streams', 'go2rtc'];

/** The README's YAML examples that are edgecam config files. */
function readmeExamples(): { line: number; text: string }[] {
  const readme = readFileSync(packageFile('README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => ({ line: readme.slice(0, m.index).split('\n').length, text: m[1]! }));
  return blocks.filter((b) => !OTHER_PROGRAMS.includes(Object.keys((parse(b.text, { logLevel: 'error' }) ?? {}) as object)[0] ?? ''));
}

const EXAMPLES = [{ name: 'edgecam.example.yaml, uncommented', text: uncommentedExample() }, ...readmeExamples().map((b) => ({ name: `README.md:${b.line}`, text: b.text }))];

/** The configuration a file resolves to (as the server would run it). */
const resolved = (path: string): ServerConfig => config(['--config', path]);

describe('config check output, read back', () => {
  it('covers the example with its settings uncommented, and the README examples', () => {
    const example = parse(EXAMPLES[0]!.text) as Record<string, unknown>;
    expect(Object.keys(example)).toEqual(expect.arrayContaining(['cameras', 'record', 'motion', 'h264', 'events', 'tokenFile', 'tlsCert', 'alwaysOn', 'maxSize']));
    expect(Object.keys(example)).not.toContain('token');
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(10);
  });

  it.each(EXAMPLES)('resolves to the same configuration: $name', ({ text }) => {
    const original = file(text);
    for (const json of [false, true]) {
      const printed = output(['--config', original, ...(json ? ['--json'] : [])], true);
      const again = file(printed);
      expect(resolved(again)).toEqual(resolved(original));
      // And printing it again prints the same values.
      expect(parse(output(['--config', again, ...(json ? ['--json'] : [])], true))).toEqual(parse(printed));
    }
  });

  it.each(EXAMPLES)('masked, reads back the same or is refused at each masked secret: $name', ({ text }) => {
    const original = file(text);
    const printed = output(['--config', original], false);
    const again = file(printed);
    if (!printed.includes('***')) {
      expect(resolved(again)).toEqual(resolved(original));
      return;
    }
    const problems = refusal(['--config', again]).split('\n');
    for (const p of problems) expect(p).toMatch(new RegExp(`^${again}:\\d+: [\\w.]+: ".*\\*\\*\\*.*" holds \\*\\*\\*, which config check prints in place of a secret; write the secret itself$`));
    expect(problems).toHaveLength(printed.split('\n').filter((l) => l.includes('***')).length);
  });

  it('writes durations, sizes and publish targets as a config file does', () => {
    const f = file(
      [
        'record: {dir: /rec, segment: 600, keep: {maxAge: 1w, maxSize: 1GiB, mode: motion, motionOnlyAfter: 3600, preRoll: 2500ms}}',
        'cameras:',
        '  a:',
        '    h264: {enabled: yes, idleStopMs: 2s}',
        '    publish: [rtsp://m:8554/a, {url: "rtsp://m:8554/b", transport: udp}, {url: "rtmp://live/app/key", transport: tcp}]',
        '    motion: {hold: 1500ms}',
        'events: {clips: {dir: /clips, preRoll: 2}}',
      ].join('\n'),
    );
    const printed = parse(output(['--config', f], true)) as Record<string, any>;
    expect(printed.record).toEqual({ dir: '/rec', format: 'avi', segment: '10m', keep: { mode: 'motion', motionOnlyAfter: '1h', preRoll: '2500ms', postRoll: '5s', maxAge: '7d', maxSize: '1GiB', minFree: '1GB' } });
    expect(printed.events.clips).toEqual({ dir: '/clips', preRoll: '2s', postRoll: '5s', maxLength: '5m' });
    expect(printed.cameras.a.publish).toEqual(['rtsp://m:8554/a', { url: 'rtsp://m:8554/b', transport: 'udp' }, 'rtmp://live/app/key']);
    expect(printed.cameras.a.h264).toMatchObject({ enabled: true, idleStopMs: 2000, keyframeIntervalS: 1 });
    expect(printed.cameras.a.motion).toMatchObject({ hold: 1.5, minDuration: 0.5 });
  });

  it('gives a camera that lifts a top-level ceiling its null, so it reads back without it', () => {
    const f = file(['maxSize: 1920x1080', 'maxFps: 30', 'cameras:', '  a:', '    maxSize: null', '    maxFps: null', '  b:']);
    const printed = parse(output(['--config', f], true)) as { cameras: Record<string, Record<string, unknown>> };
    expect(printed.cameras.a).toMatchObject({ maxSize: null, maxFps: null });
    expect(printed.cameras.b).toMatchObject({ maxSize: '1920x1080', maxFps: 30 });
    expect(resolved(file(output(['--config', f], true)))).toEqual(resolved(f));
  });

  it('refuses the masked token, alone or beside the token file it came from, rather than run with "***" as the token', () => {
    const fromFile = file(output(['--token-file', TOKEN_FILE], false));
    expect(refusal(['--config', fromFile])).toMatch(/:\d+: token: "\*\*\*" holds \*\*\*, which config check prints in place of a secret; write the secret itself$/);
    const inClear = file(output(['--token-file', TOKEN_FILE], true));
    expect(resolved(inClear).token).toBe('a-token-from-the-token-file');
  });
});
