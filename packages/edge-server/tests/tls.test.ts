// TLS on both ports with a self-signed certificate: made on first start and kept on disk (the
// same fingerprint on the next start), served on the TCP port (v2 over TLS) and over HTTPS, and
// every file problem refused with a sentence naming the flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as tlsConnect } from 'node:tls';
import { ServerMessageDecoder, V2_MAGIC, encodeHello, type ServerMessage } from '@edgecam/protocol';
import { ConfigError } from '../src/config/config.js';
import { SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE } from '../src/tls/tls-material.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'edgecam-tls-'));
const servers: TestServer[] = [];

async function server(overrides: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer({ fps: 20, httpPort: 0, ...overrides });
  servers.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

/** HELLO over TLS, trusting only `ca`; resolves with the messages up to the WELCOME. */
function v2OverTls(port: number, ca: string, token?: string): Promise<ServerMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: ServerMessage[] = [];
    const decoder = new ServerMessageDecoder();
    const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      socket.write(Buffer.concat([V2_MAGIC, encodeHello({ client: 'vitest', ...(token ? { token } : {}) })]));
    });
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (m) => messages.push(m));
      if (messages.some((m) => m.type === 'welcome' || m.type === 'error')) {
        socket.destroy();
        resolve(messages);
      }
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('no answer over TLS')));
  });
}

