import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, defaultTlsDir, parseCommandLine } from '../src/config/config.js';
import { config, refusal } from './support/config.js';

describe('command line and environment', () => {
  it('runs with no arguments at all: the documented defaults', () => {
    // The default --tls-dir follows XDG_CONFIG_HOME, which these calls do not set.
    expect(config([])).toEqual({ ...DEFAULT_CONFIG, tlsDir: defaultTlsDir({}) });
    expect(DEFAULT_CONFIG).toMatchObject({ host: '0.0.0.0', port: 6810, httpPort: 8080, source: { kind: 'testsrc' }, size: { width: 640, height: 480 }, fps: 30 });
  });

  it('reads every flag', () => {
    const c = config([
      '--host', '127.0.0.1', '--port', '7000', '--http-port', '9000', '--source', 'v4l2:/dev/video1', '--size', '1280x720',
      '--fps', '29.97', '--max-size', '1920x1080', '--max-fps', '30', '--quality', '90', '--idle-stop', '2.5', '--max-clients', '4', '--max-per-address', '3', '--log-level', 'debug', '--hello-timeout', '0.5',
      '--max-pending', '8', '--idle-timeout', '90', '--token', 's3cret-token', '--allow-legacy', '--tls-cert', '/etc/c.pem',
      '--tls-key', '/etc/k.pem', '--tls-dir', '/var/lib/edgecam', '--http-rate-limit', '2.5', '--allowed-hosts', 'cam.example.lan, cam2,', '--name', 'garage', '--no-mdns',
    ]);
    expect(c).toEqual({
      host: '127.0.0.1', port: 7000, http: true, httpPort: 9000, source: { kind: 'v4l2', device: '/dev/video1' }, size: { width: 1280, height: 720 },
      fps: 29.97, maxSize: { width: 1920, height: 1080 }, maxFps: 30, quality: 90, idleStop: 2.5, alwaysOn: false, maxClients: 4, maxPerAddress: 3, logLevel: 'debug', helloTimeout: 0.5,
      maxPending: 8, idleTimeout: 90, token: 's3cret-token', tokenFile: null, allowLegacy: true, tlsCert: '/etc/c.pem', tlsKey: '/etc/k.pem',
      tlsSelfSigned: false, tlsDir: '/var/lib/edgecam', httpRateLimit: 2.5, allowedHosts: ['cam.example.lan', 'cam2'], name: 'garage', mdns: false,
    });
  });

  it('reads every EDGECAM_* variable', () => {
    const c = config([], {
      EDGECAM_HOST: '::1', EDGECAM_PORT: '1', EDGECAM_HTTP: 'off', EDGECAM_SOURCE: 'file:/tmp/a b.avi', EDGECAM_SIZE: '320x240',
      EDGECAM_FPS: '5', EDGECAM_MAX_SIZE: '640x480', EDGECAM_MAX_FPS: '7.5', EDGECAM_QUALITY: '1', EDGECAM_ALWAYS_ON: 'yes', EDGECAM_MAX_CLIENTS: '0', EDGECAM_MAX_PER_ADDRESS: '0', EDGECAM_LOG_LEVEL: 'warn',
      EDGECAM_IDLE_STOP: '0', EDGECAM_HELLO_TIMEOUT: '3', EDGECAM_MAX_PENDING: '1', EDGECAM_IDLE_TIMEOUT: '0',
      EDGECAM_TOKEN: 'from-env', EDGECAM_ALLOW_LEGACY: 'on', EDGECAM_TLS_SELF_SIGNED: '1', EDGECAM_TLS_DIR: '/srv/tls',
      EDGECAM_HTTP_RATE_LIMIT: '0', EDGECAM_ALLOWED_HOSTS: 'camera.local.example', EDGECAM_NAME: 'porch-2', EDGECAM_MDNS: 'off',
    });
    expect(c).toEqual({
      host: '::1', port: 1, http: false, httpPort: 8080, source: { kind: 'file', path: '/tmp/a b.avi' }, size: { width: 320, height: 240 }, fps: 5,
      maxSize: { width: 640, height: 480 }, maxFps: 7.5, quality: 1, idleStop: 0, alwaysOn: true, maxClients: 0, maxPerAddress: 0, logLevel: 'warn', helloTimeout: 3,
      maxPending: 1, idleTimeout: 0, token: 'from-env', tokenFile: null, allowLegacy: true, tlsCert: null, tlsKey: null, tlsSelfSigned: true,
      tlsDir: '/srv/tls', httpRateLimit: 0, allowedHosts: ['camera.local.example'], name: 'porch-2', mdns: false,
    });
  });

  it('lets a flag win over its variable', () => {
    expect(config(['--port', '7001'], { EDGECAM_PORT: '7002' }).port).toBe(7001);
    expect(config(['--source', 'stdin'], { EDGECAM_SOURCE: 'testsrc' }).source).toEqual({ kind: 'stdin' });
  });

  it('turns HTTP off with --no-http', () => {
    expect(config(['--no-http']).http).toBe(false);
    expect(config(['--always-on']).alwaysOn).toBe(true);
  });

  it('names the flag and what is allowed for a bad value', () => {
    expect(refusal(['--source', 'foo'])).toBe('--source: expected testsrc, v4l2:/dev/videoN, file:PATH, stdin, http(s)://HOST/PATH (MJPEG), rtsp(s)://HOST/PATH[#udp], tcp://HOST[:PORT] (the seed\'s camera server) or edgecam(s)://HOST[:PORT][/CAMERA] (another edgecam-server), got "foo"');
    expect(refusal(['--port', '70000'])).toBe('--port: expected an integer from 0 to 65535, got "70000"');
    expect(refusal(['--size', '640'])).toMatch(/^--size: expected WIDTHxHEIGHT.*got "640"$/);
    expect(refusal(['--quality', '0'])).toMatch(/^--quality: expected an integer from 1 to 100/);
    expect(refusal(['--fps', 'fast'])).toMatch(/^--fps: expected a number of frames per second/);
    expect(refusal(['--log-level', 'loud'])).toMatch(/^--log-level: expected fatal, error, warn, info, debug, trace, silent/);
    expect(refusal(['--source', 'v4l2:video0'])).toMatch(/^--source: /);
    expect(refusal(['--hello-timeout', '0'])).toMatch(/^--hello-timeout: /);
    expect(refusal(['--max-pending', '0'])).toBe('--max-pending: expected an integer from 1 to 100000, got "0"');
    expect(refusal(['--idle-timeout', '-5'])).toMatch(/^--idle-timeout: expected a number of seconds from 0 \(never\) to 86400/);
  });

  it('names the variable (and its flag) when the bad value came from the environment', () => {
    expect(refusal([], { EDGECAM_MAX_CLIENTS: '-1' })).toBe(
      'EDGECAM_MAX_CLIENTS (--max-clients): expected an integer from 0 (no limit) to 100000, got "-1"',
    );
    expect(refusal([], { EDGECAM_ALWAYS_ON: 'maybe' })).toMatch(/^EDGECAM_ALWAYS_ON \(--always-on\): expected on or off/);
  });

  it('answers usage errors with exit code 2 and help with 0', () => {
    const unknown = parseCommandLine(['--colour', 'red'], {});
    expect(unknown).toMatchObject({ exitCode: 2 });
    expect('output' in unknown && unknown.output).toContain("unknown option '--colour'");
    expect(parseCommandLine(['--port'], {})).toMatchObject({ exitCode: 2 });
    expect(parseCommandLine(['--no-http', '--http-port', '1'], {})).toMatchObject({ exitCode: 2 });
    expect(parseCommandLine(['--always-on', '--idle-stop', '1'], {})).toMatchObject({ exitCode: 2 });
    const help = parseCommandLine(['--help'], {});
    expect(help).toMatchObject({ exitCode: 0 });
    for (const flag of ['--host', '--port', '--http-port', '--no-http', '--source', '--size', '--fps', '--quality', '--idle-stop', '--always-on', '--max-clients', '--log-level', '--max-pending', '--idle-timeout']) {
      expect('output' in help && help.output).toContain(flag);
    }
  });

  it('refuses one port for both TCP and HTTP, which would fail as "in use" by itself', () => {
    expect(refusal(['--port', '7000'], { EDGECAM_HTTP_PORT: '7000' })).toBe('--port and EDGECAM_HTTP_PORT (--http-port): both are 7000; TCP and HTTP need a port each');
    expect(config(['--port', '7000', '--no-http'], { EDGECAM_HTTP_PORT: '7000' }).port).toBe(7000);
    expect(config(['--port', '0', '--http-port', '0']).port).toBe(0);
  });
});
