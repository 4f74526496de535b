// The first five minutes: a host that does not answer, a TLS port reached without --tls, and the
// HTTP port given as --port each end in one sentence naming the cause and the fix.
import { readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEFAULT_CONFIG, startEdgeServer, type RunningEdgeServer } from '@edgecam/edge-server';
import { connectTimeout } from '../src/socket-open.js';
import { looksLikeHttp, looksLikeTls } from '../src/wrong-port.js';
import { runCli, tempDir } from './run-cli.js';
import { startScriptedServer, type ScriptedServer } from './scripted-server.js';

const scripted: ScriptedServer[] = [];
afterEach(async () => {
  while (scripted.length > 0) await scripted.pop()!.close();
});

describe('a host that does not answer', () => {
  it('is a connect error that names the address, the --timeout and what to check', () => {
    const err = connectTimeout('10.1.2.3:6810', 3000, false);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('could not connect to 10.1.2.3:6810: no answer within 3 s (is the host up, and the address right?)');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
  });

  it('over TLS, names the missing handshake once TCP is up', () => {
    expect(connectTimeout('10.1.2.3:6810', 500, true).message).toBe(
      'could not connect securely to 10.1.2.3:6810: no TLS handshake within 0.5 s (does the server speak TLS on this port?)',
    );
  });
});

describe('recognising the wrong port from its first bytes', () => {
  it.each([
    ['HTTP/1.1 400 Bad Request\r\n', 'http'],
    ['Unknown command', 'neither'],
  ])('%j is %s', (text, kind) => {
    expect(looksLikeHttp(Buffer.from(text))).toBe(kind === 'http');
    expect(looksLikeTls(Buffer.from(text))).toBe(false);
  });

  it('takes a TLS alert or handshake record for TLS', () => {
    expect(looksLikeTls(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))).toBe(true);
    expect(looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]))).toBe(true);
    expect(looksLikeTls(Buffer.from([0x00, 0x00, 0x10, 0x00, 0xff, 0xd8]))).toBe(false);
  });
});

describe('a plain client against edgecam-server over TLS', () => {
  let server: RunningEdgeServer;
  beforeAll(async () => {
    server = await startEdgeServer(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, size: { width: 160, height: 120 }, fps: 30, logLevel: 'silent', tlsSelfSigned: true, tlsDir: tempDir('tls-') },
      { logger: pino({ level: 'silent' }), statsIntervalMs: 0 },
    );
  });
  afterAll(() => server.close());

  it('says the port speaks TLS and to add --tls, before --timeout', async () => {
    const cwd = tempDir();
    // --timeout 60: the sentence must not wait for it (the test's own limit is far below).
    const r = await runCli(['--port', String(server.tcpPort), '--timeout', '60', 'snapshot'], { cwd, killAfterMs: 20_000 });
    expect(r.stderr).toMatch(new RegExp(`edgecam: 127\\.0\\.0\\.1:${server.tcpPort} speaks TLS; add --tls \\(and --fingerprint or --ca to trust a self-signed certificate\\)\\n$`));
    expect(r.code).toBe(3);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('a port that answers with a TLS alert', () => {
  it('says it speaks TLS, for the legacy protocol too', async () => {
    const s = await startScriptedServer((sock) => sock.once('data', () => sock.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))));
    scripted.push(s);
    for (const protocol of ['auto', 'legacy']) {
      const r = await runCli(['--port', String(s.port), '--protocol', protocol, 'snapshot'], { cwd: tempDir() });
      expect(r.stderr).toBe(`edgecam: 127.0.0.1:${s.port} speaks TLS; add --tls (and --fingerprint or --ca to trust a self-signed certificate)\n`);
      expect(r.code).toBe(3);
    }
  });
});

describe('the HTTP port given as --port', () => {
  const sentence = (port: number) =>
    `edgecam: 127.0.0.1:${port} looks like an HTTP port (it answered "HTTP/1.1 400 Bad Request"); edgecam needs the server's TCP port, 6810 by default (see --port)\n`;

  it.each(['auto', 'legacy'])('is named as such, with the TCP port default (--protocol %s)', async (protocol) => {
    const s = await startScriptedServer((sock) => sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
    scripted.push(s);
    const cwd = tempDir();
    const r = await runCli(['--port', String(s.port), '--protocol', protocol, 'snapshot'], { cwd });
    expect(r.stderr).toBe(sentence(s.port));
    expect(r.code).toBe(4);
    // auto does not fall back to legacy: no legacy server answers like that.
    expect(s.accepted()).toBe(1);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
