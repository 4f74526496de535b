// The access and TLS options: where the token comes from (flag, file, variable), what a token
// may be, and which combinations make no sense; every refusal names the flag.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTlsDir, parseCommandLine } from '../src/config/config.js';
import { config, refusal } from './support/config.js';
import { bannerLines } from '../src/cli/banner.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-access-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('the token', () => {
  it('is off by default, and so is TLS', () => {
    expect(config([])).toMatchObject({ token: null, allowLegacy: false, tlsCert: null, tlsKey: null, tlsSelfSigned: false });
  });

  it('comes from --token, EDGECAM_TOKEN, --token-file or EDGECAM_TOKEN_FILE', () => {
    expect(config(['--token', 'abc-DEF_123!']).token).toBe('abc-DEF_123!');
    expect(config([], { EDGECAM_TOKEN: 'from-env' }).token).toBe('from-env');
    const f = file('token', 'from-file-0123\n');
    expect(config(['--token-file', f]).token).toBe('from-file-0123');
    expect(config([], { EDGECAM_TOKEN_FILE: f }).token).toBe('from-file-0123');
  });

  it('from a flag beats one from a variable, whichever way each is given', () => {
    const f = file('token2', 'file-token\r\n');
    expect(config(['--token', 'flag-token'], { EDGECAM_TOKEN_FILE: f }).token).toBe('flag-token');
    expect(config(['--token-file', f], { EDGECAM_TOKEN: 'env-token' }).token).toBe('file-token');
  });

  it('is refused when given two ways at the same level', () => {
    const f = file('token3', 'x');
    expect(parseCommandLine(['--token', 'a', '--token-file', f], {})).toMatchObject({ exitCode: 2 });
    expect(refusal([], { EDGECAM_TOKEN: 'a', EDGECAM_TOKEN_FILE: f })).toBe(
      'EDGECAM_TOKEN (--token) and EDGECAM_TOKEN_FILE (--token-file): give the token one way, not both',
    );
  });

  it('must be printable ASCII without spaces, at most 512 characters', () => {
    expect(refusal(['--token', 'has space'])).toBe('--token: expected 1 to 512 printable ASCII characters, no spaces, got "has space"');
    expect(refusal(['--token', 'x'.repeat(513)])).toMatch(/^--token: expected 1 to 512/);
    expect(refusal([], { EDGECAM_TOKEN: 'tøken' })).toMatch(/^EDGECAM_TOKEN \(--token\): expected/);
  });

  it('names the file when --token-file cannot be read or holds more than a token', () => {
    const missing = join(dir, 'missing');
    expect(refusal(['--token-file', missing])).toBe(`--token-file: cannot read ${missing}: no such file or directory`);
    expect(refusal(['--token-file', dir])).toBe(`--token-file: cannot read ${dir}: it is a directory`);
    const two = file('two-lines', 'line one\nline two\n');
    expect(refusal(['--token-file', two])).toMatch(/^--token-file: .*two-lines must hold the token alone/);
    const empty = file('empty', '\n');
    expect(refusal(['--token-file', empty])).toMatch(/must hold the token alone.*\(it holds 0 characters\)$/);
  });
});

describe('TLS options', () => {
  it('needs the certificate and the key together', () => {
    expect(refusal(['--tls-cert', '/c.pem'])).toBe('--tls-cert needs --tls-key too: TLS takes a certificate and its private key');
    expect(refusal([], { EDGECAM_TLS_KEY: '/k.pem' })).toBe(
      'EDGECAM_TLS_KEY (--tls-key) needs --tls-cert too: TLS takes a certificate and its private key',
    );
  });

  it('takes either own files or a self-signed certificate, not both', () => {
    expect(parseCommandLine(['--tls-self-signed', '--tls-cert', 'c', '--tls-key', 'k'], {})).toMatchObject({ exitCode: 2 });
    expect(refusal(['--tls-cert', 'c', '--tls-key', 'k'], { EDGECAM_TLS_SELF_SIGNED: 'on' })).toMatch(/not both$/);
  });

  it('keeps the self-signed files under XDG_CONFIG_HOME, or ~/.config, unless --tls-dir says otherwise', () => {
    expect(config([], { XDG_CONFIG_HOME: '/cfg' }).tlsDir).toBe('/cfg/edgecam');
    expect(defaultTlsDir({ XDG_CONFIG_HOME: 'relative' })).toBe(defaultTlsDir({}));
    expect(defaultTlsDir({})).toMatch(/\/\.config\/edgecam$/);
    expect(config(['--tls-dir', '/etc/edgecam']).tlsDir).toBe('/etc/edgecam');
  });

  it('lists every access and TLS flag in --help', () => {
    const help = parseCommandLine(['--help'], {});
    for (const flag of ['--token', '--token-file', '--allow-legacy', '--tls-cert', '--tls-key', '--tls-self-signed', '--tls-dir', '--http-rate-limit']) {
      expect('output' in help && help.output).toContain(flag);
    }
  });
});

describe('the start banner', () => {
  const base = { host: '127.0.0.1', tcpPort: 6810, httpPort: 8080, source: 'testsrc', ffmpeg: null, version: '1.0.0' };

  it('says when the server is open to anyone, and that TLS is off', () => {
    const text = bannerLines(base).join('\n');
    expect(text).toContain('Access: open to anyone who can reach these ports (no --token)');
    expect(text).toContain('TLS: off');
    expect(text).toContain('tcp://127.0.0.1:6810');
  });

  it('says plainly when the camera device is not there yet', () => {
    const text = bannerLines({ ...base, source: 'v4l2:/dev/video7', missingDevice: '/dev/video7' }).join('\n');
    expect(text).toContain('Camera: /dev/video7 does not exist yet; the capture retries until it is plugged in');
    expect(bannerLines(base).join('\n')).not.toContain('Camera:');
  });

  it('says whether legacy clients are refused or let in without a token', () => {
    expect(bannerLines({ ...base, tokenRequired: true }).join('\n')).toContain('legacy clients refused');
    expect(bannerLines({ ...base, tokenRequired: true, allowLegacy: true }).join('\n')).toContain(
      'legacy clients can connect without a token',
    );
  });

  it('gives TLS addresses and the fingerprint to pin', () => {
    const tls = { fingerprint256: 'AB:CD', certPath: '/x/edgecam-cert.pem', origin: 'reused' as const };
    const text = bannerLines({ ...base, tls }).join('\n');
    expect(text).toContain('tls://127.0.0.1:6810');
    expect(text).toContain('https://127.0.0.1:8080/');
    expect(text).toContain('TLS fingerprint (SHA-256): AB:CD');
  });
});