function httpsGetBuffer(url: string, ca?: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpsGet(url, ca === undefined ? {} : { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('--tls-self-signed', () => {
  const dir = join(root, 'self-signed');
  let s: TestServer;
  let certPem: string;
  beforeAll(async () => {
    s = await server({ tlsSelfSigned: true, tlsDir: dir, token: 'tls-test-token-123' });
    certPem = readFileSync(join(dir, SELF_SIGNED_CERT_FILE), 'utf8');
  });

  it('makes a key (readable by the owner only) and a certificate on first start, and reports its fingerprint', () => {
    expect(s.tls).toMatchObject({ origin: 'created', certPath: join(dir, SELF_SIGNED_CERT_FILE) });
    expect(statSync(join(dir, SELF_SIGNED_KEY_FILE)).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(certPem);
    expect(s.tls!.fingerprint256).toBe(x509.fingerprint256);
    expect(s.tls!.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subjectAltName).toContain('DNS:localhost');
    // Valid for years: clients pin it, and a new one means re-pinning every client.
    expect(new Date(x509.validTo).getTime() - Date.now()).toBeGreaterThan(5 * 365 * 86_400_000);
  });

  it('serves v2 over TLS on the TCP port, to a client that trusts the certificate', async () => {
    const messages = await v2OverTls(s.tcpPort, certPem, 'tls-test-token-123');
    expect(messages[0]).toMatchObject({ type: 'welcome', welcome: { authRequired: true } });
  });

  it('still checks the token over TLS', async () => {
    const messages = await v2OverTls(s.tcpPort, certPem, 'not-the-token');
    expect(messages[0]).toMatchObject({ type: 'error', error: { code: 'UNAUTHORIZED' } });
  });

  it('gives a client that does not speak TLS nothing but a closed connection', async () => {
    const received = await new Promise<number>((resolve) => {
      let bytes = 0;
      const socket = netConnect({ host: '127.0.0.1', port: s.tcpPort }, () => {
        socket.write(Buffer.concat([V2_MAGIC, encodeHello({ token: 'tls-test-token-123' })]));
      });
      socket.on('data', (c: Buffer) => (bytes += c.length));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(bytes));
    });
    // Whatever the TLS layer answered (an alert at most), it was no WELCOME and no frame.
    expect(received).toBeLessThan(64);
  });

  it('serves a snapshot over HTTPS to a client that trusts the certificate as its CA', async () => {
    const res = await httpsGetBuffer(`https://127.0.0.1:${s.httpPort}/snapshot.jpg?token=tls-test-token-123`, certPem);
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/jpeg');
    expect(res.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('is refused by an HTTPS client that does not trust it', async () => {
    await expect(httpsGetBuffer(`https://127.0.0.1:${s.httpPort}/healthz`)).rejects.toThrow(/self[- ]signed/i);
  });

  it('reuses the same key and certificate on the next start: the same fingerprint', async () => {
    const again = await server({ tlsSelfSigned: true, tlsDir: dir });
    expect(again.tls).toMatchObject({ origin: 'reused', fingerprint256: s.tls!.fingerprint256 });
    expect(readFileSync(join(dir, SELF_SIGNED_CERT_FILE), 'utf8')).toBe(certPem);
  });

  it('serves its own files with --tls-cert and --tls-key', async () => {
    const own = await server({ tlsCert: join(dir, SELF_SIGNED_CERT_FILE), tlsKey: join(dir, SELF_SIGNED_KEY_FILE) });
    expect(own.tls).toMatchObject({ origin: 'files', fingerprint256: s.tls!.fingerprint256 });
    const messages = await v2OverTls(own.tcpPort, certPem);
    expect(messages[0]!.type).toBe('welcome');
  });
});

describe('connections that never finish a TLS handshake (--max-pending)', () => {
  it('are limited: the oldest is closed for a new one, and a real TLS client still gets in', async () => {
    const dir = join(root, 'handshakes');
    // All peers share 127.0.0.1: no per-address limit, so --max-pending alone is at work.
    const s = await server({ tlsSelfSigned: true, tlsDir: dir, token: 'tls-test-token-123', maxPending: 4, maxPerAddress: 0 });
    const certPem = readFileSync(join(dir, SELF_SIGNED_CERT_FILE), 'utf8');
    // Ten peers that connect and never send a ClientHello.
    const flood = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 20)); // in order, oldest first
        const peer = { closed: false };
        const socket = netConnect({ host: '127.0.0.1', port: s.tcpPort });
        socket.on('error', () => undefined);
        socket.on('close', () => (peer.closed = true));
        await new Promise((r) => socket.once('connect', r));
        return Object.assign(peer, { socket });
      }),
    );
    // Well before the 10 s handshake timeout, the six oldest are closed.
    await waitUntil(() => flood.filter((p) => p.closed).length >= 6, 3000, 'six closed handshakes');
    expect(flood.map((p) => p.closed)).toEqual([true, true, true, true, true, true, false, false, false, false]);
    expect(s.tcp.handshakingCount).toBe(4);

    const messages = await v2OverTls(s.tcpPort, certPem, 'tls-test-token-123');
    expect(messages[0]).toMatchObject({ type: 'welcome' });
    // The real client's handshake took the place of the oldest silent one and is counted no more.
    await waitUntil(() => flood[6]!.closed, 3000, 'the seventh closed handshake');
    expect(s.tcp.handshakingCount).toBe(3);
    for (const p of flood) p.socket.destroy();
    await waitUntil(() => s.tcp.handshakingCount === 0, 3000, 'no handshakes left');
  });
});

describe('TLS file problems', () => {
  async function refusal(overrides: Parameters<typeof startTestServer>[0]): Promise<string> {
    try {
      await server(overrides);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected the server to refuse to start');
  }

  it('names the flag and the file when a file cannot be read', async () => {
    const missing = join(root, 'nope.pem');
    expect(await refusal({ tlsCert: missing, tlsKey: missing })).toBe(`--tls-cert: cannot read ${missing}: no such file or directory`);
  });

  it('refuses a key that does not belong to the certificate, and a file that is no certificate', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await server({ tlsSelfSigned: true, tlsDir: a });
    await server({ tlsSelfSigned: true, tlsDir: b });
    const mismatch = await refusal({ tlsCert: join(a, SELF_SIGNED_CERT_FILE), tlsKey: join(b, SELF_SIGNED_KEY_FILE) });
    expect(mismatch).toMatch(/^--tls-cert and --tls-key: .*edgecam-key\.pem is not the private key of .*edgecam-cert\.pem/);
    const junk = join(root, 'junk.pem');
    writeFileSync(junk, 'hello\n');
    expect(await refusal({ tlsCert: junk, tlsKey: join(a, SELF_SIGNED_KEY_FILE) })).toMatch(/junk\.pem is not a PEM certificate/);
  });

  it('never overwrites half of a pair left in --tls-dir', async () => {
    const half = join(root, 'half');
    await server({ tlsSelfSigned: true, tlsDir: half });
    rmSync(join(half, SELF_SIGNED_CERT_FILE));
    const message = await refusal({ tlsSelfSigned: true, tlsDir: half });
    expect(message).toMatch(/edgecam-key\.pem exists but .*edgecam-cert\.pem does not; restore it, or delete/);
    expect(existsSync(join(half, SELF_SIGNED_CERT_FILE))).toBe(false);
  });
});

describe('the edgecam-server command with --tls-self-signed', () => {
  it('prints the certificate fingerprint in its banner', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
    const dir = join(root, 'banner');
    const child = spawn(
      process.execPath,
      [cli, '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--tls-self-signed', '--tls-dir', dir, '--token', 'banner-token-123456', '--allow-legacy'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    try {
      await waitUntil(() => stderr.includes('Access:'), 15_000, 'the banner');
    } finally {
      child.kill('SIGTERM');
    }
    await new Promise((r) => child.once('exit', r));
    const fingerprint = new X509Certificate(readFileSync(join(dir, SELF_SIGNED_CERT_FILE))).fingerprint256;
    expect(stderr).toContain(`TLS fingerprint (SHA-256): ${fingerprint}`);
    expect(stderr).toMatch(/TCP .*tls:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toMatch(/HTTP .*https:\/\/127\.0\.0\.1:\d+\//);
    expect(stderr).toContain('legacy clients can connect without a token');
  });
});
