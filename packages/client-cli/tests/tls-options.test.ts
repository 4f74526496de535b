// --tls, --ca and --fingerprint: what they accept, what they imply, and how a bad value is named.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../src/errors.js';
import { parseFingerprint, parseGlobals, type RawGlobals } from '../src/global-options.js';
import { runCli, tempDir } from './run-cli.js';

const base: RawGlobals = { host: '127.0.0.1', port: '6810', protocol: 'auto', timeout: '10' };
const fromCli = () => 'cli';
const FP = 'AB:'.repeat(31) + 'AB';

function refusal(raw: Partial<RawGlobals>, sourceOf: (k: keyof RawGlobals) => string = fromCli): CliError {
  try {
    parseGlobals({ ...base, ...raw }, sourceOf);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

afterEach(() => {
  delete process.env.EDGECAM_TLS;
});

describe('fingerprints', () => {
  it.each([
    [FP, FP],
    [FP.toLowerCase(), FP],
    [FP.replaceAll(':', ''), FP],
    [`sha256 Fingerprint=${FP}`, FP],
    [`SHA256:${FP}`, FP],
    [`  ${FP}\n`, FP],
  ])('reads %j', (text, want) => {
    expect(parseFingerprint(text)).toBe(want);
  });

  it.each(['', 'AB:CD', FP + ':00', FP.replace('AB', 'GG'), 'sha1 Fingerprint=AB:CD'])('refuses %j', (text) => {
    expect(parseFingerprint(text)).toBeUndefined();
  });
});

describe('TLS flags', () => {
  it('are off unless one of --tls, --ca or --fingerprint is given', () => {
    expect(parseGlobals(base, fromCli).tls).toBeUndefined();
    expect(parseGlobals({ ...base, tls: true }, fromCli).tls).toEqual({});
    expect(parseGlobals({ ...base, fingerprint: FP.toLowerCase() }, fromCli).tls).toEqual({ fingerprint: FP });
  });

  it('read the CA file given with --ca', () => {
    const dir = tempDir('ca-');
    const ca = join(dir, 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(ca, pem);
    expect(parseGlobals({ ...base, ca }, fromCli).tls).toEqual({ ca: pem });
  });

  it('take EDGECAM_TLS=0 as off, and refuse a value that is no switch', () => {
    process.env.EDGECAM_TLS = '0';
    expect(parseGlobals({ ...base, tls: true }, (k) => (k === 'tls' ? 'env' : 'cli')).tls).toBeUndefined();
    process.env.EDGECAM_TLS = 'maybe';
    const err = refusal({ tls: true }, (k) => (k === 'tls' ? 'env' : 'cli'));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toBe('invalid value "maybe" for EDGECAM_TLS (for --tls): expected on or off (1/0, true/false, yes/no)');
  });

  it('name --fingerprint when its value is no SHA-256 fingerprint (exit 2)', () => {
    const err = refusal({ fingerprint: 'AB:CD' });
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toBe('invalid value "AB:CD" for --fingerprint: expected a SHA-256 fingerprint: 64 hex digits, colons allowed (AB:CD:…)');
  });

  it('exit 5 when the --ca file cannot be read or holds no certificate', async () => {
    const cwd = tempDir();
    const missing = await runCli(['--ca', 'nope.pem', 'snapshot'], { cwd });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe('edgecam: could not read the CA file nope.pem: no such file or directory\n');
    writeFileSync(join(cwd, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
    const notCert = await runCli(['--ca', 'key.pem', 'snapshot'], { cwd });
    expect(notCert.code).toBe(5);
    expect(notCert.stderr).toContain('holds no PEM certificate');
  });
});

describe('the server\'s rules for values', () => {
  const fromEnv = () => 'env';
  const envNames = ['EDGECAM_TLS'] as const;
  afterEach(() => {
    for (const n of envNames) delete process.env[n];
  });

  it('take a variable set to the empty string as unset', () => {
    process.env.EDGECAM_TLS = '';
    const g = parseGlobals({ host: '', port: '', protocol: '', timeout: '', token: '', tls: true, ca: '', fingerprint: '' }, fromEnv);
    expect(g).toEqual({ host: '127.0.0.1', port: 6810, protocol: 'auto', timeoutMs: 10_000, token: undefined, tls: undefined });
  });

  it('still refuse an empty value given on the command line', () => {
    expect(refusal({ token: '' }).message).toBe('invalid value "" for --token: expected 1 to 512 printable ASCII characters, no spaces');
  });

  it.each(['has space', 'tab\there', 'é-accent', 'x'.repeat(513)])('refuse the token %j, as the server would', (token) => {
    expect(refusal({ token }).exitCode).toBe(ExitCode.USAGE);
  });

  it('accept a token the server accepts', () => {
    expect(parseGlobals({ ...base, token: 'demo-token-4f9c2a7e!~' }, fromCli).token).toBe('demo-token-4f9c2a7e!~');
  });
});
