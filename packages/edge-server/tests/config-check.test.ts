// `edgecam-server config check`: the configuration the options resolve to, printed in the config
// file's form with where each value came from and the token masked, or every problem with exit 2.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCommandLine } from '../src/config/config.js';
import { OPTION_KEYS } from '../src/config/config-options.js';
import { MASKED, maskToken } from '../src/config/config-report.js';
import { refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function check(argv: string[], env: NodeJS.ProcessEnv = {}): { exitCode: number; output: string } {
  const r = parseCommandLine(['config', 'check', ...argv], env, '9.9.9');
  if (!('output' in r)) throw new Error('expected output, got a config to run with');
  return r;
}

const TOKEN = 'a-long-secret-token-0123456789';

describe('edgecam-server config check', () => {
  it('prints every option as YAML, each line saying where its value came from: defaults < file < variables < flags', () => {
    const f = file('layers.yaml', 'port: 7001\nquality: 50\nfps: 12\n');
    const r = check(['--config', f, '--fps', '15'], { EDGECAM_QUALITY: '60', XDG_CONFIG_HOME: '/cfg' });
    expect(r.exitCode).toBe(0);
    const lines = r.output.split('\n');
    expect(lines[0]).toMatch(/^# edgecam-server 9\.9\.9: /);
    expect(lines.find((l) => l.startsWith('port:'))).toMatch(new RegExp(`^port: 7001 +# ${f}:1$`));
    expect(lines.find((l) => l.startsWith('quality:'))).toMatch(/^quality: 60 +# EDGECAM_QUALITY$/);
    expect(lines.find((l) => l.startsWith('fps:'))).toMatch(/^fps: 15 +# --fps$/);
    expect(lines.find((l) => l.startsWith('host:'))).toMatch(/^host: 0\.0\.0\.0 +# default$/);
    const values = parse(r.output) as Record<string, unknown>;
    expect(Object.keys(values)).toEqual(OPTION_KEYS);
    expect(values).toMatchObject({ port: 7001, quality: 60, fps: 15, size: '640x480', source: 'testsrc', http: true, token: null, tlsDir: '/cfg/edgecam' });
  });

  it('reads the flags given before `config check` as well as after', () => {
    const r = parseCommandLine(['--port', '7002', 'config', 'check', '--json'], {});
    expect('output' in r && (JSON.parse(r.output) as { port: number }).port).toBe(7002);
  });

  it('prints JSON with --json, in the config file form', () => {
    const r = check(['--json', '--no-http', '--size', '320x240'], { EDGECAM_SOURCE: 'stdin' });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.output)).toMatchObject({ http: false, size: '320x240', source: 'stdin', port: 6810 });
  });

  it('never prints the token, from a flag, a variable, a file or a token file', () => {
    const tokenFile = file('token', `${TOKEN}\n`);
    const yaml = file('token.yaml', `token: ${TOKEN}\n`);
    const outputs = [
      check(['--token', TOKEN]),
      check(['--json'], { EDGECAM_TOKEN: TOKEN }),
      check(['--config', yaml]),
      check(['--token-file', tokenFile]),
    ].map((r) => r.output);
    for (const output of outputs) {
      expect(output).not.toContain(TOKEN);
      expect(output).toContain('"***"');
    }
    expect(outputs[3]).toMatch(new RegExp(`token: "\\*\\*\\*" +# read from ${tokenFile}`));
    expect(check(['--token', 'short']).output).toMatch(/^token: "\*\*\*" +# --token$/m);
  });

  it('masks a token whole, as the fixed marker every secret is shown as', () => {
    expect(maskToken(TOKEN)).toBe(MASKED);
    expect(maskToken('x')).toBe(MASKED);
  });

  it('lists every problem of a file, as file:line: key: problem, with exit code 2', () => {
    const f = file('bad.yaml', 'port: 70000\ncolour: red\nhost: 127.0.0.1\nfps: fast\n');
    expect(check(['--config', f])).toEqual({
      exitCode: 2,
      output: [
        `${f}:1: port: expected an integer from 0 to 65535, got 70000`,
        `${f}:2: colour: no such option; the keys are the long flags in camelCase (httpPort for --http-port)`,
        `${f}:4: fps: expected a number of frames per second from 1 to 240, got "fast"`,
        '',
      ].join('\n'),
    });
  });

  it('lists problems of variables and flags, and of combinations, with exit code 2', () => {
    expect(check(['--quality', '0'], { EDGECAM_PORT: 'x' })).toEqual({
      exitCode: 2,
      output: 'EDGECAM_PORT (--port): expected an integer from 0 to 65535, got "x"\n--quality: expected an integer from 1 to 100, got "0"\n',
    });
    expect(check(['--tls-cert', '/c.pem'])).toMatchObject({ exitCode: 2, output: '--tls-cert needs --tls-key too: TLS takes a certificate and its private key\n' });
    expect(check(['--token-file', join(dir, 'missing')])).toMatchObject({ exitCode: 2, output: expect.stringMatching(/^--token-file: cannot read /) });
  });

  it('refuses what it does not know, and `config` alone, as usage errors', () => {
    expect(check(['--bogus'])).toMatchObject({ exitCode: 2, output: expect.stringContaining("unknown option '--bogus'") });
    expect(parseCommandLine(['config'], {})).toMatchObject({ exitCode: 2, output: expect.stringContaining('check') });
    expect(check(['--help'])).toMatchObject({ exitCode: 0, output: expect.stringContaining('--json') });
  });

  it('leaves a plain run alone: no subcommand, the same config and refusals as before', () => {
    const r = parseCommandLine(['--port', '7003'], {});
    expect('config' in r && r.config.port).toBe(7003);
    expect(refusal(['--port', 'x'])).toBe('--port: expected an integer from 0 to 65535, got "x"');
  });
});
