import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDurationMs, parseListen, parseSizeBytes } from '../src/flag-values.js';
import { startFakeSeedServer, type FakeSeedServer } from './fake-seed-server.js';
import { runCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';

describe('value parsers', () => {
  it.each([
    ['10', 10_000],
    ['10s', 10_000],
    ['2.5', 2500],
    ['1.5m', 90_000],
    ['500ms', 500],
    ['2h', 7_200_000],
  ])('reads the duration %s as %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', 's', '-1s', '10 minutes', '1e3', 'ten'])('refuses the duration %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it.each([
    ['1GB', 1e9],
    ['1GiB', 1024 ** 3],
    ['500MB', 5e8],
    ['64kB', 64_000],
    ['64KiB', 65_536],
    ['1000000', 1e6],
    ['1.5 GB', 1.5e9],
  ])('reads the size %s as %i bytes', (text, bytes) => {
    expect(parseSizeBytes(text)).toBe(bytes);
  });

  it.each(['', 'GB', '1XB', '-5MB'])('refuses the size %j', (text) => {
    expect(parseSizeBytes(text)).toBeUndefined();
  });

  it.each([
    ['127.0.0.1:8090', { host: '127.0.0.1', port: 8090 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:8090', { host: '::1', port: 8090 }],
    [':9000', { host: '127.0.0.1', port: 9000 }],
    ['9000', { host: '127.0.0.1', port: 9000 }],
  ])('reads the listen address %s', (text, addr) => {
    expect(parseListen(text)).toEqual(addr);
  });

  it.each(['localhost', '127.0.0.1:99999', '127.0.0.1:x'])('refuses the listen address %j', (text) => {
    expect(parseListen(text)).toBeUndefined();
  });
});

describe('usage errors exit 2 and name the flag and what it accepts', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = tempDir();
  });
  afterAll(() => {
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each([
    [['--port', 'abc', 'snapshot'], /^edgecam: invalid value "abc" for --port: expected an integer from 1 to 65535$/m],
    [['--port', '70000', 'snapshot'], /invalid value "70000" for --port: expected an integer from 1 to 65535/],
    [['--protocol', 'v3', 'snapshot'], /invalid value "v3" for --protocol: expected one of auto, legacy, v2/],
    [['--timeout', '0', 'snapshot'], /invalid value "0" for --timeout: expected a number of seconds above 0/],
    [['--host', '', 'snapshot'], /invalid value "" for --host: expected a host name or IP address/],
    [['record', '-o', 'out.mp4'], /invalid value "out.mp4" for --output: expected a file name ending in .avi, .mjpeg or .mjpg/],
    [['record', '--frames', '0'], /invalid value "0" for --frames: expected a whole number of frames, 1 or more/],
    [['record', '--duration', 'soon'], /invalid value "soon" for --duration: expected a duration above 0/],
    [['record', '--segment', '10m', '--segment-size', '1GB'], /--segment and --segment-size cannot be used together/],
    [['record', '--segment-size', '12'], /invalid value "12" for --segment-size: expected a size of at least 1 KiB/],
    [['view', '--listen', 'nowhere'], /invalid value "nowhere" for --listen: expected HOST:PORT/],
    [['fly'], /unknown command 'fly'/],
    [['snapshot', '--bogus'], /unknown option '--bogus'/],
  ])('edgecam %j', async (args, message) => {
    const r = await runCli(args, { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('names the environment variable when the bad value came from it', async () => {
    const r = await runCli(['snapshot'], { cwd, env: { EDGECAM_PROTOCOL: 'v3' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid value "v3" for EDGECAM_PROTOCOL \(for --protocol\): expected one of auto, legacy, v2/);
  });

  it('prints help with the exit codes, exiting 0', async () => {
    const r = await runCli(['--help'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 unexpected, 2 usage, 3 connection/);
    for (const c of ['snapshot', 'record', 'view', 'shell', 'info', 'repair']) expect(r.stdout).toContain(c);
  });
});

describe('environment variables', () => {
  let seed: FakeSeedServer;
  beforeAll(async () => {
    seed = await startFakeSeedServer({ frames: testFrames() });
  });
  afterAll(() => seed.close());

  it('take the place of the global flags', async () => {
    const cwd = tempDir();
    const r = await runCli(['snapshot', '-o', 'env.jpg'], {
      cwd,
      env: { EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: String(seed.port), EDGECAM_PROTOCOL: 'legacy', EDGECAM_TIMEOUT: '5' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual(['env.jpg']);
    // legacy was forced: no v2 opening reached the server
    expect(seed.commands).toEqual(['0', '1']);
  });

  it('lose to a flag given on the command line', async () => {
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'snapshot', '-o', 'flag.jpg'], { cwd, env: { EDGECAM_PORT: '1' } });
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual(['flag.jpg']);
  });
});
