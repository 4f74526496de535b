// The sentences for ports and hosts the server cannot listen on; the process tests
// (cli-process.test.ts) show them end to end for the failures a test can cause without root.
import { describe, expect, it } from 'vitest';
import { describeListenFailure } from '../src/cli/listen-failure.js';

const target = { host: '127.0.0.1', port: 6810, httpPort: 8080 };
const failure = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(code), { code, syscall: 'listen', ...extra });

describe('describeListenFailure', () => {
  it('names the TCP or HTTP port in use and the flag and variable that choose another', () => {
    expect(describeListenFailure(failure('EADDRINUSE', { port: 6810 }), target)).toBe(
      'TCP port 6810 is in use (another edgecam-server?); choose another with --port or EDGECAM_PORT',
    );
    expect(describeListenFailure(failure('EADDRINUSE', { port: 8080 }), target)).toBe(
      'HTTP port 8080 is in use (another edgecam-server?); choose another with --http-port or EDGECAM_HTTP_PORT, or turn HTTP off with --no-http',
    );
  });

  it('says a port below 1024 needs privileges', () => {
    expect(describeListenFailure(failure('EACCES', { port: 80 }), { ...target, httpPort: 80 })).toBe(
      'HTTP port 80 needs privileges (ports below 1024 do); choose one from 1024 up with --http-port or EDGECAM_HTTP_PORT',
    );
    expect(describeListenFailure(failure('EACCES', { port: 600 }), { ...target, port: 600 })).toMatch(/^TCP port 600 needs privileges.*--port or EDGECAM_PORT$/);
  });

  it('says --host is not an address of this machine, or does not resolve', () => {
    expect(describeListenFailure(failure('EADDRNOTAVAIL', { address: '192.0.2.1' }), { ...target, host: '192.0.2.1' })).toBe(
      '--host 192.0.2.1 is not an address of this machine; choose one it has, or 0.0.0.0 for all, with --host or EDGECAM_HOST',
    );
    expect(describeListenFailure(failure('ENOTFOUND', { syscall: 'getaddrinfo' }), { ...target, host: 'nowhere.invalid' })).toMatch(
      /^--host nowhere\.invalid does not resolve/,
    );
  });

  it('leaves any other error, and a port that is neither of ours, to the generic report', () => {
    expect(describeListenFailure(new Error('boom'), target)).toBeNull();
    expect(describeListenFailure(failure('EADDRINUSE', { port: 1234 }), target)).toBeNull();
    expect(describeListenFailure(failure('ENOENT'), target)).toBeNull();
    expect(describeListenFailure(undefined, target)).toBeNull();
  });
});
