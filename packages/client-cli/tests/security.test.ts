// The CLI against real edgecam-servers that require a token, one of them over TLS with a
// self-signed certificate: the token is sent in the v2 HELLO (and a refusal exits 3 with a
// sentence saying what to do), the certificate is trusted through --ca or pinned with
// --fingerprint, and a wrong fingerprint exits 6 before anything is sent.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEFAULT_CONFIG, startEdgeServer, type EdgeServerConfig, type RunningEdgeServer } from '@edgecam/edge-server';
import { readJpegInfo } from '@edgecam/protocol';
import { runCli, spawnCli, tempDir } from './run-cli.js';
import { sleep } from './wait-for.js';

const TOKEN = 'cli-security-token-91ab';
const servers: RunningEdgeServer[] = [];

async function server(overrides: Partial<EdgeServerConfig>): Promise<RunningEdgeServer> {
  const s = await startEdgeServer(
    { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, size: { width: 160, height: 120 }, fps: 30, idleStop: 2, logLevel: 'silent', ...overrides },
    // These tests send wrong tokens on purpose; the lockout itself is tested in edge-server.
    { logger: pino({ level: 'silent' }), statsIntervalMs: 0, accessTuning: { freeFailures: 1000 } },
  );
  servers.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('against a server with --token', () => {
  let port: string;
  beforeAll(async () => {
    port = String((await server({ token: TOKEN })).tcpPort);
  });

  it('takes a snapshot with the right token, from --token or EDGECAM_TOKEN', async () => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, '--token', TOKEN, 'snapshot', '-o', 'a.jpg'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^saved a\.jpg \(160x120, .* v2 protocol\)\n$/);
    const env = await runCli(['--port', port, 'snapshot', '-o', 'b.jpg'], { cwd, env: { EDGECAM_TOKEN: TOKEN } });
    expect(env.code).toBe(0);
    expect(readJpegInfo(readFileSync(join(cwd, 'b.jpg')))).toMatchObject({ width: 160, height: 120 });
  });

  it('exits 3 without a token, saying the server requires one (no fallback to legacy)', async () => {
    const r = await runCli(['--port', port, 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: the server requires a token: no token in HELLO (UNAUTHORIZED); pass it with --token or EDGECAM_TOKEN\n');
  });

  it('exits 3 with a wrong token, saying it was refused', async () => {
    const r = await runCli(['--port', port, '--token', 'not-the-token', 'record', '--frames', '5'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('edgecam: the server refused our token: wrong token (UNAUTHORIZED); check --token or EDGECAM_TOKEN');
  });

  it('exits 3 over the legacy protocol, which cannot send a token, and says why it may have been closed', async () => {
    const r = await runCli(['--port', port, '--protocol', 'legacy', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/closed the connection without sending anything \(a server with a token refuses legacy clients unless started with --allow-legacy/);
  });

  it('exits 3 when --tls is used against a server that does not speak TLS', async () => {
    const r = await runCli(['--port', port, '--tls', '--token', TOKEN, 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/TLS handshake: the server may not speak TLS on this port/);
  });
});

describe('against a server with --tls-self-signed', () => {
  let port: string;
  let fingerprint: string;
  let certFile: string;
  beforeAll(async () => {
    const s = await server({ token: TOKEN, tlsSelfSigned: true, tlsDir: tempDir('tls-') });
    port = String(s.tcpPort);
    fingerprint = s.tls!.fingerprint256;
    certFile = s.tls!.certPath;
  });

  it('takes a snapshot with the pinned fingerprint, written as the banner or as openssl prints it', async () => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, '--token', TOKEN, '--fingerprint', fingerprint, 'snapshot', '-o', 'pinned.jpg'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readJpegInfo(readFileSync(join(cwd, 'pinned.jpg')))).toMatchObject({ width: 160, height: 120 });
    const openssl = `sha256 Fingerprint=${fingerprint}`;
    const bare = fingerprint.replaceAll(':', '').toLowerCase();
    for (const form of [openssl, bare]) {
      expect((await runCli(['--port', port, '--token', TOKEN, '--fingerprint', form, 'snapshot', '-o', 'x.jpg'], { cwd })).code).toBe(0);
    }
  });

  it('exits 6 on a wrong fingerprint, naming both fingerprints', async () => {
    const wrong = (fingerprint.startsWith('00') ? '11' : '00') + fingerprint.slice(2);
    const r = await runCli(['--port', port, '--token', TOKEN, '--fingerprint', wrong, 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`does not match --fingerprint: it has ${fingerprint}, expected ${wrong}`);
  });

  it('exits 6 with --tls alone: a self-signed certificate is not trusted without --ca or --fingerprint', async () => {
    const r = await runCli(['--port', port, '--token', TOKEN, '--tls', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/not signed by a CA this machine trusts \(self-signed\?\): pass the CA with --ca FILE, or pin the certificate with --fingerprint/);
  });

  it('trusts the certificate given with --ca, and refuses one signed by another', async () => {
    const ok = await runCli(['--port', port, '--token', TOKEN, '--ca', certFile, 'snapshot', '-o', 'ca.jpg'], { cwd: tempDir() });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const other = await server({ tlsSelfSigned: true, tlsDir: tempDir('tls-other-') });
    expect(new X509Certificate(readFileSync(other.tls!.certPath)).fingerprint256).not.toBe(fingerprint);
    const bad = await runCli(['--port', port, '--token', TOKEN, '--ca', other.tls!.certPath, 'snapshot'], { cwd: tempDir() });
    expect(bad.code).toBe(6);
    expect(bad.stderr).toContain('its certificate is not signed by the CA given with --ca');
  });

  it('records over TLS', async () => {
    const r = await runCli(['--port', port, '--token', TOKEN, '--fingerprint', fingerprint, 'record', '--frames', '15', '--json', '-o', 'tls.avi'], {
      cwd: tempDir(),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ frames: 15, protocol: 'v2', stoppedBy: 'frames' });
  });

  it('relays the TLS stream in `view`', async () => {
    const run = spawnCli(['--port', port, '--token', TOKEN, '--fingerprint', fingerprint, 'view', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/[\d.:]+\/) \(relaying [\d.:]+, v2 protocol/);
    // 503 until the relay has its first frame: ask again until then.
    let res = await fetch(`${url}snapshot.jpg`);
    for (const until = Date.now() + 10_000; res.status === 503 && Date.now() < until; ) {
      await res.arrayBuffer();
      await sleep(100);
      res = await fetch(`${url}snapshot.jpg`);
    }
    expect(res.status).toBe(200);
    expect(readJpegInfo(Buffer.from(await res.arrayBuffer()))).toMatchObject({ width: 160, height: 120 });
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  });

  it('without --tls: --protocol v2 exits 3 suggesting --tls, and auto says so before it gives up', async () => {
    const v2 = await runCli(['--port', port, '--token', TOKEN, '--protocol', 'v2', 'snapshot'], { cwd: tempDir() });
    expect(v2.code).toBe(3);
    expect(v2.stderr).toMatch(/closed the connection before its v2 WELCOME; .* or one that needs TLS \(--tls\)/);
    const auto = await runCli(['--port', port, '--token', TOKEN, '--timeout', '2', 'snapshot'], { cwd: tempDir() });
    expect(auto.code).toBe(3);
    expect(auto.stderr).toContain('if the server uses TLS, add --tls or --fingerprint');
  });
});
